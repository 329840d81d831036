# ruff: noqa: UP045  (Optional[...] in Typer annotations, as in the other CLI modules)
"""crm import FILE|- / crm import undo BATCH / crm import batches / crm export."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import UsageError
from .common import (
    CrmGroup,
    FormatOpt,
    RevealOpt,
    WideOpt,
    check_format,
    describe_error,
    err,
    h,
    show_table,
    state,
    warn,
)


class ImportGroup(CrmGroup):
    """``crm import FILE`` runs the ``file`` subcommand; ``undo`` and ``batches`` are named."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


import_app = typer.Typer(
    cls=ImportGroup,
    no_args_is_help=True,
    help=h(
        "Import customers (or follow-ups) from CSV, TSV, XLSX, XLS, ODS, JSON, JSONL or vCard: crm import FILE|-. "
        "All-or-nothing unless --skip-invalid. Also: crm import undo BATCH, crm import batches.",
        "从 CSV、TSV、XLSX、XLS、ODS、JSON、JSONL 或 vCard 导入客户（或跟进记录）：crm import 文件|-。"
        "默认全部成功才写入（--skip-invalid 跳过无效行）。另有：crm import undo 批次、crm import batches。",
    ),
)


@import_app.command(
    "file",
    help=h(
        "Import FILE (- for stdin). Summary on stderr; --format json prints it on stdout. Exit 2: invalid rows (nothing written); 4: duplicates under --on-duplicate error.",
        "导入文件（- 表示标准输入）。摘要输出到标准错误；--format json 输出到标准输出。退出码 2：有无效行（未写入）；4：--on-duplicate error 时有重复。",
    ),
)
def import_file(
    path: Annotated[str, typer.Argument(help=h("file to import, or - for stdin", "要导入的文件，或 - 表示标准输入"))],
    input_format: Annotated[
        Optional[str],
        typer.Option(
            "--input-format",
            "--from",
            help=h(
                "csv, tsv, xlsx, xls, ods, json, jsonl or vcf (default: from the content and the extension)",
                "输入格式：csv、tsv、xlsx、xls、ods、json、jsonl 或 vcf（默认按内容和扩展名判断）",
            ),
        ),
    ] = None,  # noqa: UP045
    encoding: Annotated[
        Optional[str],
        typer.Option(
            "--encoding",
            help=h(
                "text encoding (default: UTF-8 with or without BOM, then GB18030; UTF-16 with BOM)",
                "文本编码（默认依次尝试 UTF-8（含 BOM）、GB18030；带 BOM 的 UTF-16）",
            ),
        ),
    ] = None,  # noqa: UP045
    delimiter: Annotated[
        Optional[str],
        typer.Option(
            "--delimiter",
            help=h("CSV delimiter (default: sniffed from the header line)", "CSV 分隔符（默认根据表头判断）"),
        ),
    ] = None,  # noqa: UP045
    sheet: Annotated[
        Optional[str],
        typer.Option(
            "--sheet", help=h("worksheet of an XLSX/XLS/ODS file (default: the first)", "XLSX/XLS/ODS 工作表（默认第一个）")
        ),
    ] = None,  # noqa: UP045
    no_header: Annotated[
        Optional[bool],
        typer.Option(
            "--no-header",
            help=h(
                "the first row is data: columns are named A, B, C and so on as in a spreadsheet",
                "第一行就是数据：列按电子表格的方式命名为 A、B、C 等",
            ),
            show_default=False,
        ),
    ] = None,  # noqa: UP045
    header_row: Annotated[
        Optional[int],
        typer.Option(
            "--header-row",
            min=1,
            help=h(
                "the headers are on row N (a title above them); default: the first non-empty row",
                "表头在第 N 行（上方有标题）；默认第一个非空行",
            ),
        ),
    ] = None,  # noqa: UP045
    skip_rows: Annotated[
        Optional[int],
        typer.Option(
            "--skip-rows",
            min=0,
            help=h(
                "skip N rows after the header (a second header, example rows)",
                "跳过表头后的 N 行（第二行表头、示例行）",
            ),
        ),
    ] = None,  # noqa: UP045
    where: Annotated[
        Optional[list[str]],
        typer.Option(
            "--where",
            help=h(
                "import only the rows where 'Column=value' (or 'Column!=value'); repeatable, all must match",
                "只导入满足 '列=值'（或 '列!=值'）的行；可重复，须全部满足",
            ),
        ),
    ] = None,  # noqa: UP045
    drop_invalid_optional: Annotated[
        Optional[bool],
        typer.Option(
            "--drop-invalid-optional",
            help=h(
                "drop an invalid value of an optional field (a bad e-mail) with a warning, instead of refusing the row",
                "可选字段的值无效（如错误的邮箱）时丢弃该值并警告，而不是拒绝整行",
            ),
            show_default=False,
        ),
    ] = None,  # noqa: UP045
    mapping: Annotated[
        Optional[Path],
        typer.Option(
            "--mapping",
            "-m",
            help=h(
                "mapping file (TOML): columns, composed fields, defaults, date order",
                "映射文件（TOML）：列、组合字段、默认值、日期顺序",
            ),
            dir_okay=False,
        ),
    ] = None,  # noqa: UP045
    map_: Annotated[
        Optional[list[str]],
        typer.Option(
            "--map",
            help=h(
                "'Column Name=field' (field - to ignore the column); repeatable",
                "'列名=字段'（字段写 - 表示忽略该列）；可重复",
            ),
        ),
    ] = None,  # noqa: UP045
    set_: Annotated[
        Optional[list[str]],
        typer.Option(
            "--set",
            help=h(
                "field=value for rows that lack it (new customers); repeatable",
                "为缺少该字段的行（新客户）设置 字段=值；可重复",
            ),
        ),
    ] = None,  # noqa: UP045
    ignore_unknown: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown",
            help=h("ignore columns that map to no field (they are listed)", "忽略无法对应字段的列（会列出）"),
        ),
    ] = False,
    dayfirst: Annotated[
        Optional[bool],
        typer.Option(
            "--dayfirst/--monthfirst",
            help=h(
                "read 03/04/2024 as 3 April (or 4 March); without either an ambiguous date is refused",
                "将 03/04/2024 读作 4月3日（或 3月4日）；两者都不给时，含糊的日期会被拒绝",
            ),
            show_default=False,
        ),
    ] = None,  # noqa: UP045
    date_format: Annotated[
        Optional[str],
        typer.Option(
            "--date-format", help=h("strptime format of the dates, e.g. %d/%m/%Y", "日期的 strptime 格式，如 %d/%m/%Y")
        ),
    ] = None,  # noqa: UP045
    phone_region: Annotated[
        Optional[str],
        typer.Option(
            "--phone-region",
            help=h(
                "region of phones written without a country code, e.g. US (default: $CRM_PHONE_REGION, crm config phone-region, CN)",
                "不带国家/地区代码的电话所属地区，如 US（默认：$CRM_PHONE_REGION、crm config 的 phone-region、CN）",
            ),
        ),
    ] = None,  # noqa: UP045
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help=h(
                "skip, update (only the columns the file has) or error",
                "skip（跳过）、update（只更新文件中有的列）或 error（报错）",
            ),
        ),
    ] = "skip",
    match: Annotated[
        str,
        typer.Option(
            "--match",
            help=h(
                "duplicate keys in order: id,phone,email (a row with an ID is matched by it only)",
                "重复匹配键（按顺序）：id,phone,email（有编号的行只按编号匹配）",
            ),
        ),
    ] = "id,phone,email",
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help=h("import the good rows, report and skip the bad ones", "导入有效行，报告并跳过无效行"),
        ),
    ] = False,
    rejects: Annotated[
        Optional[Path],
        typer.Option(
            "--rejects",
            help=h(
                "with --skip-invalid: write the bad rows with a reason column to this CSV",
                "与 --skip-invalid 一起：把无效行及原因写入此 CSV",
            ),
            dir_okay=False,
        ),
    ] = None,  # noqa: UP045
    force: Annotated[
        bool, typer.Option("--force", help=h("overwrite an existing --rejects file", "覆盖已存在的 --rejects 文件"))
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help=h("validate and report, write nothing", "只校验并报告，不写入"))
    ] = False,
    followups: Annotated[
        bool,
        typer.Option(
            "--followups",
            help=h(
                "the file holds follow-ups (crm export --followups); detected from the headers otherwise",
                "文件是跟进记录（crm export --followups 的输出）；否则按表头判断",
            ),
        ),
    ] = False,
    followup_columns: Annotated[
        Optional[bool],
        typer.Option(
            "--followup-columns/--no-followup-columns",
            help=h(
                "create a follow-up from each row's follow-up columns (default: yes, except for crm's own exports)",
                "根据每行的跟进列创建跟进记录（默认是；crm 自己的导出文件除外）",
            ),
            show_default=False,
        ),
    ] = None,  # noqa: UP045
    fmt: FormatOpt = "text",
) -> None:
    from .. import customers, importing, options, readers

    st = state()
    fmt = check_format(fmt, ("text", "table", "json"))
    settings_map = importing.load_mapping(mapping) if mapping else importing.Mapping_()
    cli_map = importing.Mapping_(
        columns=importing.parse_pairs(map_ or [], "--map"),
        defaults=importing.parse_pairs(set_ or [], "--set"),
        dayfirst=dayfirst,
        date_format=date_format,
        encoding=encoding,
        format=input_format,
        delimiter=delimiter,
        phone_region=phone_region,
        where=list(where or []),
        sheet=sheet,
        header_row=header_row,
        skip_rows=skip_rows,
        no_header=no_header,
        drop_invalid_optional=drop_invalid_optional,
    )
    merged = settings_map.merged(cli_map)
    settings = importing.Settings(
        mapping=merged,
        on_duplicate=on_duplicate.lower(),
        match=tuple(m.strip().lower() for m in match.split(",") if m.strip()),
        skip_invalid=skip_invalid,
        rejects=rejects,
        force=force,
        dry_run=dry_run,
        ignore_unknown=ignore_unknown,
        followup_columns=followup_columns,
        target="followups" if followups else None,
        source_name=path,
        lang=st.lang,
    )
    settings.check()
    # the file first: a missing or unreadable one must not create an empty database
    source = readers.open_source(
        path,
        fmt=merged.format,
        encoding=merged.encoding,
        delimiter=merged.delimiter,
        sheet=merged.sheet,
        stdin=sys.stdin.buffer if path == "-" else None,
        layout=readers.Layout(
            no_header=bool(merged.no_header), header_row=merged.header_row, skip_rows=merged.skip_rows or 0
        ),
    )
    try:
        store = st.store()
        opts = options.load(store)
        ctx = customers.Context.load(store, "import")
        with _progress() as tick:
            summary = importing.run_import(store, source, settings, ctx, opts, progress=tick)
    except importing.ImportFailed as exc:
        _report(exc.summary, fmt, st.lang, failed=True)
        raise
    finally:
        source.close()
    _report(summary, fmt, st.lang, failed=False)


