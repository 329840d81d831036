"""crm doctor …: find data that today's rules refuse, and say how to fix it."""


import sys
from typing import Annotated, Any

import typer

from .common import CrmGroup, FormatOpt, RevealOpt, check_format, err, h, state

doctor_app = typer.Typer(cls=CrmGroup, no_args_is_help=True, help=h(
    "Check stored data against today's rules and say how to fix what fails.",
    "按现行规则检查已存数据，并说明如何修复不符合的数据。",
))


@doctor_app.command("phones", help=h(
    "List customers whose stored phone does not validate (kept as it was by the upgrade) or is not in its stored form, "
    "each with the crm edit command that fixes it. Phones masked unless --reveal.",
    "列出已存电话无法通过校验（升级时原样保留）或不是规范存储形式的客户，并给出修复用的 crm edit 命令。电话默认打码，--reveal 显示完整号码。",
))
def doctor_phones(
    fmt: FormatOpt = "table",
    reveal: RevealOpt = False,
    exit_code: Annotated[bool, typer.Option("--exit-code", help=h("exit 1 when some phones are listed, 0 when none", "有列出的电话时退出码为 1，没有时为 0"))] = False,
) -> None:
    from .. import i18n, phones, render

    st = state()
    fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv", "ids"))
    store = st.store()
    region = phones.default_region(store)
    problems = list(phones.stored_problems(store, region))
    if reveal and problems:
        from .. import audit

        # recorded before anything is shown, exactly the customers shown
        problems = list(audit.reveal(store, problems, "doctor phones --reveal", id_of=lambda p: p.id))

    def t(en: str, zh: str) -> str:
        return zh if st.lang == "zh" else en

    def shown(number: str) -> str:
        return number if reveal else phones.mask_phone(number)

    def row(p: Any) -> dict[str, Any]:
        en, zh = phones.DOCTOR_REASONS.get(p.reason) or phones.REASONS.get(p.reason) or (p.reason, p.reason)
        details = {k: shown(str(v)) if k in ("stored", "number") else v for k, v in p.details.items()}
        text = (zh if st.lang == "zh" else en).format(**details) if p.reason != "empty" else i18n.reason("empty", st.lang)
        number = shown(p.suggestion) if p.suggestion else t("THE RIGHT NUMBER", "正确的号码")
        return {
            "id": p.id,
            "name": p.name,
            "phone": shown(p.phone),
            "reason": p.reason,
            "problem": text,
            "fix": f"crm edit {p.id} --phone '{number}'",
        }

    rows = [row(p) for p in problems]
    if fmt == "table":
        if not rows:
            err(t("Every stored phone validates.", "所有已存电话均通过校验。"))
        else:
            cols = [
                render.Column("id", t("ID", "客户编号")),
                render.Column("name", t("Name", "客户名称")),
                render.Column("phone", t("Phone", "联系方式")),
                render.Column("problem", t("Problem", "问题")),
                render.Column("fix", t("Fix", "修复")),
            ]
            render.table(rows, cols)
            err(t(f"{len(rows)} phones to fix (phone region {region}).", f"{len(rows)} 个电话需要修复（电话地区 {region}）。"))
    else:
        render.write_machine(rows, fmt, sys.stdout, keys=["id", "name", "phone", "reason", "problem", "fix"])
    if exit_code and rows:
        raise typer.Exit(1)
