"""Migration 006 (phones re-normalised by libphonenumber) and ``crm doctor phones``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crmcli import migrations
from crmcli.migrations import m006_phones_by_libphonenumber

from .conftest import add_args

OLD_NUMBER = migrations.MIGRATIONS.index(m006_phones_by_libphonenumber)  # migrations before 006

# Phones as the hand-written rules stored them, with the keys they computed.
LEGACY = {
    "XS2024001": ("13812345678", "13812345678"),  # fine: only its key changes
    "XS2024002": ("010-62345678-123", "01062345678"),  # extension: re-normalised
    "XS2024003": ("+1-813-324-8756", "18133248756"),  # kept as typed before: re-normalised
    "XS2024004": ("(496)978-3969x58947", "4969783969"),  # no such area code: kept, listed
    "XS2024005": ("14012345678", "14012345678"),  # unassigned prefix: kept, listed
    "XS2024006": ("0044 20 7946 0958", "442079460958"),  # re-normalised
    "XS2024007": ("027-609-6460", "0276096460"),  # a North-American number written without +1: kept, listed
}


def legacy_database(crm, db: Path) -> None:
    """The customers of a database before migration 006: old stored phones and keys."""
    for n, (customer_id, _) in enumerate(LEGACY.items()):
        crm.ok(*add_args(id=customer_id, name=f"公司{n}", phone="13912345678"))
    conn = sqlite3.connect(db)
    with conn:
        for customer_id, (phone, key) in LEGACY.items():
            conn.execute("UPDATE customers SET phone = ?, phone_key = ? WHERE id = ?", (phone, key, customer_id))
    conn.close()


def migrate_006(db: Path) -> None:
    """Run migration 006 as migrations.apply does (in one write transaction). The later
    migrations are not all repeatable, so the database is not wound back to before 006."""
    from sqlite_utils import Database

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    m006_phones_by_libphonenumber(Database(conn))
    conn.execute("COMMIT")
    conn.close()


def test_006_is_a_migration() -> None:
    assert m006_phones_by_libphonenumber in migrations.MIGRATIONS
    assert OLD_NUMBER >= 5  # after the five migrations before it


def rows(db: Path) -> dict[str, tuple[str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in conn.execute("SELECT id, phone, phone_key, version FROM customers")}
    finally:
        conn.close()


def test_migration_renormalises_and_keeps_what_no_longer_validates(crm, isolated_env: Path) -> None:
    legacy_database(crm, isolated_env)
    before = rows(isolated_env)
    migrate_006(isolated_env)
    after = rows(isolated_env)
    conn = sqlite3.connect(isolated_env)
    assert after["XS2024001"] == ("13812345678", "+8613812345678", before["XS2024001"][2])
    assert after["XS2024002"] == ("010-62345678转123", "+861062345678;ext=123", before["XS2024002"][2] + 1)
    assert after["XS2024003"] == ("+1 813-324-8756", "+18133248756", before["XS2024003"][2] + 1)
    assert after["XS2024006"] == ("+44 20 7946 0958", "+442079460958", before["XS2024006"][2] + 1)
    for kept in ("XS2024004", "XS2024005", "XS2024007"):  # never changed silently
        assert after[kept][0] == LEGACY[kept][0] and after[kept][2] == before[kept][2]
        assert not after[kept][1].startswith("+")  # keyed by its digits: matches no valid number
    audit = conn.execute(
        "SELECT customer_id, field, old, new FROM audit_log WHERE command = 'migrate 006' ORDER BY customer_id"
    ).fetchall()
    assert audit == [
        ("XS2024002", "phone", "010-62345678-123", "010-62345678转123"),
        ("XS2024003", "phone", "+1-813-324-8756", "+1 813-324-8756"),
        ("XS2024006", "phone", "0044 20 7946 0958", "+44 20 7946 0958"),
    ]
    conn.close()
    # the new keys find duplicates written another way
    result = crm(*add_args(name="重复", phone="+86 (0)10 6234 5678 转 123"))
    assert result.exit_code == 0 and "XS2024002 has the same phone" in result.stderr


def test_doctor_phones_lists_what_the_migration_kept(crm, isolated_env: Path) -> None:
    legacy_database(crm, isolated_env)
    migrate_006(isolated_env)
    result = crm("doctor", "phones", "--format", "json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [r["id"] for r in listed] == ["XS2024004", "XS2024005", "XS2024007"]
    by_id = {r["id"]: r for r in listed}
    assert by_id["XS2024004"]["phone"] == "(49*)***-*969x*****"  # masked
    assert by_id["XS2024005"]["problem"] == "is not a valid Chinese mobile number: the prefix 140 is not assigned"
    assert by_id["XS2024005"]["fix"] == "crm edit XS2024005 --phone 'THE RIGHT NUMBER'"
    assert all("*" in r["phone"] for r in listed)
    assert "13812345678" not in result.stdout and "3969" not in by_id["XS2024004"]["fix"]

    assert crm("doctor", "phones", "--exit-code").exit_code == 1
    table = crm("doctor", "phones")
    assert "XS2024005" in table.stdout and "crm edit XS2024005 --phone" in table.stdout
    assert "3 phones to fix (phone region CN)" in table.stderr
    zh = crm("--lang", "zh", "doctor", "phones")
    assert "号段 140 未分配" in zh.stdout and "正确的号码" in zh.stdout

    # fixed as the command says, the customer is no longer listed
    crm.ok("edit", "XS2024005", "--phone", "14512345678")
    crm.ok("edit", "XS2024004", "--phone", "+1 406-714-6467 x58947")
    left = json.loads(crm.ok("doctor", "phones", "--format", "json"))
    assert [r["id"] for r in left] == ["XS2024007"]


def test_doctor_phones_suggests_the_number_in_another_region(crm, isolated_env: Path) -> None:
    crm.ok(*add_args(id="XS2024001"))
    conn = sqlite3.connect(isolated_env)
    with conn:  # written behind crm's back, as the sqlite3 shell would
        conn.execute("UPDATE customers SET phone = '1-406-714-6467' WHERE id = 'XS2024001'")
    conn.close()
    masked = json.loads(crm.ok("doctor", "phones", "--format", "json"))
    assert masked[0]["fix"] == "crm edit XS2024001 --phone '+1 40*-***-6467'"
    revealed = json.loads(crm.ok("doctor", "phones", "--format", "json", "--reveal"))
    assert revealed[0]["fix"] == "crm edit XS2024001 --phone '+1 406-714-6467'"
    assert revealed[0]["phone"] == "1-406-714-6467"
    conn = sqlite3.connect(isolated_env)
    audited = conn.execute("SELECT customer_id, new FROM audit_log WHERE command = 'doctor phones --reveal'").fetchall()
    conn.close()
    assert audited == [("XS2024001", "revealed")]  # the reveal is audited, the masked listing is not


def test_doctor_phones_lists_a_valid_phone_not_in_its_stored_form(crm, isolated_env: Path) -> None:
    crm.ok(*add_args(id="XS2024001"))
    conn = sqlite3.connect(isolated_env)
    with conn:
        conn.execute("UPDATE customers SET phone = '138 1234 5678' WHERE id = 'XS2024001'")
    conn.close()
    listed = json.loads(crm.ok("doctor", "phones", "--format", "json", "--reveal"))
    assert listed[0]["reason"] == "phone_not_normalised"
    assert listed[0]["fix"] == "crm edit XS2024001 --phone '13812345678'"


def test_doctor_phones_with_nothing_to_fix(crm) -> None:
    crm.ok(*add_args())
    result = crm("doctor", "phones", "--exit-code")
    assert result.exit_code == 0 and result.stdout == ""
    assert "Every stored phone validates." in result.stderr
    assert json.loads(crm.ok("doctor", "phones", "--format", "json")) == []


@pytest.mark.parametrize("region", ["US"])
def test_migration_uses_the_configured_region(crm, isolated_env: Path, region: str) -> None:
    legacy_database(crm, isolated_env)
    conn = sqlite3.connect(isolated_env)
    with conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('phone-region', ?)", (region,))
    conn.close()
    migrate_006(isolated_env)
    after = rows(isolated_env)
    assert after["XS2024001"][0] == "13812345678"  # the Chinese stored form reads as itself
    assert after["XS2024005"][0] == "14012345678"  # what the old rules stored as Chinese stays Chinese: kept
    assert after["XS2024003"][0] == "+1 813-324-8756"
