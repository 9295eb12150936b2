"""The one clock. Code that needs the time takes a :data:`Clock` (tests pass their own); only
:func:`utc_now` reads the wall clock, so a test clock governs every timestamp, the store's
included: this is the store's own clock (:mod:`storage.clock`), which the bot shares."""

from __future__ import annotations

from storage.clock import Clock, iso_seconds, utc_now

__all__ = ["Clock", "iso_seconds", "utc_now"]
