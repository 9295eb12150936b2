"""The one error a user may see: its message says what went wrong and what to do instead.

Everything a person can get wrong (a topic, a lookup, an import file, a schedule) raises a
:class:`UserError` subclass; the Discord side answers any of them ephemerally with its message,
for slash commands and component callbacks alike, and the command line prints it on one line.
Anything else is a bug: logged with its traceback, answered with an apology.
"""

from __future__ import annotations


class UserError(Exception):
    """Something asked that cannot be done; ``str(error)`` is the message for the person."""
