"""The store's errors, and the one place where database errors become them.

    CustosError
    +-- StoreError              a database operation failed (exit 3)
    |   +-- StoreUnavailable    cannot connect: the message names the URL and what to check
    |   +-- StoreNotMigrated    the schema is missing or older/newer than this Custos
    |   +-- UnstorableText      text the database cannot hold (NUL, unpaired surrogate); exit 2
    +-- UserError
        +-- DatabaseUrlError    the URL itself is malformed or names an unsupported database

Messages name the database by its URL with the password removed and never quote SQL parameters,
so neither secrets nor stored data leak into terminals or logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from custos.errors import CustosError, UserError


class StoreError(CustosError):
    """A database operation failed; nothing of that operation was kept."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class StoreNotMigrated(StoreError):
    """The database schema is not the one this version of Custos expects."""


class UnstorableText(StoreError):
    """A value holds text no database can keep as text: a NUL character (PostgreSQL refuses
    it) or an unpaired UTF-16 surrogate (not encodable as UTF-8). The caller's input is wrong,
    not the database: exit 2 on the command line, 422 from the server."""

    exit_code = UserError.exit_code


class DatabaseUrlError(UserError):
    """The database URL is malformed or names a database Custos does not support."""


def _detail(exc: BaseException) -> str:
    """The first line of the underlying error: never the SQL statement or its parameters."""
    cause = exc.orig if isinstance(exc, sa_exc.StatementError) and exc.orig else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def unavailable(shown_url: str, exc: BaseException) -> StoreUnavailable:
    detail = _detail(exc)
    if shown_url.startswith("sqlite"):
        hint = "check that the directory exists and is writable"
    else:
        hint = "check that the server runs, the host and port, and that the user may log in"
    return StoreUnavailable(f"cannot open the database at {shown_url}: {detail}; {hint}")


@contextmanager
def map_store_errors(shown_url: str, *, connecting: bool = False) -> Iterator[None]:
    """Turn SQLAlchemy and driver errors into StoreError subclasses (`raise ... from`).

    `connecting` marks the block that opens a connection: any failure there means the database
    is unavailable, whereas later an OperationalError can be a lock or a full disk.
    """
    try:
        yield
    except StoreError:
        raise
    except sa_exc.SQLAlchemyError as exc:
        if _unstorable(exc):
            raise UnstorableText(
                "a value holds a NUL character or an unpaired surrogate, which cannot be stored "
                "as text; nothing was changed"
            ) from exc
        lost = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
        if connecting or lost:
            raise unavailable(shown_url, exc) from exc
        raise StoreError(
            f"database error at {shown_url}: {_detail(exc)}; nothing was changed"
        ) from exc


def _unstorable(exc: sa_exc.SQLAlchemyError) -> bool:
    """The driver refused a parameter's text (raised before the statement reached the database,
    or PostgreSQL's NUL refusal): the same input fails on every retry."""
    cause = exc.orig if isinstance(exc, sa_exc.StatementError) else None
    if isinstance(cause, UnicodeEncodeError):
        return True
    return isinstance(exc, sa_exc.DataError) and "NUL" in str(cause)
