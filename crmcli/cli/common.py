"""What every command shares: global state, option types, error reporting, output helpers."""


import inspect
import sqlite3
import sys
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from .. import i18n
from ..errors import CrmError, ParseError, ValidationError, shorten
from ..fields import FIELDS, Field
from ..storage import Store, open_store, translate

LANG = i18n.detect()
INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE: a bug in crm, not in the input
ERROR_LINE_MAX = 1000
USAGE_MESSAGE_MAX = 200
# Click's UsageError, the parent of typer.BadParameter (Typer vendors its own copy of Click).
_ClickUsageError: type[Exception] = typer.BadParameter.__mro__[1]


def h(en: str, zh: str) -> str:
    """Help text in the interface language (decided from argv and the environment at start-up)."""
    return zh if LANG == "zh" else en


@dataclass
class State:
    db: Path | None = None
    lang: str = LANG
    debug: bool = False
    wide: bool = False
    note_identity: bool = False  # set by the root callback for commands that record who acts
    command: list[str] = field(default_factory=list)  # filled by CrmGroup.resolve_command
    _store: Store | None = field(default=None, repr=False)

    def store(self, create: bool | None = None) -> Store:
        """The open database. A missing file is created only by the commands in ``CREATING``
        (or when ``create`` says so): reads on a wrong path fail with exit 3."""
        if self._store is None:
            self._store = open_store(self.db, create=command_path() in CREATING if create is None else create)
            for warning in self._store.warnings:
                warn(warning)
            if self.note_identity:
                self._note_identity(self._store)
        return self._store

    def _note_identity(self, store: Store) -> None:
        """Say once (per process: the root callback makes one State per run) that no user name
        is set and the login stands in, and that an old shared ``user`` setting is ignored."""
        from .. import config, userconfig

        name, known = userconfig.identity()
        if known:
            return
        warn(i18n.message("no_user", self.lang, login=name))
        shared = config.shared_user(store)
        if shared:
            warn(i18n.message("shared_user_ignored", self.lang, name=shared))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


# The writes that make sense on a new database; every other command on a missing file fails
# with exit 3 instead of creating an empty one (a cron job with a wrong path must not stay silent).
CREATING = frozenset({
    "add", "import file", "demo", "backup restore", "config set", "options add", "options rename",
    "options retire", "fields add", "view save",
})


COMMAND_KEY = "crm.command"  # in click's ctx.meta (one dict shared by the whole context tree)


def command_path() -> str:
    """The running subcommand's words without the program name: ``import file``, ``config set``."""
    return " ".join(state().command)


_current = State()


def state(ctx: typer.Context | None = None) -> State:
    """The state of the running command. The root callback replaces it on every invocation."""
    return _current


def reset_state() -> State:
    global _current
    _current = State()
    return _current


def stdin_is_terminal() -> bool:
    """Whether a person can answer prompts (patched in tests)."""
    return sys.stdin.isatty()


YES = frozenset({"y", "yes", "是", "是的", "好", "对", "确定"})
NO = frozenset({"n", "no", "否", "不", "不是", "取消"})


def confirm(question: str, *, default: bool = False) -> bool:
    """A [y/N] question that also takes 是/否 (Click's own accepts only y/yes/n/no). Asked on
    stderr: stdout stays data. Ctrl-C/Ctrl-D raise Abort (exit 130 via CrmGroup)."""
    lang = state().lang
    suffix = " [Y/n]" if default else " [y/N]"
    while True:
        answer = typer.prompt(question + suffix, default="", show_default=False, err=True, prompt_suffix=" ")
        word = answer.strip().lower()
        if not word:
            return default
        if word in YES:
            return True
        if word in NO:
            return False
        err("请回答 是/否（y/n）" if lang == "zh" else "please answer y or n (是/否)")


def err(text: str) -> None:
    from ..textsafe import escape

    sys.stderr.write(escape(text) + "\n")  # messages quote stored names: never their raw control characters
    sys.stderr.flush()


def warn(text: str) -> None:
    err(("警告：" if LANG == "zh" else "warning: ") + text)


def error_line(text: str, lang: str) -> str:
    """``Error: …`` / ``错误：…``: what every failed command prints on stderr."""
    # Values are cut where they are quoted (errors.shorten); this bounds whatever slipped through.
    return f"{i18n.message('error', lang)}{'：' if lang == 'zh' else ': '}{shorten(text, ERROR_LINE_MAX)}"


