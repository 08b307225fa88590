"""Inventory pages filtered and counted in SQL, on SQLite and PostgreSQL, and the write
counter every change raises."""

from __future__ import annotations

import datetime as dt

from custos.inventory.documents import Document
from custos.store import Store, auth_store, inventory_store

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _fill(store: Store) -> None:
    with auth_store.transaction(store) as conn:
        for n in range(7):
            body = {"id": f"s{n}", "lifecycle": "production" if n % 2 else "design"}
            inventory_store.put(
                conn, Document("system", f"s{n}", body), source="server", now=NOW, actor="t"
            )
        for n in range(3):
            doc = Document("asset", f"a{n}", {"id": f"a{n}", "kind": "model"}, system="s1")
            inventory_store.put(conn, doc, source="server", now=NOW, actor="t")


def test_a_page_is_filtered_and_counted_in_the_database(store: Store) -> None:
    _fill(store)
    with auth_store.transaction(store) as conn:
        first, total = inventory_store.page(conn, "system", limit=3, offset=0)
        assert [i.document.key for i in first] == ["s0", "s1", "s2"]
        assert total == 7
        last, total = inventory_store.page(conn, "system", limit=3, offset=6)
        assert [i.document.key for i in last] == ["s6"]
        assert total == 7
        beyond, total = inventory_store.page(conn, "system", limit=3, offset=50)
        assert beyond == []
        assert total == 7
        mine, total = inventory_store.page(
            conn, "system", limit=10, offset=0, keys={"s1", "s2", "nope"}
        )
        assert [i.document.key for i in mine] == ["s1", "s2"]
        assert total == 2
        live, total = inventory_store.page(
            conn, "system", limit=10, offset=0, fields={"lifecycle": "production"}
        )
        assert [i.document.key for i in live] == ["s1", "s3", "s5"]
        assert total == 3
        assets, total = inventory_store.page(conn, "asset", limit=10, offset=0, system="s1")
        assert total == 3
        assert all(i.document.system == "s1" for i in assets)
        none, total = inventory_store.page(conn, "asset", limit=10, offset=0, keys=set())
        assert none == []
        assert total == 0
        assert inventory_store.owners(conn, "asset") == {"a0": "s1", "a1": "s1", "a2": "s1"}


def test_every_write_raises_the_generation(store: Store) -> None:
    with auth_store.transaction(store) as conn:
        start = inventory_store.generation(conn)
    _fill(store)
    with auth_store.transaction(store) as conn:
        filled = inventory_store.generation(conn)
        assert filled > start
        inventory_store.remove(conn, [("system", "s0")])
        removed = inventory_store.generation(conn)
        assert removed > filled
        inventory_store.remove(conn, [("system", "not-there")])
        assert inventory_store.generation(conn) == removed  # nothing changed
