import pytest

from domain.recipient_lists import (
    RecipientListError,
    parse_csv,
    parse_pasted,
    phone_of,
    unknown_placeholders,
)


def test_pasted_phones_split_on_commas_tabs_spaces_and_newlines() -> None:
    text = "+447700900001, +447700900002\n+447700900003\t+447700900004\n+447700900005 +447700900006"
    assert [phone for phone, _ in parse_pasted(text).rows] == [
        f"+44770090000{i}" for i in range(1, 7)
    ]


def test_pasted_extra_columns_become_variables_named_by_a_header_line() -> None:
    listed = parse_pasted("phone,name,city\n+447700900001,Ann,Leeds\n+447700900002,Bob,York\n")
    assert listed.rows == [
        ("+447700900001", {"name": "Ann", "city": "Leeds"}),
        ("+447700900002", {"name": "Bob", "city": "York"}),
    ]
    assert listed.columns == ["name", "city"]


def test_pasted_extra_columns_without_a_header_are_named_by_position() -> None:
    listed = parse_pasted("Ann\t+447700900001\tLeeds")
    assert listed.rows == [("+447700900001", {"column_1": "Ann", "column_3": "Leeds"})]


def test_pasted_nothing_is_an_error() -> None:
    with pytest.raises(RecipientListError, match="no recipients"):
        parse_pasted(" \n\t\n")


def test_phones_lose_spaces_and_punctuation_but_not_letters() -> None:
    assert phone_of(" +44 (0)7700-900.123 ") == "+4407700900123"
    assert phone_of("not a phone") == "not a phone"


def test_csv_finds_the_phone_column_in_any_case_and_keeps_the_rest_as_variables() -> None:
    data = '\ufeffName;MOBILE;City\n"Smith; Ann";+44 7700 900001;Leeds\nBob;+447700900002;\n'
    listed = parse_csv(data.encode())
    assert listed.phone_column == "MOBILE"
    assert listed.columns == ["Name", "City"]
    assert listed.rows == [
        ("+447700900001", {"Name": "Smith; Ann", "City": "Leeds"}),
        ("+447700900002", {"Name": "Bob", "City": ""}),
    ]


@pytest.mark.parametrize("header", ["phone", "Number", "TEL", "telephone", "mobile"])
def test_csv_phone_headers(header: str) -> None:
    assert parse_csv(f"{header},x\r\n+447700900001,1\r\n".encode()).rows == [
        ("+447700900001", {"x": "1"})
    ]


def test_csv_without_a_phone_column_names_the_headers_found() -> None:
    with pytest.raises(RecipientListError) as raised:
        parse_csv(b"name,email\nAnn,a@example.com\n")
    assert "'name', 'email'" in str(raised.value)
    assert "phone, number, mobile, tel, telephone" in str(raised.value)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \n\n"])
def test_csv_empty_file(data: bytes) -> None:
    with pytest.raises(RecipientListError, match="empty"):
        parse_csv(data)


def test_csv_header_only_and_not_utf8() -> None:
    with pytest.raises(RecipientListError, match="no rows"):
        parse_csv(b"phone,name\n")
    with pytest.raises(RecipientListError, match="not UTF-8"):
        parse_csv(b"phone,name\n+447700900001,Ren\xe9\n")


def test_csv_ragged_rows_are_noted() -> None:
    listed = parse_csv(b"phone,name\n+447700900001\n+447700900002,Bob,extra\n")
    assert listed.rows[0] == ("+447700900001", {"name": ""})
    assert "2 rows" in listed.notes[0]


def test_unknown_placeholders() -> None:
    assert unknown_placeholders("Hi {{ name }}, {{code}} {{name}}", ["name"]) == ["code"]