def describe_error(exc: CrmError, lang: str) -> str:
    if isinstance(exc, ValidationError):
        from ..fields import BY_KEY

        spec = BY_KEY.get(exc.field)
        name = f"{exc.field} ({spec.label(lang)})" if spec and lang == "zh" else shorten(exc.field)
        where = i18n.message("row", lang, row=exc.row) + ": " if exc.row else ""
        from ..masking import message_value

        value = "" if exc.value in (None, "") else f" {shorten(message_value(exc.field, exc.value))!r}"
        return f"{where}{name}{value}: {i18n.reason(exc.reason, lang, **exc.details)}"
    missing = getattr(exc, "missing", None)
    if missing:
        from ..fields import BY_KEY

        names = ", ".join(f"{k} ({BY_KEY[k].label(lang)})" if k in BY_KEY else k for k in missing)
        return i18n.message("missing_required", lang, fields=names)
    return exc.text(lang)


def fold_help_text() -> None:
    """Make help complete at any width. Rich breaks lines only at spaces, and Typer's help tables
    cut what does not fit with an ellipsis: at 80 columns a Chinese sentence (one long "word")
    and long option names ended in "…". In help tables built through this, every column folds
    (breaks inside a word) instead.
    Typer has no setting for it, so its table class is swapped, once per process, and only when
    help is printed (importing Rich costs start-up time)."""
    from rich.table import Table
    from typer import rich_utils

    if getattr(rich_utils.Table, "crm_folds", False):
        return

    class FoldingTable(Table):
        crm_folds = True

        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            super().add_row(*renderables, **kwargs)
            for column in self.columns:
                column.overflow = "fold"

    rich_utils.Table = FoldingTable  # type: ignore[misc]
    # An option's help sits in a Rich Columns (its own grid, which cuts too): the text itself
    # must fold, and a Text's own overflow wins over its column's.
    original = rich_utils._make_rich_text

    def make(*, text: str, style: str = "", markup_mode: Any) -> Any:
        out = original(text=text, style=style, markup_mode=markup_mode)
        if hasattr(out, "overflow"):
            out.overflow = "fold"
        return out

    rich_utils._make_rich_text = make


# Click's usage errors, in Chinese (the message is built by Click in English; these patterns
# cover what crm's users meet: a mistyped command or option, a missing or extra argument).
CLICK_ZH: tuple[tuple[str, str], ...] = (
    (r"No such command '(.+?)'\.", r"没有命令 '\1'。"),
    (r"\s*Did you mean '(.+?)'\?", r"你是想用 '\1' 吗？"),
    (r"No such option: (\S+)", r"没有选项：\1"),
    (r"\s*\(Possible options: (.+?)\)", r"（可能的选项：\1）"),
    (r"\s*Did you mean (\S+)\?", r"你是想用 \1 吗？"),
    (r"Missing argument '(.+?)'\.", r"缺少参数 '\1'。"),
    (r"Missing option '(.+?)'\.", r"缺少选项 '\1'。"),
    (r"Missing command\.", r"缺少命令。"),
    (r"Option '(.+?)' requires an argument\.", r"选项 '\1' 需要一个值。"),
    (r"Option '(.+?)' requires (\d+) arguments\.", r"选项 '\1' 需要 \2 个值。"),
    (r"Got unexpected extra arguments?(?:\(s\))? \((.+?)\)", r"多余的参数（\1）"),
    (r"Invalid value for '(.+?)': ", r"'\1' 的值无效："),
    (r"'(.+?)' is not a valid int(?:eger)?(?: range)?\.", r"'\1' 不是有效的整数。"),
    (r"'(.+?)' is not a valid float( range)?\.", r"'\1' 不是有效的数字。"),
    (r"(.+?) is not in the range (.+?)\.", r"\1 不在范围 \2 内。"),
    (r"'(.+?)' is not one of (.+?)\.", r"'\1' 不是可选值之一：\2。"),
    (r"'(.+?)' is not a valid boolean\.", r"'\1' 不是有效的布尔值。"),
)


def click_message_zh(text: str) -> str:
    import re

    for pattern, replacement in CLICK_ZH:
        text = re.sub(pattern, replacement, text)
    return text


