"""crm search through the full-text index finds exactly what the LIKE scan finds."""

from __future__ import annotations

import random
import sqlite3

import pytest

from crmcli import migrations, query, search_index
from crmcli.storage import open_store

WORDS = [
    "采购", "采购经理", "办公设备", "报价", "价格", "合同", "冷链物流", "华", "服务", "系统", "ERP", "CDN", "crm",
    "Office", "office", "Supply", "chain", "50%", "x_y", 'say "hi"', "a*b", "OR", "NEAR", "AND", "-", "(括号)",
    "Über", "über", "ÉCOLE", "école", "İstanbul", "ǅemal", "ß", "\\", "'", "：", "，",
]
TERMS = [
    "采购", "采", "购经", "办公设备", "报价", "华", "ERP", "erp", "Er", "cdn", "C", "office", "OFFICE", "Supply chain",
    "%", "_", "50%", "x_y", '"', '"hi"', "*", "a*", "OR", "or", "NEAR", "AND", "-", "(", "(括号)", "über", "Über",
    "ÜBER", "éc", "ÉC", "É", "İs", "is", "ǅe", "ß", "ss", "\\", "'", "：", "价格 合同", "备\n", "服务系统", "zz",
]


def sentence(rng: random.Random) -> str | None:
    if rng.random() < 0.15:
        return None
    return "".join(rng.choice(WORDS) + rng.choice(["", " ", "，"]) for _ in range(rng.randint(1, 4)))


@pytest.fixture
def conn(isolated_env):
    store = open_store(isolated_env)
    c = store.conn
    rng = random.Random(7)
    text_cols = ("name", "contact", "title", "needs", "notes", "followup", "next_step", "product", "address")
    with store.write():
        # Raw SQL, as a sqlite3-shell user or a bulk loader would write: the triggers keep up.
        for i in range(3000):
            values = {col: sentence(rng) for col in text_cols}
            values["name"] = values["name"] or f"公司{i}"
            c.execute(
                f"INSERT INTO customers (id, {', '.join(text_cols)}, status, archived, version, created_at, updated_at) "
                f"VALUES (?, {', '.join('?' * len(text_cols))}, 'potential', ?, 1, 'x', 'x')",
                [f"T{i:05d}", *values.values(), int(rng.random() < 0.1)],
            )
        for i in range(6000):
            c.execute(
                "INSERT INTO followups (customer_id, date, content, result, next_step, created_at) VALUES (?, 'd', ?, ?, ?, 'x')",
                (f"T{rng.randrange(3000):05d}", sentence(rng) or "跟进", sentence(rng), sentence(rng)),
            )
        # Updates and deletes go through the triggers too.
        for i in range(0, 3000, 7):
            c.execute("UPDATE customers SET needs = ?, notes = NULL WHERE id = ?", (sentence(rng), f"T{i:05d}"))
        c.execute("UPDATE customers SET status = 'active' WHERE rowid % 5 = 0")
        c.execute("UPDATE followups SET content = content || '采购' WHERE id % 11 = 0")
        c.execute("DELETE FROM followups WHERE id % 13 = 0")
        c.execute("DELETE FROM followups WHERE customer_id IN (SELECT id FROM customers WHERE rowid % 17 = 0)")
        c.execute("DELETE FROM customers WHERE rowid % 17 = 0")
    yield c
    store.close()


def ids(conn: sqlite3.Connection, term: str, indexed: bool, archived: str = "all") -> list[str]:
    clause, params = query.text_match(term, indexed=indexed)
    where = {"all": "1", "exclude": "archived = 0"}[archived]
    return [r[0] for r in conn.execute(f"SELECT id FROM customers WHERE {where} AND {clause} ORDER BY id", params)]


@pytest.mark.parametrize("term", TERMS)
def test_the_index_finds_what_like_finds(conn, term):
    assert ids(conn, term, True) == ids(conn, term, False)


def test_the_generated_terms_do_match_something(conn):
    assert len(ids(conn, "采购", True)) > 100 and ids(conn, "office", True) and ids(conn, "50%", True)
    assert ids(conn, "zz", True) == []


