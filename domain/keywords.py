"""SMS keywords: what an inbound message means before it is a reply.

The whole message, in any case, with surrounding whitespace and punctuation ignored, is
compared with the keyword lists: "  stop! ", "Stop." and "STOP" opt out; "stop please" is
an ordinary reply. YES opts back in only a phone that is opted out: for everyone else it
answers the campaign. Full-width and other compatibility forms count (NFKC), but only
ASCII words are keywords, so a look-alike letter (a Cyrillic s in "stop") is a reply.
"""

import unicodedata
from dataclasses import dataclass
from enum import Enum

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
OPT_IN_WHEN_OPTED_OUT = frozenset({"YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

# Whitespace (Z*), punctuation (P*) and control or format characters (C*: tabs, zero-width
# spaces, byte-order marks) around the word are ignored.
_IGNORED_CATEGORIES = ("Z", "P", "C")


class Keyword(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    REPLY = "reply"


@dataclass(frozen=True, slots=True)
class Classification:
    keyword: Keyword
    word: str  # the normalised keyword ("STOP"), or "" for a reply


def _ignored(char: str) -> bool:
    return unicodedata.category(char)[0] in _IGNORED_CATEGORIES or char.isspace()


def normalised(body: str) -> str:
    """The body as a keyword candidate: NFKC, surrounding whitespace and punctuation
    removed, upper case."""
    text = unicodedata.normalize("NFKC", body)
    start, end = 0, len(text)
    while start < end and _ignored(text[start]):
        start += 1
    while end > start and _ignored(text[end - 1]):
        end -= 1
    return text[start:end].upper()


def read(body: str, opted_out: bool) -> Classification:
    """What `body` means from a phone whose consent is `opted_out` (or not)."""
    word = normalised(body)
    if not word.isascii():
        return Classification(Keyword.REPLY, "")
    if word in OPT_OUT_WORDS:
        return Classification(Keyword.OPT_OUT, word)
    if word in OPT_IN_WORDS or (opted_out and word in OPT_IN_WHEN_OPTED_OUT):
        return Classification(Keyword.OPT_IN, word)
    if word in HELP_WORDS:
        return Classification(Keyword.HELP, word)
    return Classification(Keyword.REPLY, "")


def classify(body: str, opted_out: bool) -> Keyword:
    """The kind of `body` alone; `read` also gives the normalised word for evidence."""
    return read(body, opted_out).keyword