def click_error_zh(exc: Any) -> None:
    """What Typer prints for a usage error, in Chinese and without a Rich panel."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        usage = ctx.get_usage().replace("Usage: ", "用法：", 1)
        err(usage)
        if ctx.command.get_help_option(ctx) is not None:
            err(f"试试 '{ctx.command_path} {ctx.help_option_names[0]}' 查看帮助。")
    err(error_line(click_message_zh(exc.format_message()), "zh"))


def _wants_help(args: list[str]) -> bool:
    return not args or any(a in ("--help", "-h") for a in args)


def undecodable_argument(args: Iterable[str]) -> str | None:
    """The message for the first argument that is not valid UTF-8 (Python hands such bytes over
    as lone surrogates, which nothing downstream can store or print), or None."""
    previous = ""
    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = shorten(arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
            after = (f"（{previous} 之后）" if LANG == "zh" else f" (after {previous})") if previous.startswith("-") else ""
            return i18n.message("argument_not_utf8", LANG, position=position, after=after, value=shown)
        previous = shorten(arg)
    return None


class CrmGroup(TyperGroup):
    """Turns the project's errors into a message and an exit code; a traceback only with --debug."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        fold_help_text()
        super().format_help(ctx, formatter)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta.setdefault(COMMAND_KEY, []).append(cmd.name if cmd is not None and cmd.name else name)
        return name, cmd, rest

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        problem = undecodable_argument(argv)
        if problem is not None:
            err(error_line(problem, LANG))
            sys.exit(2)
        if _wants_help(argv):
            fold_help_text()
        if i18n.detect(argv=["crm", *argv]) != "zh" or not kwargs.get("standalone_mode", True):
            return super().main(argv, *rest, **kwargs)
        # Chinese: Click's own usage errors (Usage, Try, No such command…) are printed here, in
        # Chinese, instead of by Typer in English.
        from typer._click.exceptions import UsageError as ClickUsageError

        kwargs["standalone_mode"] = False
        try:
            rv = super().main(argv, *rest, **kwargs)
        except ClickUsageError as exc:
            click_error_zh(exc)
            sys.exit(exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _ClickUsageError as exc:
            # Click quotes the whole value it refused (`--limit` with 5000 digits): cut it.
            exc.message = shorten(exc.message, USAGE_MESSAGE_MAX)
            raise
        except OverflowError:
            # A number given on the command line beyond what SQLite or a date can hold.
            st = state(ctx)
            if st.debug:
                raise
            err(error_line(i18n.message("number_too_large", st.lang), st.lang))
            raise typer.Exit(2) from None
        except CrmError as exc:
            st = state(ctx)
            if st.debug:
                raise
            err(error_line(describe_error(exc, st.lang), st.lang))
            raise typer.Exit(exc.exit_code) from None
        except sqlite3.Error as exc:
            st = state(ctx)
            if st.debug:
                raise
            mapped = translate(exc)
            err(error_line(mapped.text(st.lang) if isinstance(mapped, CrmError) else str(mapped), st.lang))
            raise typer.Exit(getattr(mapped, "exit_code", 6)) from None
        except (KeyboardInterrupt, typer.Abort):
            # Ctrl-C anywhere, and Ctrl-C/Ctrl-D at a prompt (Click turns both into Abort there):
            # 130 like a shell's SIGINT, as the README's table says, not Click's exit 1.
            err(i18n.message("interrupted", state(ctx).lang))
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # `crm list | head`: the reader left; not an error worth a message.
            raise typer.Exit(0) from None
        except (typer.Exit, typer.TyperException):
            raise  # Typer's own: usage errors (exit 2), --help, confirmations
        except ParseError as exc:
            # A parser's refusal that no caller wrapped with its field name: still bad input.
            st = state(ctx)
            if st.debug:
                raise
            err(error_line(i18n.reason(exc.reason, st.lang, **exc.details), st.lang))
            raise typer.Exit(2) from None
        except Exception as exc:
            if state(ctx).debug:
                raise
            err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback, and please report it)")
            raise typer.Exit(INTERNAL_ERROR) from None
        finally:
            if ctx.parent is None:
                state(ctx).close()


# Option types shared by the listing commands.
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format", "-f", help=h("table, json, jsonl, csv, tsv or ids", "输出格式：table、json、jsonl、csv、tsv 或 ids"),
        case_sensitive=False,
    ),
]
RevealOpt = Annotated[bool, typer.Option("--reveal", help=h("show phone numbers unmasked", "显示完整电话号码（不打码）"))]


