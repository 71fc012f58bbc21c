"""What a person's name can be, for forms the public fills in and for texts that greet by name.

A name is letters (any script), spaces, hyphens, apostrophes and full stops ("Mary-Jo", "O'Brien",
"J. D."), at most a few words and a few dozen characters. Anything else — digits, links, colons,
"URGENT card declined, pay now at http://…" — is not a name: the portal refuses it, and a text
never carries it (issue 17: nothing typed by the public goes out verbatim)."""

import re
import unicodedata

MAX_NAME_LENGTH = 40
MAX_NAME_WORDS = 4
TEXT_NAME_LENGTH = 24  # a first name in a text message: short and at most two words, or not at all
TEXT_NAME_WORDS = 2

_NAME = re.compile(r"[^\W\d_]+(?:[ '\-.][^\W\d_]*)*\.?", re.UNICODE)

NOT_A_NAME = "Use letters only (spaces, hyphens and apostrophes are fine), up to 40 characters."


def clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").replace("’", "'")
    return " ".join(text.split())


def is_plausible_name(raw: str, *, max_length: int = MAX_NAME_LENGTH, max_words: int = MAX_NAME_WORDS) -> bool:
    name = clean(raw)
    return (
        bool(name) and len(name) <= max_length and len(name.split()) <= max_words and _NAME.fullmatch(name) is not None
    )


def name_for_text(raw: str) -> str:
    """The name as a text message may carry it, or "" when it is not plainly a short name."""
    name = clean(raw)
    return name if is_plausible_name(name, max_length=TEXT_NAME_LENGTH, max_words=TEXT_NAME_WORDS) else ""
