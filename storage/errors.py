"""The one error type the store raises for a store it cannot use, phrased for the operator.

What is wrapped, and why
------------------------
A :class:`StoreError` means "the operator has to do something": its message names the store's
path (absolute, so a wrong folder shows) and says what, and the command line prints it as one
line. It is raised

* before a store is opened, when the file is not (or cannot become) a Paperboy store
  (:mod:`storage.sqlite_file`), or a newer Paperboy wrote it; nothing is written then;
* when opening or migrating fails in SQLite for any reason;
* when a store method meets a database error the code cannot fix and the operator can: the
  database stayed locked past the busy timeout (``SQLITE_BUSY``/``SQLITE_LOCKED``: a second
  writer, a stuck backup tool), ``disk I/O error`` (``SQLITE_IOERR``), ``database or disk is
  full`` (``SQLITE_FULL``), ``attempt to write a readonly database`` (``SQLITE_READONLY``,
  ``SQLITE_PERM``), a file that can no longer be opened (``SQLITE_CANTOPEN``), a damaged file
  (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``), WAL locking that the file system does not support
  (``SQLITE_PROTOCOL``), no memory (``SQLITE_NOMEM``), or a file system without large files
  (``SQLITE_NOLFS``). The SQLite error is kept as ``__cause__`` for the log.

What is not wrapped
-------------------
Programming errors stay what they are, with their tracebacks: a constraint the code broke
(``sqlite3.IntegrityError``, e.g. a topic for a channel that does not exist -- callers and tests
rely on it, and a bug should not be dressed up as an operator's problem), SQL the code got wrong
(``SQLITE_ERROR``: syntax, no such column), a wrong parameter (``SQLITE_RANGE``,
``SQLITE_MISMATCH``), or use of a closed store (``sqlite3.ProgrammingError``). Retrying or
moving the file would not help with those; fixing the code would.

The sorting is done once, by the primary SQLite result code (``sqlite_errorcode``), in the
SQLite store's base: its transaction helper, its read helpers and its backup
(:mod:`storage.sqlite.base`); no store method catches database errors itself.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be opened or used; the message names the file and says what to do."""