def _set_wide(value: bool) -> bool:
    if value:
        state().wide = True
    return value


# Every listing takes --wide; commands do not use the value: show_table reads it from the state.
WideOpt = Annotated[bool, typer.Option(
    "--wide", "-W", callback=_set_wide, expose_value=False,
    help=h("tables: every column, long text wrapped (default: fit the terminal)", "表格：显示全部列，长文字换行（默认适应终端宽度）"),
)]


def show_table(rows: Iterable[Mapping[str, Any]], columns: Any, **kwargs: Any) -> int:
    """render.table in the interface language, fitted to the terminal unless --wide."""
    from .. import render

    st = state()
    return render.table(rows, columns, wide=st.wide, lang=st.lang, **kwargs)


def check_format(fmt: str, allowed: Iterable[str]) -> str:
    fmt = fmt.lower()
    allowed = tuple(allowed)
    if fmt not in allowed:
        raise ValidationError("format", fmt, "option_unknown", details={"allowed": ", ".join(allowed)})
    return fmt


def field_help(f: Field) -> str:
    star = " *" if f.required else ""
    return f"{f.zh} / {f.en}{star}" if LANG == "zh" else f"{f.en} ({f.zh}){star}"


def with_extra_options(
    func: Callable[..., Any],
    replaced: str,
    extra: list[tuple[str, Any, Any]],
    collect: Callable[[dict[str, Any]], Any],
) -> Callable[..., Any]:
    """``func`` with keyword options generated at import time: ``extra`` is (name, Annotated
    type, default) each; ``collect`` turns their values into ``func``'s ``replaced`` argument.
    Typer reads the signature built here, so the options need no hand-written parameters."""
    sig = inspect.signature(func)
    hints = typing.get_type_hints(func, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != replaced]
    annotations = {k: v for k, v in hints.items() if k != replaced}
    for name, ann, default in extra:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann))
        annotations[name] = ann

    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name, _, _ in extra}
        return func(**{replaced: collect(values)}, **kwargs)

    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = annotations
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__module__ = func.__module__
    return wrapper


def with_field_options(exclude: Iterable[str] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command one ``--<field-key>`` option per editable field, generated from FIELDS so
    the flags can never drift from the field list. The values given arrive in a ``fields`` dict."""
    skip = set(exclude)
    extra = [
        (f.key, Annotated[Optional[str], typer.Option(f.flag, help=field_help(f), show_default=False)], None)  # noqa: UP045
        for f in FIELDS
        if f.editable and f.key not in skip
    ]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return with_extra_options(func, "fields", extra, lambda values: {k: v for k, v in values.items() if v is not None})

    return decorate


def complete_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of customer IDs (with names as the description)."""
    from .. import customers

    try:
        db = ctx.find_root().params.get("db")
        with open_store(db, migrate=False, create=False) as store:  # completing never creates
            return customers.ids_starting(store.conn, incomplete)
    except Exception:  # completion must never print a traceback into the shell
        return []


def option_completer(field_key: str) -> Callable[[typer.Context, str], list[tuple[str, str]]]:
    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        from ..options import OptionSet

        try:
            db = ctx.find_root().params.get("db")
            with open_store(db, migrate=False, create=False) as store:  # completing never creates
                opts = OptionSet.load(store.conn).active(field_key)
        except Exception:
            return []
        low = incomplete.lower()
        return [
            (o.code, f"{o.label_zh} {o.label_en}") for o in opts
            if o.code.startswith(low) or o.label_zh.startswith(incomplete)
        ]

    return complete


def emit_records(
    rows: Iterable[Mapping[str, Any]],
    fmt: str,
    *,
    columns: list[str],
    display: Callable[[Mapping[str, Any]], Mapping[str, str]],
    machine: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    lang: str,
    title: str | None = None,
    caption: str | None = None,
) -> int:
    from .. import render

    if fmt == "table":
        def display_rows() -> Iterable[Mapping[str, str]]:
            for row in rows:
                shown = dict(display(row))
                shown["_status"] = row.get("status") or ""
                yield shown

        return show_table(
            display_rows(),
            render.customer_columns(columns, lang),
            row_style=lambda r: render.status_style(r.get("_status")),
            title=title,
            caption=caption,
        )
    return render.write_machine((machine(r) for r in rows), fmt, sys.stdout, keys=columns if fmt in ("csv", "tsv") else None)
