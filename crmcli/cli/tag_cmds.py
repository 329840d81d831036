"""crm tag / untag / tags, crm contact add|list|remove: labels and more people per customer."""


import sys
from typing import Annotated, Optional

import typer

from .asking import t
from .common import FormatOpt, RevealOpt, check_format, complete_ids, err, h, state

IdArg = Annotated[str, typer.Argument(help=h("customer ID", "客户编号"), autocompletion=complete_ids)]
TagsArg = Annotated[list[str], typer.Argument(metavar="TAG...", help=h("tags (at most 30 characters each, no ;)", "标签（每个最多 30 个字符，不含 ;）"))]

contact_app = typer.Typer(
    help=h(
        "More contacts of a customer besides the main one: crm contact add|list|remove.",
        "客户除主联系人外的其他联系人：crm contact add|list|remove。",
    ),
    no_args_is_help=True,
)
CONTACT_KEYS = [("n", "#", "#"), ("name", "Name", "姓名"), ("title", "Title", "职位"), ("phone", "Phone", "电话"),
                ("email", "Email", "邮箱")]


def register(app: typer.Typer) -> None:
    @app.command("tag", help=h(
        "Tag a customer: crm tag ID 重点 展会2024. crm list --tag 重点 finds them; crm untag removes tags.",
        "给客户加标签：crm tag 编号 重点 展会2024。crm list --tag 重点 可查找；crm untag 删除标签。",
    ))
    def tag_(customer_id: IdArg, tags: TagsArg) -> None:
        _change(customer_id, tags, [], "tag")

    @app.command("untag", help=h("Remove tags from a customer: crm untag ID 重点.", "删除客户的标签：crm untag 编号 重点。"))
    def untag_(customer_id: IdArg, tags: TagsArg) -> None:
        _change(customer_id, [], tags, "untag")

    @app.command("tags", help=h("Every tag in use, with its number of customers.", "所有在用的标签及其客户数。"))
    def tags_(fmt: FormatOpt = "table") -> None:
        from .. import render, tags

        fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
        rows = [{"tag": tag, "customers": n} for tag, n in tags.all_tags(state().store().conn)]
        if fmt != "table":
            render.write_machine(rows, fmt, sys.stdout, keys=["tag", "customers"])
        elif not rows:
            err(t("No tags yet.", "还没有标签。"))
        else:
            cols = [render.Column("tag", t("Tag", "标签")), render.Column("customers", t("Customers", "客户数"), "right")]
            render.table(({"tag": r["tag"], "customers": str(r["customers"])} for r in rows), cols)

    app.add_typer(contact_app, name="contact")


def _change(customer_id: str, add: list[str], remove: list[str], command: str) -> None:
    from .. import customers, tags

    store = state().store()
    cid, now = tags.change(store, customer_id, add, remove, customers.Context.load(store, command))
    shown = ", ".join(now) or "—"
    typer.echo(t(f"{cid} tags: {shown}", f"{cid} 的标签：{shown}"))


@contact_app.command("add", help=h(
    "Add a contact to a customer: crm contact add ID --name 李四 --phone 13900000000 --title 采购经理 [--email …]. "
    "The phone is checked like the main one.",
    "为客户添加联系人：crm contact add 编号 --name 李四 --phone 13900000000 --title 采购经理 [--email …]。电话的校验与主电话相同。",
))
def contact_add(
    customer_id: IdArg,
    name: Annotated[str, typer.Option("--name", help=h("the contact's name", "联系人姓名"))],
    phone: Annotated[Optional[str], typer.Option("--phone", help=h("phone", "联系方式"))] = None,  # noqa: UP045
    title: Annotated[Optional[str], typer.Option("--title", help=h("job title", "职位"))] = None,  # noqa: UP045
    email: Annotated[Optional[str], typer.Option("--email", help=h("e-mail", "电子邮箱"))] = None,  # noqa: UP045
) -> None:
    from .. import contacts, customers, options, parsing

    store = state().store()
    values = contacts.prepare(name, phone, title, email, options.load(store))
    row = contacts.add(store, customer_id, values, customers.Context.load(store, "contact add"))
    shown = parsing.mask_phone(row["phone"]) if row["phone"] else ""
    typer.echo(t(f"Added contact {row['n']} of {row['customer_id']}: {row['name']} {shown}".rstrip(),
                 f"已为 {row['customer_id']} 添加联系人 {row['n']}：{row['name']} {shown}".rstrip()))


@contact_app.command("list", help=h("A customer's contacts, numbered (crm contact remove ID N).", "客户的联系人及编号（crm contact remove 编号 N）。"))
def contact_list(customer_id: IdArg, fmt: FormatOpt = "table", reveal: RevealOpt = False) -> None:
    from .. import contacts, customers, render

    fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
    store = state().store()
    cid = customers.get(store.conn, customer_id)["id"]
    rows = contacts.list_for(store.conn, cid)
    if reveal and any(r["phone"] for r in rows):
        from .. import audit

        audit.reveal_ids(store, [cid], "contact list --reveal")  # recorded before it is shown
    shown = [contacts.public(r, reveal) for r in rows]
    if fmt != "table":
        render.write_machine(shown, fmt, sys.stdout, keys=list(contacts.CONTACT_COLUMNS))
    elif not rows:
        err(t(f"{cid} has no other contacts.", f"{cid} 没有其他联系人。"))
    else:
        lang = state().lang
        cols = [render.Column(k, zh if lang == "zh" else en) for k, en, zh in CONTACT_KEYS]
        render.table(({k: "" if r.get(k) is None else str(r[k]) for k, _, _ in CONTACT_KEYS} for r in shown), cols)


@contact_app.command("remove", help=h("Remove contact N of a customer (as crm contact list numbers them).", "删除客户的第 N 个联系人（按 crm contact list 的编号）。"))
def contact_remove(
    customer_id: IdArg,
    n: Annotated[int, typer.Argument(metavar="N", help=h("the contact's number", "联系人编号"))],
) -> None:
    from .. import contacts, customers

    store = state().store()
    row = contacts.remove(store, customer_id, n, customers.Context.load(store, "contact remove"))
    typer.echo(t(f"Removed contact {n} of {row['customer_id']}: {row['name']}", f"已删除 {row['customer_id']} 的联系人 {n}：{row['name']}"))
