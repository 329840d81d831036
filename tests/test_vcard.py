"""vCard import (2.1, 3.0, 4.0) and export, and the other workbook formats (ODS) read by calamine."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from crmcli import vcard
from crmcli.readers import open_source

CARDS = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B;=E5=BC=BA;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E7=8E=8B=E5=BC=BA\r\n"
    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E4=B8=8A=E6=B5=B7=E6=98=8E=E8=BE=BE\r\n"
    "TEL;CELL:13812345678\r\n"
    "TEL;WORK:010-62345678\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E9=87=87=E8=B4=AD=E5=8A=9E=\r\n"
    "=E5=85=AC=E8=AE=BE=E5=A4=87\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Jane Doe\r\n"
    "N:Doe;Jane;;;\r\n"
    "ORG:Acme\\, Inc.;Sales\r\n"
    "TITLE:Head of purchasing\r\n"
    "item1.EMAIL;TYPE=INTERNET:jane@acme.example\r\n"
    "TEL;TYPE=work,voice:+1-406-714-6467\r\n"
    "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA\r\n"
    "NOTE:Met at the fair\\; wants a quote\\nfor 200 chairs\\, soon and a note long enough to be\r\n"
    "  folded\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:李娜\r\n"
    "TEL;VALUE=uri;TYPE=cell:tel:+86-139-1234-5678\r\n"
    "ADR:;;南山区科技园;深圳市;广东省;518000;中国\r\n"
    "END:VCARD\r\n"
)


def test_vcards_of_every_version_are_read(tmp_path: Path) -> None:
    path = tmp_path / "contacts.vcf"
    path.write_text(CARDS, encoding="utf-8", newline="")
    src = open_source(str(path))
    try:
        rows = list(src.rows)
    finally:
        src.close()
    assert src.format == "vcf" and src.headers == vcard.HEADERS
    first, second, third = (dict(zip(vcard.HEADERS, cells)) for _, cells in rows)
    assert [line for line, _ in rows] == [1, 11, 24]
    assert first == {
        "name": "上海明达",
        "contact": "王强",
        "phone": "13812345678",  # the CELL one; the work number goes into the notes
        "email": None,
        "address": None,
        "title": None,
        "notes": "采购办公设备; Other phones: 010-62345678",
        "id": None,
    }
    assert second["name"] == "Acme, Inc. Sales" and second["contact"] == "Jane Doe"
    assert second["notes"] == "Met at the fair; wants a quote\nfor 200 chairs, soon and a note long enough to be folded"
    assert second["address"] == "1 Main St, Springfield, IL, 62701, USA" and second["email"] == "jane@acme.example"
    assert third["name"] == "李娜" and third["phone"] == "+86-139-1234-5678"  # a person is their own customer
    assert third["address"] == "中国广东省深圳市南山区科技园"


def test_crm_import_of_a_vcard_file(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = tmp_path / "contacts.vcf"
    path.write_text(CARDS, encoding="utf-8", newline="")
    summary = json.loads(
        crm.ok("import", str(path), "--set", "source=referral", "--set", "needs=名片导入", "--format", "json")
    )
    assert summary["format"] == "vcf" and summary["added"] == 3
    conn = sqlite3.connect(isolated_env)
    names = [r[0] for r in conn.execute("SELECT contact FROM customers ORDER BY contact")]
    assert names == ["Jane Doe", "李娜", "王强"]


def test_export_vcf_masks_phones_unless_revealed_and_round_trips(crm, add, tmp_path: Path) -> None:
    add(name="上海明达, 制造; 有限公司", contact="王强", phone="13812345678", notes="第一行\n第二行" + "长" * 40)
    masked = crm.ok("export", "--format", "vcf")
    assert "TEL;TYPE=CELL:138****5678" in masked and "13812345678" not in masked
    assert "ORG:上海明达\\, 制造\\; 有限公司" in masked
    assert all(len(line.encode()) <= 75 for line in masked.replace("\r\n", "\n").split("\n"))  # folded
    out = tmp_path / "out.vcf"
    crm.ok("export", "-o", str(out), "--reveal")
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n") and "TEL;TYPE=CELL:13812345678" in text
    assert (out.stat().st_mode & 0o777) == 0o600
    src = open_source(str(out))
    try:
        ((_, cells),) = list(src.rows)
    finally:
        src.close()
    back = dict(zip(vcard.HEADERS, cells))
    assert back["name"] == "上海明达, 制造; 有限公司" and back["phone"] == "13812345678"
    assert back["notes"] == "第一行\n第二行" + "长" * 40 and back["id"]


def test_export_vcf_refuses_followups(crm, add) -> None:
    add()
    result = crm("export", "--format", "vcf", "--followups")
    assert result.exit_code == 2 and "vCard" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BEGIN:VCARD\r\nFN:x\r\nBEGIN:VCARD\r\n", "BEGIN:VCARD inside the card"),
        ("END:VCARD\r\n", "END:VCARD without BEGIN:VCARD"),
        ("FN:x\r\n", "outside a BEGIN:VCARD"),
        ("BEGIN:VCARD\r\nno colon here\r\nEND:VCARD\r\n", "not a vCard line"),
    ],
)
def test_broken_vcards_are_refused_in_one_line(crm, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.vcf"
    path.write_text(text, encoding="utf-8", newline="")
    result = crm("import", str(path))
    assert result.exit_code == 2 and expected in result.stderr and len(result.stderr.splitlines()) == 1


MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def write_ods(path: Path, rows: list[list[str]]) -> Path:
    def cell(v: str) -> str:
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    # LibreOffice ends a sheet with a million repeated empty rows: nothing to read, nothing to refuse.
    body += '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="客户">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
    return path


def test_ods_is_read_directly(crm, isolated_env: Path, tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "客户.ods",
        [["名称", "联系人", "电话"], ["甲", "王强", "13812345678"], ["乙", "李娜", "13812345679"]],
    )
    summary = json.loads(
        crm.ok("import", str(path), "--set", "source=online", "--set", "needs=采购", "--format", "json")
    )
    assert summary["format"] == "ods" and summary["added"] == 2
    renamed = path.rename(tmp_path / "no-extension")  # the content says ODS
    assert json.loads(crm.ok("import", str(renamed), "--dry-run", "--format", "json"))["format"] == "ods"


def test_ods_with_a_huge_repeated_row_of_values_is_refused(crm, tmp_path: Path) -> None:
    path = write_ods(tmp_path / "bomb.ods", [["名称"]])
    data = (
        zipfile.ZipFile(path)
        .read("content.xml")
        .replace(
            b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/>',
            b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024" '
            b'office:value-type="string"><text:p>x</text:p></table:table-cell>',
        )
    )
    bomb = tmp_path / "bomb2.ods"
    with zipfile.ZipFile(bomb, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", data, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
    result = crm("import", str(bomb))
    assert result.exit_code == 2 and "spans more than" in result.stderr


def test_xls_is_read_directly(crm, isolated_env: Path, tmp_path: Path) -> None:
    from tests.files import xls_bytes

    path = tmp_path / "客户.xls"
    path.write_bytes(
        xls_bytes([["名称", "联系人", "电话"], ["甲", "王强", 13812345678.0], ["乙", "李娜", "13812345679"]])
    )
    summary = json.loads(
        crm.ok("import", str(path), "--set", "source=online", "--set", "needs=采购", "--format", "json")
    )
    assert summary["format"] == "xls" and summary["added"] == 2
    conn = sqlite3.connect(isolated_env)
    assert sorted(conn.execute("SELECT name, phone FROM customers")) == [("乙", "13812345679"), ("甲", "13812345678")]
