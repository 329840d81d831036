"""Input readers: strict encoding detection, delimiter sniffing, JSON streaming, XLSX cells."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from crmcli import readers
from crmcli.readers import InputError, detect_encoding, iter_json_array, open_source, sniff_delimiter

TEXT = "客户名称,联系方式*\n上海明达制造有限公司,13812345678\n北京华信科技,010-12345678\n"


def rows(path: Path, **kw: object) -> tuple[list[str], list[tuple[int, list[object]]], str | None]:
    src = open_source(str(path), **kw)  # type: ignore[arg-type]
    try:
        return src.headers, list(src.rows), src.encoding
    finally:
        src.close()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("utf-16"), "utf-16"),  # with BOM
        (TEXT.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf-16"),
    ],
)
def test_every_encoding_decodes_to_the_same_rows(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    headers, got, encoding = rows(path)
    assert encoding == expected
    assert headers == ["客户名称", "联系方式*"]
    assert got == [(2, ["上海明达制造有限公司", "13812345678"]), (3, ["北京华信科技", "010-12345678"])]


def test_two_row_gbk_file_is_not_mistaken_for_big5(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("客户名称,联系人姓名\n采购部,王强\n".encode("gbk"))
    headers, got, encoding = rows(path)
    assert encoding == "gb18030"
    assert headers == ["客户名称", "联系人姓名"]
    assert got == [(2, ["采购部", "王强"])]


def test_undecodable_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,phone\nok,13812345678\nbad \xff\xff,1\n")
    with pytest.raises(InputError) as exc:
        open_source(str(path))
    assert "line 3" in str(exc.value)
    assert "--encoding" in str(exc.value)


def test_explicit_encoding_is_used_strictly(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(TEXT.encode("gbk"))
    assert rows(path, encoding="gbk")[2] == "gbk"
    with pytest.raises(InputError, match="line 1 is not valid utf-8"):
        open_source(str(path), encoding="utf-8")


def test_detect_encoding_checks_the_whole_stream() -> None:
    late = ("a,b\n" + "x,y\n" * 50_000).encode() + "中,文\n".encode("gbk")
    assert detect_encoding(io.BytesIO(late)) == "gb18030"


@pytest.mark.parametrize(
    ("line", "delimiter"), [("a,b,c", ","), ("a\tb\tc", "\t"), ("a;b;c", ";"), ("a|b", "|"), ("a", ",")]
)
def test_sniff_delimiter(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def test_semicolon_csv_and_quoted_multiline_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('name;notes\n"A";"two\nlines"\nB;x\n', encoding="utf-8")
    headers, got, _ = rows(path)
    assert headers == ["name", "notes"]
    assert got == [(2, ["A", "two\nlines"]), (4, ["B", "x"])]


def test_json_array_is_streamed_item_by_item() -> None:
    text = io.StringIO('[{"a": 1}, {"a": "x\\u4e2d"} ,\n {"a": [1, 2]}]')
    assert list(iter_json_array(text)) == [(1, {"a": 1}), (2, {"a": "x中"}), (3, {"a": [1, 2]})]


def test_json_array_across_buffer_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK", 7)
    items = [{"name": f"客户{i}", "n": i} for i in range(50)]
    import json

    got = [v for _, v in iter_json_array(io.StringIO(json.dumps(items, ensure_ascii=False)))]
    assert got == items


def test_json_and_jsonl_sources(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('[{"name": "A", "amount": 1.5}, {"name": "B", "amount": null}]', encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"name": "A"}\n\n{"name": "B"}\n', encoding="utf-8")
    assert rows(tmp_path / "a.json")[:2] == (["name", "amount"], [(1, ["A", 1.5]), (2, ["B", None])])
    assert rows(tmp_path / "a.jsonl")[:2] == (["name"], [(1, ["A"]), (3, ["B"])])
    (tmp_path / "b.jsonl").write_text('{"name": "A"}\n{"name": "B", "zzz": 1}\n', encoding="utf-8")
    src = open_source(str(tmp_path / "b.jsonl"))
    with pytest.raises(InputError, match="line 2"):
        list(src.rows)
    src.close()


def test_format_is_sniffed_for_stdin() -> None:
    assert readers.detect_format("-", None, b"[{") == "json"
    assert readers.detect_format("-", None, b'{"a"') == "jsonl"
    assert readers.detect_format("-", None, b"PK\x03\x04") == "xlsx"
    assert readers.detect_format("-", None, "客户".encode()) == "csv"
    assert readers.detect_format("x.TSV", None, b"") == "tsv"


def test_xlsx_cells_keep_their_types(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["name", "phone", "first_contact"])
    ws.append(["A", 13812345678, dt.date(2024, 5, 3)])
    ws.append([None, None, None])  # blank rows are skipped
    ws.append(["B", "010-12345678", 45123])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    src = open_source(str(path))
    try:
        assert src.headers == ["name", "phone", "first_contact"]
        got = list(src.rows)
    finally:
        src.close()
    assert got[0][0] == 2 and got[0][1][1] == 13812345678
    assert got[0][1][2] == dt.date(2024, 5, 3)  # calamine gives a date for a date cell at midnight
    assert got[1][0] == 4 and got[1][1][2] == 45123
