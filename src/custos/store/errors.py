"""The store's errors, and the one place where database errors become them.

    CustosError
    +-- StoreError              a database operation failed (exit 3)
    |   +-- StoreUnavailable    cannot connect: the message names the URL and what to check
    |   +-- StoreNotMigrated    the schema is missing or older/newer than this Custos
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
        lost = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
        if connecting or lost:
            raise unavailable(shown_url, exc) from exc
        raise StoreError(
            f"database error at {shown_url}: {_detail(exc)}; nothing was changed"
        ) from exc
