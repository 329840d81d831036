"""``crm edit ID`` without field options: the record in ``$EDITOR``, saved only if nobody changed it meanwhile."""


import sys

import typer

from .. import i18n
from ..errors import Conflict, UsageError
from .common import describe_error, err, h, state


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _with_error(text: str, message: str) -> str:
    """The user's edited text again, with the error on top (an earlier error replaced)."""
    kept = [line for line in text.splitlines() if not line.startswith("# ERROR:")]
    while kept and kept[0] == "#":
        kept.pop(0)
    return "\n".join([*(f"# ERROR: {line}" for line in message.splitlines()), "#", *kept]) + "\n"


def edit_in_editor(customer_id: str) -> None:
    from .. import customers, editing, options

    st = state()
    store = st.store()
    editing.editor_command()  # a missing $EDITOR is reported before anything else happens
    opts = options.load(store)
    record = customers.get(store.conn, customer_id)
    baseline = editing.values_for(record, opts, st.lang)
    text = editing.render(record, opts, st.lang)
    ctx = customers.Context.load(store, "edit")
    while True:
        edited = editing.run_editor(text)
        try:
            parsed = editing.parse(edited)
            if parsed is None:
                err(i18n.message("aborted", st.lang))
                raise typer.Exit(1)
            changes = editing.diff(baseline, parsed)
            if not changes:
                typer.echo(i18n.message("unchanged", st.lang, id=record["id"]))
                return
            saved, changed = customers.edit(
                store, record["id"], changes, ctx, opts, expected_version=record["version"]
            )
            break
        except Conflict:
            raise _conflict(store, record, baseline, changes, opts, st.lang) from None
        except UsageError as exc:
            message = describe_error(exc, st.lang)
            if not _interactive():
                raise
            err(f"{i18n.message('error', st.lang)}: {message}")
            from .common import confirm

            if not confirm(h("Edit again?", "重新编辑？"), default=True):
                err(i18n.message("aborted", st.lang))
                raise typer.Exit(1) from None
            text = _with_error(edited, message)
    for warning in ctx.warnings:
        err(warning)
    if changed:
        typer.echo(i18n.message("updated", st.lang, id=saved["id"], fields=", ".join(changed)))
    else:
        typer.echo(i18n.message("unchanged", st.lang, id=saved["id"]))


def _conflict(store, record, baseline, changes, opts, lang: str) -> Conflict:  # type: ignore[no-untyped-def]
    """Name what the other person changed, and what of ours was not saved."""
    from .. import customers, editing

    current = customers.get(store.conn, record["id"])
    now = editing.values_for(current, opts, lang)
    theirs = [f"{k} ({baseline[k] or '—'} → {now[k] or '—'})" for k in editing.EDITABLE if baseline[k] != now[k]]
    mine = [f"{k}: {'…' if k == 'phone' and v else v if v is not None else '—'}" for k, v in changes.items()]
    both = [k for k in changes if baseline.get(k) != now.get(k)]
    text = h(
        f"{record['id']} was changed by someone else while you edited it (version {record['version']} → "
        f"{current['version']}): {'; '.join(theirs) or 'no visible field'}. Nothing was saved."
        + (f" Both of you changed: {', '.join(both)}." if both else "")
        + f" Your changes: {'; '.join(mine)}. Run crm edit {record['id']} again.",
        f"你编辑期间 {record['id']} 已被他人修改（版本 {record['version']} → {current['version']}）："
        f"{'；'.join(theirs) or '无可见字段'}。未保存任何内容。"
        + (f" 双方都修改了：{', '.join(both)}。" if both else "")
        + f" 你的修改：{'；'.join(mine)}。请重新运行 crm edit {record['id']}。",
    )
    return Conflict(text)