class _progress:
    """A Rich progress line on stderr, only when stderr is a terminal."""

    def __enter__(self) -> Any:
        self.bar: Any = None
        if not sys.stderr.isatty():
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from ..render import console

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn(h("{task.completed:,} rows", "{task.completed:,} 行")),
            TimeElapsedColumn(),
            console=console(sys.stderr),
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task("import", total=None)
        return lambda rows: self.bar.update(task, completed=rows)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report(summary: Any, fmt: str, lang: str, *, failed: bool) -> None:
    for error in summary.errors:
        err(describe_error(error, lang))
    if len(summary.errors) < summary.rejected:
        err(
            h(
                f"(errors of {summary.rejected - len(summary.errors)} more rows not shown)",
                f"（另有 {summary.rejected - len(summary.errors)} 行的错误未显示）",
            )
        )
    for warning in summary.warnings:
        warn(warning)
    if fmt == "json":
        data = summary.as_dict(lang)
        data["ok"] = not failed
        from ..render import safe_json

        typer.echo(safe_json(json.dumps(data, ensure_ascii=False)))
    if summary.ignored_columns:
        err(
            h(
                f"ignored columns: {', '.join(summary.ignored_columns)}",
                f"已忽略的列：{', '.join(summary.ignored_columns)}",
            )
        )
    if failed:
        return
    what = h("follow-ups", "跟进记录") if summary.target == "followups" else h("customers", "客户")
    head = (
        h("Dry run (nothing written)", "试运行（未写入）")
        if summary.dry_run
        else h(f"Import batch {summary.batch}", f"导入批次 {summary.batch}")
    )
    err(
        h(
            f"{head}: {summary.rows} rows from {summary.source}: {summary.added} {what} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected, {summary.followups} follow-ups",
            f"{head}：{summary.source} 共 {summary.rows} 行：新增{what} {summary.added}，更新 {summary.updated}，"
            f"未变 {summary.unchanged}，拒绝 {summary.rejected}，跟进记录 {summary.followups}",
        )
    )
    if summary.rejects_file:
        err(h(f"rejected rows written to {summary.rejects_file}", f"被拒绝的行已写入 {summary.rejects_file}"))


