"""Editing a customer in ``$EDITOR``: render the record as a YAML document, parse it back, diff.

The document is plain ``key: value`` YAML, one line (or ``|`` block) per editable field, each
with a comment naming the field and its allowed values. It is read back with YAML's *base*
loader, so every value stays text (``13812345678`` stays a string, ``no`` is not ``False``) and
goes through the same validation as ``crm edit --field value``.

Only the fields whose text the user changed are saved; the save carries the row version read
when the document was made, so a change by someone else in the meantime is refused, not lost.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import parsing, phones
from .errors import UsageError
from .fields import BY_KEY, FIELDS
from .options import OptionSet

EDITABLE: tuple[str, ...] = tuple(f.key for f in FIELDS if f.editable and f.key != "id")

_HEADER = {
    "en": (
        "# crm edit {id} — {name}  (version {version})",
        "# Change values, save and close the editor. Close without saving, or empty the file, to cancel.",
        "# An empty value clears an optional field; a removed line leaves its field unchanged.",
        "# Dropdowns take the code or either label. The phone is masked: replace it whole to change it.",
    ),
    "zh": (
        "# crm edit {id} — {name}（版本 {version}）",
        "# 修改后保存并关闭编辑器。不保存直接关闭或清空文件即取消。",
        "# 值留空即清除可选字段；删除某一行则该字段不变。",
        "# 下拉字段可填代码或任一名称。电话已打码：如需修改请整体替换。",
    ),
}


def _text_value(key: str, value: Any, options: OptionSet, lang: str, reveal: bool) -> str:
    """A stored value as the document shows it (and as the user would type it)."""
    if value is None or value == "":
        return ""
    kind = BY_KEY[key].kind
    if kind == "choice":
        return options.label(key, str(value), lang)
    if kind == "phone":
        return str(value) if reveal else phones.mask_phone(str(value))
    if kind == "amount":
        return parsing.format_amount(int(value))
    return str(value)


def values_for(record: Mapping[str, Any], options: OptionSet, lang: str, *, reveal: bool = False) -> dict[str, str]:
    """The text of each editable field, as :func:`render` writes it: the baseline for :func:`diff`."""
    return {key: _text_value(key, record.get(key), options, lang, reveal) for key in EDITABLE}


def _dump_scalar(key: str, text: str) -> str:
    import yaml

    if text == "":
        return f"{key}:"

    # The base dumper knows no implicit types: dates and numbers are written bare, not quoted,
    # since the base loader reads every value back as text anyway.
    class Dumper(yaml.BaseDumper):
        pass

    def represent_str(dumper: yaml.BaseDumper, data: str) -> Any:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, represent_str)
    Dumper.add_representer(dict, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data))
    out = yaml.dump({key: text}, Dumper=Dumper, allow_unicode=True, width=1 << 30, sort_keys=False)
    return out.rstrip("\n")


def render(
    record: Mapping[str, Any], options: OptionSet, lang: str, *, reveal: bool = False, error: str | None = None
) -> str:
    """The YAML document for one customer. ``error`` (from a failed save) is shown at the top."""
    lang = lang if lang in _HEADER else "en"
    lines: list[str] = []
    if error:
        lines += [f"# ERROR: {line}" for line in error.splitlines()] + ["#"]
    lines += [
        h.format(id=record.get("id"), name=record.get("name"), version=record.get("version")) for h in _HEADER[lang]
    ]
    texts = values_for(record, options, lang, reveal=reveal)
    for key in EDITABLE:
        spec = BY_KEY[key]
        note = spec.label(lang) + (" *" if spec.required else "")
        if spec.kind == "choice":
            note += ": " + " / ".join(o.label(lang) for o in options.active(key))
        elif spec.kind == "date":
            note += ": YYYY-MM-DD"
        elif spec.kind == "amount":
            note += ": " + ("元" if lang == "zh" else "yuan")
        elif spec.kind == "grade":
            note += ": A / B / C"
        lines.append("")
        lines.append(f"# {note}")
        lines.append(_dump_scalar(key, texts[key]))
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, str] | None:
    """Read an edited document back: ``{key: text}`` for each field present, or ``None`` when the
    document is empty (the user's way to cancel). Raises UsageError for anything else."""
    import yaml

    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only str/list/dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        where_zh = f"（第 {mark.line + 1} 行）" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(
            f"the edited document is not valid YAML{where}: {problem}",
            zh=f"编辑后的文档不是有效的 YAML{where_zh}：{problem}",
        ) from None
    if data is None or data == "":
        return None
    if not isinstance(data, dict):
        raise UsageError("the edited document must be `field: value` lines", zh="编辑后的文档必须由 `字段: 值` 行组成")
    values: dict[str, str] = {}
    for key, value in data.items():
        name = str(key).strip().replace("-", "_")
        if name not in BY_KEY:
            raise UsageError(
                f"{key!r} is not a field; fields: {', '.join(EDITABLE)}", zh=f"{key!r} 不是字段；可用字段：{', '.join(EDITABLE)}"
            )
        if name not in EDITABLE:
            raise UsageError(f"{name} cannot be changed here", zh=f"{name} 不能在这里修改")
        if isinstance(value, (dict, list)):
            raise UsageError(f"{name}: expected one value, not a list or mapping", zh=f"{name}：应为单个值，而不是列表或映射")
        values[name] = "" if value is None else str(value)
    return values


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str | None]:
    """The fields whose text changed: ``{key: new text}``, ``None`` where the value was cleared.

    Surrounding whitespace does not count as a change (editors add and drop trailing spaces)."""
    changed: dict[str, str | None] = {}
    for key, new in after.items():
        old = before.get(key, "")
        if new.strip() != old.strip():
            changed[key] = new.strip() if new.strip() else None
    return changed