def test_the_index_is_consistent_after_every_writer(conn):
    conn.execute(f"INSERT INTO {search_index.CUSTOMER_TABLE} ({search_index.CUSTOMER_TABLE}) VALUES ('integrity-check')")
    conn.execute(f"INSERT INTO {search_index.FOLLOWUP_TABLE} ({search_index.FOLLOWUP_TABLE}) VALUES ('integrity-check')")


def test_rebuild_gives_the_same_answers(conn):
    before = {t: ids(conn, t, True) for t in ("采购", "office", "华", "x_y")}
    conn.execute("BEGIN IMMEDIATE")
    search_index.rebuild(conn)
    conn.execute("COMMIT")
    assert {t: ids(conn, t, True) for t in before} == before


def test_custom_text_fields_are_searched(crm, add):
    crm.ok("fields", "add", "wechat_note", "--type", "text", "--label-zh", "微信备注", "--label-en", "WeChat note")
    first = add()
    second = add(name="另一家公司", phone="13912345678", needs="维修")
    crm.ok("edit", second, "--set", "wechat_note=喜欢喝茶的客户")
    assert crm.ok("search", "喝茶", "--format", "ids").split() == [second]
    assert crm.ok("search", "喝", "--format", "ids").split() == [second]
    assert first not in crm.ok("search", "茶的", "--format", "ids").split()


def test_phones_and_emails_by_their_whole_key_only(crm, add):
    one = add(phone="13812345678", email="Wang@Example.COM")
    add(name="别家", phone="13987654321", needs="维修")
    assert crm.ok("search", "138 1234 5678", "--format", "ids").split() == [one]
    assert crm.ok("search", "+86 13812345678", "--format", "ids").split() == [one]
    assert crm.ok("search", "Wang@example.com", "--format", "ids").split() == [one]
    for fragment in ("1381234", "5678", "138****5678", "example.com", "Wang"):
        assert crm.ok("search", fragment, "--format", "ids").split() == [], fragment


def test_the_migration_indexes_an_existing_database(crm, add, isolated_env):
    from sqlite_utils import Database

    kept = add(needs="需要采购一批服务器")
    with open_store(isolated_env) as store:
        c = store.conn
        for name in ("customers_fts_ai", "customers_fts_ad", "customers_fts_au", "followups_fts_ai",
                     "followups_fts_ad", "followups_fts_au"):
            c.execute(f"DROP TRIGGER {name}")
        for table in ("customer_fts_terms", "followup_fts_terms", "customer_fts", "followup_fts"):
            c.execute(f"DROP TABLE {table}")
        assert not search_index.exists(c)
        # A database from before the index still answers (by the scan) ...
        assert crm.ok("search", "采购", "--format", "ids").split() == [kept]
        with store.write():
            migrations.m009_search_index(Database(c))
        assert search_index.exists(c)
        assert c.execute("SELECT count(*) FROM customer_fts WHERE customer_fts MATCH '\"服务器\"'").fetchone()[0] == 1
    # ... and after the migration through the index.
    assert crm.ok("search", "采购", "--format", "ids").split() == [kept]


def test_the_migration_shows_progress_on_a_terminal_for_large_databases(monkeypatch, capsys):
    monkeypatch.setattr(search_index.sys.stderr, "isatty", lambda: True, raising=False)
    report = search_index.stderr_progress("building the search index", min_rows=10)
    assert report is not None
    report(5, 20)
    report(20, 20)
    assert "building the search index: 5/20 (25%)" in capsys.readouterr().err
    assert search_index.stderr_progress("x") is not None


def test_search_counts_in_the_same_pass(crm, add):
    for i in range(3):
        add(name=f"公司{i}", phone=f"1391234567{i}")
    out = crm("search", "采购", "--limit", "2")
    assert out.exit_code == 0 and "2 of 3 shown" in out.stderr


