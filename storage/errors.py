"""The one error type the store raises for a store it cannot use, phrased for the operator."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be opened or used; the message names the file and says what to do."""