@import_app.command(
    "undo",
    help=h(
        "Undo an import batch: remove the customers and follow-ups it added, revert what it updated (asks first; --yes to skip).",
        "撤销一个导入批次：删除其新增的客户和跟进记录，还原其更新的内容（会先确认；--yes 跳过确认）。",
    ),
)
def import_undo(
    batch: Annotated[
        int, typer.Argument(help=h("batch number (crm import batches)", "批次号（见 crm import batches）"))
    ],
    force: Annotated[
        bool, typer.Option("--force", help=h("undo even if records were changed since", "即使记录之后被修改过也撤销"))
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=h("do not ask (for scripts)", "不确认直接撤销（用于脚本）"))] = False,
) -> None:
    from .. import customers, i18n, importing
    from ..errors import Conflict
    from .common import stdin_is_terminal

    st = state()
    store = st.store()
    info = importing.batch(store, batch)
    if info["undone_at"]:
        raise Conflict(f"import batch {batch} was already undone at {info['undone_at']}",
                       zh=f"导入批次 {batch} 已于 {info['undone_at']} 撤销")
    if not yes:
        # As crm delete and crm backup restore: a person confirms, a script says --yes.
        if not stdin_is_terminal():
            raise UsageError("refusing to undo an import without --yes when not on a terminal",
                             zh="非终端环境下撤销导入需要 --yes")
        question = i18n.pick(st.lang,
            f"Undo batch {batch} ({info['source']}, {info['started_at']}): remove the {info['added']} customers or "
            f"follow-ups it added and revert its {info['updated']} updates?",
            f"撤销批次 {batch}（{info['source']}，{info['started_at']}）：删除其新增的 {info['added']} 个客户或跟进记录，"
            f"还原其 {info['updated']} 处更新？",
        )
        from .common import confirm

        if not confirm(question):
            err(i18n.message("aborted", st.lang))
            raise typer.Exit(1)
    ctx = customers.Context.load(store, "import undo")
    result = importing.undo(store, batch, ctx, force=force)
    typer.echo(
        h(
            f"Undid batch {batch}: {result.removed} customers removed, {result.reverted} reverted, {result.followups} follow-ups removed",
            f"已撤销批次 {batch}：删除客户 {result.removed}，还原 {result.reverted}，删除跟进记录 {result.followups}",
        )
    )