def test_a_restored_backup_searches_like_the_original(crm, add, tmp_path):
    """Restore copies rows into fresh tables; the index must still point at the right customers."""
    gone = add(name="先删除的公司", needs="维修")
    kept = [add(name=f"公司{i}", phone=f"1391234567{i}", needs=f"采购{i}号设备") for i in range(3)]
    crm.ok("delete", gone, "--yes")  # a gap in the rowids
    path = crm.ok("backup", str(tmp_path / "bk")).strip()
    add(name="后来的公司", phone="13700000000", needs="采购别的")
    assert crm("backup", "restore", path, "--yes").exit_code == 0
    assert crm.ok("search", "采购", "--format", "ids").split() == kept
    assert crm.ok("search", "采购1号", "--format", "ids").split() == [kept[1]]
    assert crm.ok("search", "采购", "--format", "ids").split() == sorted(
        crm.ok("list", "--where", "needs~采购", "--format", "ids").split()
    )


def _writes(c: sqlite3.Connection, rng: random.Random, start: int) -> None:
    """Inserts, then updates and deletes of both older and just-inserted rows."""
    for i in range(start, start + 400):
        c.execute(
            "INSERT INTO customers (id, name, needs, status, archived, version, created_at, updated_at) "
            "VALUES (?, ?, ?, 'potential', 0, 1, 'x', 'x')",
            (f"T{i:05d}", sentence(rng) or f"公司{i}", sentence(rng)),
        )
        c.execute(
            "INSERT INTO followups (customer_id, date, content, created_at) VALUES (?, 'd', ?, 'x')",
            (f"T{i:05d}", sentence(rng) or "跟进"),
        )
    for i in range(0, start + 400, 9):  # old and new rows alike
        c.execute("UPDATE customers SET notes = ? WHERE id = ?", (sentence(rng), f"T{i:05d}"))
    c.execute("UPDATE followups SET content = content || '报价' WHERE id % 7 = 0")  # old and new follow-ups
    c.execute("DELETE FROM followups WHERE id % 19 = 0")
    c.execute("DELETE FROM followups WHERE customer_id IN (SELECT id FROM customers WHERE rowid % 23 = 0)")
    c.execute("DELETE FROM customers WHERE rowid % 23 = 0")


def test_deferred_indexing_of_a_batch_finds_what_like_finds(conn):
    conn.execute("BEGIN IMMEDIATE")
    with search_index.deferred(conn):
        _writes(conn, random.Random(11), 3000)
    conn.execute("COMMIT")
    for term in TERMS:
        assert ids(conn, term, True) == ids(conn, term, False), term
    test_the_index_is_consistent_after_every_writer(conn)
    # the ordinary triggers are back: a later raw insert is found
    conn.execute(
        "INSERT INTO customers (id, name, status, archived, version, created_at, updated_at) "
        "VALUES ('Z1', '独一无二的名字', 'potential', 0, 1, 'x', 'x')"
    )
    assert ids(conn, "独一无二", True) == ["Z1"]


def test_a_failed_batch_leaves_the_triggers_as_they_were(conn):
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(RuntimeError), search_index.deferred(conn):
        _writes(conn, random.Random(3), 3000)
        raise RuntimeError("a refused row")
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall() == triggers
    for term in ("采购", "office", "报价"):
        assert ids(conn, term, True) == ids(conn, term, False)


def test_an_import_with_updates_keeps_the_index_exact(crm, add, tmp_path, isolated_env):
    first = add(needs="旧的需求描述")
    rows = [
        "id,name,contact,phone,source,needs,owner",
        f"{first},上海明达制造有限公司,王强,13812345678,online,新的冷链物流需求,张经理",
        ",北京新客户有限公司,李四,13912345678,online,采购办公设备,张经理",
        ",北京新客户有限公司,李四,13912345678,online,改为服务器采购,张经理",
    ]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    crm.ok("import", str(path), "--on-duplicate", "update")
    c = sqlite3.connect(isolated_env)
    for term in ("旧的", "冷链物流", "办公设备", "服务器", "采购", "北京新客户"):
        assert ids(c, term, True) == ids(c, term, False), term
    assert ids(c, "冷链物流", True) == [first] and ids(c, "旧的", True) == []
