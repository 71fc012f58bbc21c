"""Reading an inbound text: keywords (DESIGN.md §5) and free-text revocation.

Keywords are one word, insensitive to case, spacing, punctuation and accents ("Stop.", " stop ",
"S.T.O.P", "opt-out" all read STOP). Free text that a reasonable person reads as "stop texting me"
also opts out and is flagged for staff — we'd rather stop a wanted reminder than keep texting
someone who asked us not to."""

import re
import unicodedata

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
CONFIRM = "confirm"
REVOCATION = "revocation"
OTHER = "other"

OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_WORDS = frozenset({"start", "yes", "unstop"})
HELP_WORDS = frozenset({"help", "info"})
CONFIRM_WORDS = frozenset({"c", "confirm"})

OPT_OUT_TYPES = {"STOP": OPT_OUT, "START": OPT_IN, "HELP": HELP}

_VERBS = r"(?:text|texting|txt|message|messaging|msg|sms|contact|contacting|send|sending|call|calling|email)"
REVOCATION_PATTERNS = [
    re.compile(p)
    for p in (
        # "please stop texting me", "stop sending me messages", "stop all the texts"
        r"\bstop\s+(?:\w+\s+){0,2}(?:" + _VERBS[3:-1] + r"|texts|messages|msgs)\b",
        r"\b(?:do not|dont|don t|never)\s+(?:ever\s+)?" + _VERBS + r"\b",  # "don't text me", "do not contact me"
        r"\bremove me\b",
        r"\btake me off\b",
        r"\b(?:unsubscribe|opt) me\b",
        r"\bopt(?:ing)? out\b",
        r"\bleave me alone\b",
        r"\bno more (?:texts|text|messages|msgs|sms)\b",
        r"\bnot interested\b.*\b(?:texts|messages)\b",
        r"\bwrong number\b",
        r"\bi (?:want|would like|d like) to (?:stop|unsubscribe|opt out)\b",
        # Spanish
        r"^no mas\b",
        r"\bno mas (?:mensajes|textos|sms)\b",
        r"\bno me (?:envie|envien|mande|manden|escriba|escriban|contacte|contacten)\b",
        r"\b(?:deje|dejen) de (?:enviar|mandar|escribir)",
        r"\bbaja\b",
    )
]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().replace("’", "'")


def keyword_of(text: str) -> str:
    """The message as one keyword candidate: letters and digits only ("Stop!" → "stop")."""
    return "".join(re.findall(r"[a-z0-9]+", _fold(text)))


def looks_like_revocation(text: str) -> bool:
    words = " ".join(re.findall(r"[a-z0-9]+", _fold(text).replace("'", "")))
    return any(pattern.search(words) for pattern in REVOCATION_PATTERNS)


def classify(text: str, *, opt_out_type: str = "") -> str:
    if opt_out_type and opt_out_type.upper() in OPT_OUT_TYPES:
        return OPT_OUT_TYPES[opt_out_type.upper()]
    word = keyword_of(text)
    if word in OPT_OUT_WORDS:
        return OPT_OUT
    if word in OPT_IN_WORDS:
        return OPT_IN
    if word in HELP_WORDS:
        return HELP
    if word in CONFIRM_WORDS:
        return CONFIRM
    if looks_like_revocation(text):
        return REVOCATION
    return OTHER
