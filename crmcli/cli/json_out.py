"""``--format json`` of the commands that change customers (status, log, edit): the changed
record(s) in the shape of ``crm show --format json``, so a script needs no second call."""

from typing import Annotated, Any

import typer

from .common import h, state

ChangeFormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", case_sensitive=False,
        help=h("text, or json: the changed customer(s) as crm show --format json prints them, messages on stderr",
               "输出格式：text，或 json（按 crm show --format json 的形式输出修改后的客户，消息写到标准错误）"),
    ),
]


def check(fmt: str) -> str:
    from .common import check_format

    return check_format(fmt, ("text", "json"))


def record_data(record: dict[str, Any], opts: Any, reveal: bool) -> dict[str, Any]:
    """One customer exactly as ``crm show --format json`` prints it."""
    from .. import contacts, render, tags

    st = state()
    conn = st.store().conn
    return {
        **render.customer_machine(record, opts, st.lang, reveal),
        "tags": tags.for_customer(conn, record["id"]),
        "contacts": [contacts.public(c, reveal) for c in contacts.list_for(conn, record["id"])],
    }


def emit(customer_ids: list[str], opts: Any, reveal: bool, command: str, *, several: bool) -> None:
    """Print the customers' current records: one object, or an array when several IDs were given.
    ``--reveal`` is audited before any phone is shown, as everywhere."""
    import json

    from .. import customers, render

    store = state().store()
    if reveal:
        from .. import audit

        audit.reveal_ids(store, customer_ids, f"{command} --reveal")
    data = [record_data(customers.get(store.conn, cid), opts, reveal) for cid in customer_ids]
    out = data if several else data[0]
    typer.echo(render.safe_json(json.dumps(out, ensure_ascii=False, indent=2)))
