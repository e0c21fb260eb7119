"""Keywords: the whole message, any case, surrounding whitespace and punctuation ignored."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.keywords import OPT_OUT_WORDS, Classification, Keyword, classify, read


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop.",
        "  stop! ",
        "\tStOp\t",
        "\nSTOP\r\n",
        "«stop»",
        "¡STOP!",
        "“Stop”",
        "stop…",
        "\u200bstop\u200b",  # zero-width spaces
        "\ufeffSTOP",  # byte-order mark
        "\u00a0stop\u3000",  # no-break and ideographic spaces
        "\uff33\uff34\uff2f\uff30",  # full-width
        "stopall",
        "Unsubscribe",
        "cancel",
        "END.",
        "quit!!!",
        "...STOP...",
        "\x00stop\x07",  # control characters around it
    ],
)
def test_opt_out_words_as_the_whole_message_opt_out(body: str) -> None:
    assert classify(body, opted_out=False) is Keyword.OPT_OUT
    assert classify(body, opted_out=True) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    "body",
    [
        "stop please",
        "please stop",
        "STOP ALL",
        "s t o p",
        "st0p",
        "stopp",
        "\u0455top",  # Cyrillic dze, a look-alike
        "STOP 🛑",  # an emoji is not punctuation
        "no",
        "",
        "   ",
        "?!",
        "Thanks, see you Tuesday",
    ],
)
def test_anything_else_is_a_reply(body: str) -> None:
    assert classify(body, opted_out=False) is Keyword.REPLY


@pytest.mark.parametrize("body", ["START", "start", " Unstop! ", "unstop"])
def test_start_and_unstop_opt_in_anyone(body: str) -> None:
    assert classify(body, opted_out=True) is Keyword.OPT_IN
    assert classify(body, opted_out=False) is Keyword.OPT_IN


@pytest.mark.parametrize("body", ["YES", "yes", "Yes!", " yes. "])
def test_yes_opts_in_only_a_phone_that_is_opted_out(body: str) -> None:
    assert classify(body, opted_out=True) is Keyword.OPT_IN
    assert classify(body, opted_out=False) is Keyword.REPLY


@pytest.mark.parametrize("body", ["HELP", "help?", "Info", " INFO. "])
def test_help_and_info_ask_for_help(body: str) -> None:
    assert classify(body, opted_out=False) is Keyword.HELP
    assert classify(body, opted_out=True) is Keyword.HELP


def test_read_gives_the_normalised_word_for_evidence() -> None:
    assert read("  stop! ", opted_out=False) == Classification(Keyword.OPT_OUT, "STOP")
    assert read("Yes.", opted_out=True) == Classification(Keyword.OPT_IN, "YES")
    assert read(
        "\uff35\uff2e\uff33\uff35\uff22\uff33\uff23\uff32\uff29\uff22\uff25", opted_out=False
    ) == Classification(Keyword.OPT_OUT, "UNSUBSCRIBE")
    assert read("yes", opted_out=False) == Classification(Keyword.REPLY, "")


def test_a_long_body_padded_around_stop_still_opts_out() -> None:
    assert classify(" " * 2000 + "STOP" + "." * 500, opted_out=False) is Keyword.OPT_OUT


@given(
    word=st.sampled_from(sorted(OPT_OUT_WORDS)),
    before=st.text(alphabet=" \t\n.,!?;:-'\"()", max_size=6),
    after=st.text(alphabet=" \t\n.,!?;:-'\"()", max_size=6),
    upper=st.lists(st.booleans(), min_size=11, max_size=11),
)
def test_any_case_and_surrounding_punctuation_opt_out(
    word: str, before: str, after: str, upper: list[bool]
) -> None:
    mixed = "".join(c.upper() if up else c.lower() for c, up in zip(word, upper, strict=False))
    assert classify(before + mixed + after, opted_out=False) is Keyword.OPT_OUT


@given(st.text(max_size=40))
def test_classify_never_fails(body: str) -> None:
    assert isinstance(read(body, opted_out=False), Classification)
