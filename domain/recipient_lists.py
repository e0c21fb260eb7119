"""Recipients a person pastes or uploads: pasted text or a CSV file → (phone, variables) rows.

Pasted text: one recipient per line, or several phones on one line. A line's fields are
split on tabs if it has any, else on commas or semicolons (quotes respected), else on
spaces. A line whose fields are all phones gives one recipient each; otherwise its first
phone-like field is the phone and the other fields are variables, named by a header line
(a first line with no phone in it) or else `column_2`, `column_3`, … by position.

CSV: the header names the phone column (`phone`, `number`, `mobile`, `tel`, `telephone`
in any case); every other column becomes a variable. UTF-8 with or without a BOM, comma
or semicolon separated, quoted fields. Phones lose spaces, dashes, dots and brackets
("+44 7700-900 123" → "+447700900123"); whether a phone is valid is decided later, by the
campaign's checks, which report each bad one with its reason.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from domain.template import PLACEHOLDER

PHONE_HEADERS = ("phone", "number", "mobile", "tel", "telephone")
PHONE_LIKE = re.compile(r"\+?[0-9][0-9 ()./\-]{5,22}[0-9]")
PHONE_PUNCTUATION = re.compile(r"[ ()./\-]")


class RecipientListError(ValueError):
    """The input as a whole cannot be read (no phone column, empty, not UTF-8)."""


@dataclass
class RecipientList:
    rows: list[tuple[str, dict[str, str]]]
    columns: list[str]  # the variables' names, in column order
    phone_column: str | None  # the CSV header naming the phones
    notes: list[str] = field(default_factory=list)  # things worth telling, e.g. ragged rows


def phone_of(value: str) -> str:
    """A phone as typed, without the spaces and punctuation people put in them."""
    value = value.strip()
    bare = PHONE_PUNCTUATION.sub("", value)
    return bare if re.fullmatch(r"\+?[0-9]+", bare) else value


def looks_like_phone(value: str) -> bool:
    return PHONE_LIKE.fullmatch(value.strip()) is not None


def _split(line: str) -> list[str]:
    if "\t" in line:
        return [f.strip() for f in line.split("\t")]
    if "," in line or ";" in line:
        delimiter = "," if line.count(",") >= line.count(";") else ";"
        return [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]
    return line.split()


def parse_pasted(text: str) -> RecipientList:
    lines = [line for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise RecipientListError("no recipients: paste at least one phone number")
    header: list[str] | None = None
    first = [f for f in _split(lines[0]) if f]
    if not any(looks_like_phone(f) for f in first):
        header = first
        lines = lines[1:]
    rows: list[tuple[str, dict[str, str]]] = []
    columns: dict[str, None] = {}
    without_phone = 0
    for line in lines:
        fields = [f for f in _split(line) if f != ""]
        if not fields:
            continue
        phones = [looks_like_phone(f) for f in fields]
        if all(phones):
            rows.extend((phone_of(f), {}) for f in fields)
            continue
        at = phones.index(True) if any(phones) else 0
        without_phone += not any(phones)
        variables: dict[str, str] = {}
        for position, value in enumerate(fields):
            if position == at:
                continue
            if header is not None and position < len(header) and header[position]:
                name = header[position]
            else:
                name = f"column_{position + 1}"
            variables[name] = value
            columns[name] = None
        rows.append((phone_of(fields[at]), variables))
    if not rows:
        raise RecipientListError("no recipients: the text has a header line but no rows")
    notes = []
    if without_phone:
        notes.append(
            f"{without_phone} lines have no phone-like field: their first field is"
            " taken as the phone"
        )
    return RecipientList(rows, list(columns), None, notes)


def parse_csv(data: bytes) -> RecipientList:
    if not data.strip():
        raise RecipientListError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RecipientListError(
            f"the file is not UTF-8 (byte {error.start} is"
            f" {data[error.start : error.start + 1]!r}); save it as CSV UTF-8"
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RecipientListError("the file is empty") from None
    except csv.Error as error:
        raise RecipientListError(f"the header line cannot be read: {error}") from None
    lowered = [h.lower() for h in header]
    phone_at = next((lowered.index(h) for h in PHONE_HEADERS if h in lowered), None)
    if phone_at is None:
        found = ", ".join(repr(h) for h in header) or "none"
        raise RecipientListError(
            f"no phone column: the header must name one of {', '.join(PHONE_HEADERS)}"
            f" (any case); headers found: {found}"
        )
    variables_at = [(i, h) for i, h in enumerate(header) if i != phone_at and h]
    rows: list[tuple[str, dict[str, str]]] = []
    ragged = 0
    try:
        for record in reader:
            if not record or not any(f.strip() for f in record):
                continue
            if len(record) != len(header):
                ragged += 1
            phone = record[phone_at] if phone_at < len(record) else ""
            rows.append(
                (
                    phone_of(phone),
                    {h: record[i] if i < len(record) else "" for i, h in variables_at},
                )
            )
    except csv.Error as error:
        raise RecipientListError(f"line {reader.line_num} cannot be read: {error}") from None
    if not rows:
        raise RecipientListError("the file has a header line but no rows")
    notes = []
    if ragged:
        notes.append(
            f"{ragged} rows do not have {len(header)} fields as the header does:"
            " missing fields are empty, extra ones ignored"
        )
    return RecipientList(rows, [h for _, h in variables_at], header[phone_at], notes)


def placeholders(template: str) -> list[str]:
    """The placeholders of a template, once each, in order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def unknown_placeholders(template: str, columns: list[str]) -> list[str]:
    """Placeholders no column gives: they render as empty."""
    known = set(columns)
    return [name for name in placeholders(template) if name not in known]