# ---------------------------------------------------------------------------- the editor


def editor_command(env: Mapping[str, str] | None = None) -> list[str]:
    """``$VISUAL`` or ``$EDITOR``, split like a shell would. Raises UsageError when neither is set."""
    env = os.environ if env is None else env
    for var in ("VISUAL", "EDITOR"):
        value = (env.get(var) or "").strip()
        if value:
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                raise UsageError(f"${var} cannot be parsed ({exc}): {value!r}", zh=f"无法解析 ${var}（{exc}）：{value!r}") from None
            if argv:
                return argv
    raise UsageError(
        "no editor: set $EDITOR (for example `export EDITOR=nano`), or give the changes as options: "
        "crm edit ID --FIELD VALUE",
        zh="没有编辑器：请设置 $EDITOR（例如 `export EDITOR=nano`），或用选项给出修改：crm edit 编号 --字段 值",
    )


def run_editor(text: str, *, suffix: str = ".yaml", env: Mapping[str, str] | None = None) -> str:
    """Write ``text`` to a private temporary file, open it in the user's editor, return the result.

    The file is created 0600 and removed afterwards. A failing editor (non-zero exit) cancels."""
    argv = editor_command(env)
    fd, name = tempfile.mkstemp(prefix="crm-edit-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            completed = subprocess.run([*argv, str(path)], check=False)
        except FileNotFoundError:
            raise UsageError(
                f"the editor {argv[0]!r} was not found; check $VISUAL / $EDITOR",
                zh=f"找不到编辑器 {argv[0]!r}；请检查 $VISUAL / $EDITOR",
            ) from None
        except PermissionError:
            raise UsageError(
                f"the editor {argv[0]!r} cannot be run; check $VISUAL / $EDITOR",
                zh=f"无法运行编辑器 {argv[0]!r}；请检查 $VISUAL / $EDITOR",
            ) from None
        if completed.returncode != 0:
            raise UsageError(
                f"the editor exited with status {completed.returncode}; nothing was saved",
                zh=f"编辑器以状态 {completed.returncode} 退出；未保存任何内容",
            )
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except UnicodeDecodeError:
            raise UsageError(
                "the edited file is not UTF-8 text; nothing was saved", zh="编辑后的文件不是 UTF-8 文本；未保存任何内容"
            ) from None
    finally:
        path.unlink(missing_ok=True)
