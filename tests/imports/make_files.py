"""Import fixtures made by independent tools (Python's csv, json and xml.etree, openpyxl), messy on purpose.

    python make_files.py OUTDIR

Every good file holds the same five contacts (see ROWS), so the end-to-end tests can check that each format
imports to the same records. Bad files are built to be refused with a clear reason.
"""

import csv
import datetime
import io
import json
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl

# email, first name, age, subscribed, joined, notes
ROWS = [
    ("ana@example.com", "Ana", 34, True, datetime.date(2024, 1, 31), 'likes "quotes", commas'),
    ("bo@example.com", "Bö", 27, False, datetime.date(2023, 12, 1), "two\nlines"),
    ("  CY@Example.com ", "Cyrille", 45, True, datetime.date(2022, 6, 15), ""),
    ("dee@example.com", "Dée", 51, False, datetime.date(2021, 3, 9), "=1+1"),
    ("eve@example.com", "Eve", 19, True, datetime.date(2020, 10, 20), "last"),
]
HEADER = ["E-mail", "First name", "Age", "Subscribed", "Joined", "Notes"]


def text_rows():
    for email, name, age, sub, joined, notes in ROWS:
        yield [email, name, str(age), "yes" if sub else "no", joined.strftime("%d/%m/%Y"), notes]


def write_csv(path, encoding, delimiter, extra_rows=()):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(HEADER)
        for r in text_rows():
            w.writerow(r)
        for r in extra_rows:
            w.writerow(r)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # UTF-8 with BOM, semicolons, CRLF, a quoted line break; plus a bad age, a duplicate e-mail and a ragged row
    write_csv(
        out / "contacts.csv",
        "utf-8-sig",
        ";",
        extra_rows=[
            ["frank@example.com", "Frank", "old", "yes", "01/01/2020", ""],
            ["ana@example.com", "Ana again", "35", "yes", "01/02/2024", "duplicate"],
            ["gus@example.com", "Gus"],
        ],
    )
    # Windows-1252, commas: what Excel on Western-European Windows saves
    write_csv(out / "contacts-1252.csv", "cp1252", ",")

    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Read me"
    notes["A1"] = "The data is on the next sheet"
    sheet = wb.create_sheet("Contacts")
    sheet.append(HEADER)
    for email, name, age, sub, joined, note in ROWS:
        sheet.append([email, name, age, sub, joined, note or None])
    wb.save(out / "contacts.xlsx")

    records = [
        {"E-mail": e, "First name": n, "Age": a, "Subscribed": s, "Joined": j.strftime("%d/%m/%Y"), "Notes": no}
        for e, n, a, s, j, no in ROWS
    ]
    (out / "contacts.json").write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "contacts.ndjson").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n\n" for r in records), encoding="utf-8"
    )
    root = ET.Element("contacts")
    for r in records:
        c = ET.SubElement(root, "contact")
        for k, v in r.items():
            ET.SubElement(c, k.replace(" ", "_").replace("-", "")).text = str(v)
    ET.ElementTree(root).write(out / "contacts.xml", encoding="utf-8", xml_declaration=True)

    # --- files to refuse
    whole = (out / "contacts.xlsx").read_bytes()
    (out / "truncated.xlsx").write_bytes(whole[: len(whole) // 2])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            block = b" " * (1 << 20)
            for _ in range(300):
                f.write(block)
    (out / "bomb.xlsx").write_bytes(bomb.getvalue())
    (out / "entities.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        "<contacts><contact><E-mail>&x;</E-mail></contact><contact><E-mail>b</E-mail></contact></contacts>\n",
        encoding="utf-8",
    )
    (out / "not-records.json").write_text(json.dumps({"contacts": 5, "page": 1}, indent=2), encoding="utf-8")
    (out / "unterminated.csv").write_text('E-mail,Notes\r\na@example.com,"never closed\r\nb@example.com,x\r\n', encoding="utf-8")
    (out / "empty.csv").write_bytes(b"")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