@import_app.command("batches", help=h("List import batches, newest first.", "列出导入批次（最新的在前）。"))
def import_batches(
    limit: Annotated[
        Optional[int], typer.Option("--limit", "-n", min=0, help=h("at most N batches", "最多 N 个批次"))
    ] = 20,  # noqa: UP045
    fmt: FormatOpt = "table",
    wide: WideOpt = False,
) -> None:
    from .. import importing, render

    st = state()
    fmt = check_format(fmt, ("table", "json", "jsonl", "csv", "tsv"))
    rows = importing.batches(st.store(), limit or None)
    if fmt == "table":
        cols = [
            render.Column(k, k)
            for k in (
                "id",
                "started_at",
                "by",
                "source",
                "target",
                "rows",
                "added",
                "updated",
                "unchanged",
                "rejected",
                "undone_at",
            )
        ]
        show_table(({k: "" if v is None else str(v) for k, v in r.items()} for r in rows), cols)
        return
    render.write_machine(rows, fmt, sys.stdout, keys=list(importing.BATCH_COLUMNS) if fmt in ("csv", "tsv") else None)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")

    @app.command(
        "export",
        help=h(
            "Export customers (or --followups) as CSV, TSV, XLSX, JSON or JSONL, with the filters of crm list. Phones masked unless --reveal; files are created 0600.",
            "导出客户（或 --followups 跟进记录）为 CSV、TSV、XLSX、JSON 或 JSONL，筛选条件同 crm list。除非 --reveal，电话打码；文件权限 0600。",
        ),
    )
    def export_cmd(
        out: Annotated[
            Optional[str],
            typer.Option(
                "--out",
                "-o",
                help=h(
                    "output file (default: stdout); the extension picks the format; never overwritten without --force",
                    "输出文件（默认标准输出）；扩展名决定格式；没有 --force 不会覆盖已有文件",
                ),
            ),
        ] = None,  # noqa: UP045
        fmt: Annotated[
            Optional[str],
            typer.Option(
                "--format", "-f", help=h("csv, tsv, xlsx, json, jsonl or vcf", "csv、tsv、xlsx、json、jsonl 或 vcf")
            ),
        ] = None,  # noqa: UP045
        excel: Annotated[
            bool,
            typer.Option(
                "--excel",
                help=h(
                    "CSV for Excel: UTF-8 with BOM, labels and headers in the interface language",
                    "适合 Excel 的 CSV：带 BOM 的 UTF-8，使用界面语言的标签和表头",
                ),
            ),
        ] = False,
        headers: Annotated[
            Optional[str],
            typer.Option(
                "--headers",
                help=h(
                    "keys, zh or en (default: keys; XLSX and --excel: the interface language)",
                    "表头：keys、zh 或 en（默认 keys；XLSX 和 --excel 用界面语言）",
                ),
            ),
        ] = None,  # noqa: UP045
        labels: Annotated[
            Optional[bool],
            typer.Option(
                "--labels/--codes",
                help=h("dropdown values as labels or codes", "下拉字段输出标签或代码"),
                show_default=False,
            ),
        ] = None,  # noqa: UP045
        followups: Annotated[
            bool,
            typer.Option(
                "--followups", help=h("export the follow-ups of the matching customers", "导出匹配客户的跟进记录")
            ),
        ] = False,
        contacts: Annotated[
            bool,
            typer.Option(
                "--contacts",
                help=h("export the other contacts of the matching customers (crm contact)", "导出匹配客户的其他联系人（crm contact）"),
            ),
        ] = False,
        status: Annotated[
            Optional[list[str]], typer.Option("--status", help=h("status code or label", "合作状态"))
        ] = None,  # noqa: UP045
        industry: Annotated[Optional[list[str]], typer.Option("--industry", help=h("industry", "所属行业"))] = None,  # noqa: UP045
        type_: Annotated[Optional[list[str]], typer.Option("--type", help=h("customer type", "客户类型"))] = None,  # noqa: UP045
        source: Annotated[Optional[list[str]], typer.Option("--source", help=h("source", "客户来源"))] = None,  # noqa: UP045
        owner: Annotated[Optional[list[str]], typer.Option("--owner", help=h("owner", "跟进人"))] = None,  # noqa: UP045
        grade: Annotated[
            Optional[list[str]], typer.Option("--grade", help=h("grade A, B or C", "客户等级 A/B/C"))
        ] = None,  # noqa: UP045
        first_contact_from: Annotated[
            Optional[str], typer.Option(help=h("first contact on or after DATE", "首次接触不早于该日期"))
        ] = None,  # noqa: UP045
        first_contact_to: Annotated[
            Optional[str], typer.Option(help=h("first contact on or before DATE", "首次接触不晚于该日期"))
        ] = None,  # noqa: UP045
        last_followup_from: Annotated[
            Optional[str], typer.Option(help=h("last follow-up on or after DATE", "最近跟进不早于该日期"))
        ] = None,  # noqa: UP045
        last_followup_to: Annotated[
            Optional[str], typer.Option(help=h("last follow-up on or before DATE", "最近跟进不晚于该日期"))
        ] = None,  # noqa: UP045
        amount_min: Annotated[
            Optional[str], typer.Option(help=h("contract amount at least (CNY)", "合同金额下限（元）"))
        ] = None,  # noqa: UP045
        amount_max: Annotated[
            Optional[str], typer.Option(help=h("contract amount at most (CNY)", "合同金额上限（元）"))
        ] = None,  # noqa: UP045
        text: Annotated[Optional[str], typer.Option("--text", "-t", help=h("free text", "文字"))] = None,  # noqa: UP045
        tag: Annotated[Optional[list[str]], typer.Option("--tag", help=h("customers with this tag (repeatable: any of them)", "带有该标签的客户（可重复：任一即可）"))] = None,  # noqa: UP045
        archived: Annotated[
            bool, typer.Option("--archived", help=h("only archived customers", "只看已归档客户"))
        ] = False,
        all_: Annotated[
            bool, typer.Option("--all", help=h("archived and current customers", "包括已归档客户"))
        ] = False,
        sort: Annotated[
            Optional[list[str]],
            typer.Option("--sort", "-s", help=h("sort field (-field: descending)", "排序字段（-字段 为降序）")),
        ] = None,  # noqa: UP045
        reveal: RevealOpt = False,
        force: Annotated[
            bool, typer.Option("--force", help=h("overwrite an existing --out file", "覆盖已存在的 --out 文件"))
        ] = False,
    ) -> None:
        from .. import exporting, options, query
        from .customer_cmds import build_filters

        st = state()
        store = st.store()
        if out and out != "-":  # the database, an existing file, a directory: said before the extension
            from .. import outputs

            outputs.check_target(out, force=force, protect=outputs.protected(store.path))
        kind = exporting.format_for(out, fmt)
        filters = build_filters(
            status=status,
            industry=industry,
            type_=type_,
            source=source,
            owner=owner,
            grade=grade,
            first_contact_from=first_contact_from,
            first_contact_to=first_contact_to,
            last_followup_from=last_followup_from,
            last_followup_to=last_followup_to,
            amount_min=amount_min,
            amount_max=amount_max,
            text=text,
            archived=archived,
            all_=all_,
            tag=tag,
        )
        filters.reveal = reveal  # only an audited reveal may match part of a phone
        people = kind == "xlsx" or excel
        header_mode = (headers or (st.lang if people else "keys")).lower()
        if header_mode not in ("keys", "zh", "en"):
            raise UsageError(f"--headers must be keys, zh or en, not {headers!r}",
                             zh=f"--headers 必须是 keys、zh 或 en，而不是 {headers!r}")
        if excel and kind not in ("csv", "tsv"):
            raise UsageError("--excel applies to CSV and TSV exports", zh="--excel 只适用于 CSV 和 TSV 导出")
        settings = exporting.ExportSettings(
            fmt=kind,
            headers=header_mode,
            labels=people if labels is None else labels,
            excel=excel,
            reveal=reveal,
            followups=followups,
            lang=st.lang,
        )
        opts = options.load(store)
        order = query.parse_sort(sort or [])
        if contacts:
            if followups:
                raise UsageError("--contacts and --followups are two exports: give one", zh="--contacts 与 --followups 是两种导出：只能选一个")
            _export_contacts(store, filters, kind, out, header_mode, reveal, st.lang, force)
            return
        if out and out != "-":
            from .. import outputs

            with outputs.private_output(
                out, force=force, protect=outputs.protected(store.path), binary=kind == "xlsx"
            ) as handle:
                n = exporting.export(store, filters, settings, handle, opts, order)
            what = h("follow-ups", "跟进记录") if followups else h("customers", "客户")
            err(h(f"Exported {n} {what} to {out}", f"已导出 {n} 条{what}到 {out}"))
        else:
            exporting.export(store, filters, settings, exporting.default_stdout(kind), opts, order)


def _export_contacts(store: Any, filters: Any, kind: str, out: Optional[str], headers: str, reveal: bool, lang: str,
                     force: bool) -> None:
    from .. import contacts, exporting, outputs

    where, params = filters.where()
    rows = contacts.export_rows(store.conn, where, params, reveal)
    if reveal:
        from .. import audit

        audit.reveal_ids(store, [r["customer_id"] for r in rows if r["phone"]], "export --contacts --reveal")
    if out and out != "-":
        with outputs.private_output(
            out, force=force, protect=outputs.protected(store.path), binary=kind == "xlsx"
        ) as handle:
            n = contacts.write_export(rows, kind, handle, headers, lang)
        err(h(f"Exported {n} contacts to {out}", f"已导出 {n} 个联系人到 {out}"))
    else:
        contacts.write_export(rows, kind, exporting.default_stdout(kind), headers, lang)
