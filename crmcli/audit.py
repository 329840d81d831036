"""The audit trail beyond field changes: who saw unmasked phone numbers, when, with which command.

Field changes are written by :func:`crmcli.customers.update` (one ``audit_log`` row per changed
field). A ``--reveal`` writes one row per customer whose phone was shown unmasked, with field
``*`` and new value ``revealed`` (like ``created`` and ``deleted``), so ``crm history ID`` lists it.
The rows are written *before* anything is shown: a reveal that cannot be recorded (a read-only
database, say) fails instead of showing the numbers unrecorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import clock, config
from .storage import Store

REVEALED = "revealed"


def record_reveal(store: Store, customer_ids: Iterable[str], command: str, *, user: str | None = None) -> int:
    """Record that ``command`` showed these customers' phones unmasked. Returns the rows written."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    who = user or clock.current_user(config.all_values(store).get("user", ""))
    stamp = clock.now_utc()
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO audit_log (customer_id, at, by, command, field, old, new) VALUES (?, ?, ?, ?, '*', NULL, ?)",
            ((cid, stamp, who, command, REVEALED) for cid in ids),
        )
    return len(ids)


def reveals(store: Store, customer_id: str) -> list[tuple[str, str, str]]:
    """(at, by, command) of each reveal of one customer, oldest first."""
    return store.conn.execute(
        'SELECT at, "by", command FROM audit_log WHERE customer_id = ? AND field = ? AND new = ? ORDER BY id',
        (customer_id, "*", REVEALED),
    ).fetchall()
