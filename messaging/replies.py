"""Understanding an inbound text (DESIGN.md §5, §9; FCC 2024: revocation "by any reasonable means").

Two steps, both pure functions (no database):

1. `read(text)` normalises the text (case, accents, full-width letters, punctuation, stretched
   letters: "Stooop!!" → "stop") and reads what it says, in English and Spanish, as one `Reading`:
   a carrier keyword, a clear opt-out in other words, an opt-out we are not sure of, a yes, a
   "cancel", a confirmation, a HELP — or nothing we act on.
2. `decide(reading, context)` turns it into what the clinic does, given the last message sent to
   that number (`ReplyContext`): "cancel" after a reminder is about the appointment, after a
   marketing text it is an opt-out; "yes" after the double opt-in request confirms it, after a
   reminder it confirms the visit, after a staff question it is an answer for staff.

Opt-outs are recognised by structure, not by one list of phrases: a stop-verb ("stop", "quit",
"unsubscribe", "dejen de"…) whose object is our texting (texts, messages, this number, me) or
that stands alone with only politeness around it ("STOP please", "stop it", "stop stop stop").
A stop-verb aimed at something else (the waitlist, the 3 pm slot, a treatment) is not an opt-out,
and a negated channel other than SMS ("don't call me, text me instead") is a channel preference.
When the words point both ways the reading is UNSURE: consent is kept and the conversation is
flagged for staff with a one-click "this is an opt-out" button.

The table in tests/messaging/test_reply_understanding.py (≥150 replies as a clinic receives them)
is the specification; `make bench ARGS=replies` prints precision and recall on it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"  # revocation of every text from this number
    OPT_OUT_MARKETING = "opt_out_marketing"  # "no thanks" to offers, said to an offer
    UNSURE_OPT_OUT = "unsure_opt_out"  # might be a revocation: keep consent, flag for staff
    OPT_IN = "opt_in"  # START / UNSTOP: transactional texts again
    JOIN = "join"  # JOIN / SUBSCRIBE: marketing texts (written consent, from the number itself)
    YES = "yes"  # yes / y / sí: meaning depends on the last message
    CANCEL = "cancel"  # "cancel" alone: meaning depends on the last message
    CONFIRM = "confirm"  # C / CONFIRM: confirms the next visit
    HELP = "help"
    OTHER = "other"  # for the staff inbox


@dataclass(frozen=True)
class Reading:
    intent: Intent
    why: str = ""  # a short reason, shown to staff on a flagged conversation


# --- normalisation ------------------------------------------------------------------------------

_STRETCH = re.compile(r"([a-z])\1{2,}")  # "stooop" → "stop", "nooo" → "no"
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})


def fold(text: str) -> str:
    """Lower case, no accents, full-width → ASCII ("ＳＴＯＰ" → "stop", "No más" → "no mas")."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words_of(text: str) -> list[str]:
    """The words of a text: folded, apostrophes dropped ("don't" → "dont"), stretched letters
    shrunk, everything else a separator ("wait list" is one word, as "waitlist")."""
    folded = fold(text).replace("'", "")
    folded = re.sub(r"\bwait(?:ing)?[\s-]+list\b", "waitlist", folded)
    return [_STRETCH.sub(r"\1", w) for w in re.findall(r"[a-z0-9]+", folded)]


def sentences_of(text: str) -> list[list[str]]:
    """The words of each sentence or clause ("Stop!! I told you…" → [["stop"], ["i", "told", …]])."""
    return [words for part in re.split(r"[.!?,;:\n]+", text or "") if (words := words_of(part))]


def keyword_of(text: str) -> str:
    """The text as one keyword candidate: letters and digits only ("S.T.O.P" → "stop")."""
    return "".join(words_of(text))


# --- vocabulary -----------------------------------------------------------------------------------


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Carrier keywords (CTIA; Twilio's defaults) when they are the whole message.
STOP_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "unsub", "stopp"})
START_KEYWORDS = frozenset({"start", "unstop", "resume"})
JOIN_KEYWORDS = frozenset({"join", "subscribe", "optin", "deals", "offers"})
HELP_KEYWORDS = frozenset({"help", "info", "ayuda"})
CONFIRM_KEYWORDS = frozenset({"c", "confirm", "confirmed", "confirmo", "confirmar"})
YES_WORDS = frozenset({"yes", "y", "yeah", "yep", "yup", "si", "ok", "okay", "sure", "yes please", "sounds good"})
CANCEL_WORDS = frozenset({"cancel", "cancelar", "cancela", "cancelo"})
# Spanish stop words that are a whole message: "Basta", "Alto", "Parar".
SPANISH_STOP_ALONE = frozenset({"basta", "alto", "parar", "pare", "para", "detener", "baja"})

# Words that add nothing to a short command: "STOP please", "stop it!!", "quit it now thanks".
FILLER = _vocabulary(
    """please pls plz plse now thanks thank you thx ty it that this these those all the them ok okay
    just asap already immediately right away sir maam guys lol k seriously really again now
    por favor gracias ya ahora ok mas"""
)

# The things an opt-out is about: our texting.
CHANNEL_NOUNS = _vocabulary(
    """text texts txt txts texting message messages msg msgs messaging sms notifications notification
    alerts reminders reminder promos promo promotions offers ads spam mensajes mensaje textos texto
    recordatorios whatsapp"""
)
ME_WORDS = frozenset({"me", "us", "number", "phone", "cell", "mobile", "list", "lists", "contacting", "contact"})
# Small words around "remove me from your list": they do not change what is asked.
GLUE = _vocabulary(
    """from your this my of off the out on to a an any more anymore these those our yall i im want would
    like to please can you"""
)
TEXT_VERBS = frozenset({"text", "texting", "txt", "message", "messaging", "msg", "sms", "send", "sending", "contact"})
OTHER_CHANNEL_VERBS = frozenset({"call", "calling", "email", "emailing", "phone", "ring", "voicemail"})
STOP_VERBS = frozenset(
    {"stop", "quit", "end", "cease", "halt", "unsubscribe", "unsub", "remove", "delete", "cancel", "opt", "block"}
)
# What a stop-verb may be aimed at that is NOT our texting (a reply about scheduling or care).
NOT_TEXTING = _vocabulary(
    """waitlist wait waiting slot slots appointment appointments appt appts booking bookings visit
    visits time pm am tomorrow today monday tuesday wednesday thursday friday saturday sunday
    botox filler fillers peel laser treatment treatments session sessions facial medication meds
    blood thinner thinners retinol bleeding swelling bruising card payment charge membership
    package cita citas turno"""
)

_NEGATED_TEXTING = re.compile(
    r"\b(?:dont|do not|never|no longer|pls dont|please dont|stop) (?:ever )?(?:(?:text|txt|message|msg|sms|"
    r"contact)(?:ing)?|send(?:ing)? (?:me )?(?:any )?(?:more )?(?:texts?|messages?|msgs?|sms))\b"
)
_NO_MORE = re.compile(r"\bno (?:more|mas)\b")
_NO_MORE_OBJECT = re.compile(r"\bno (?:more|mas) (\w+)")
_WANT_TO_STOP = re.compile(
    r"\b(?:i (?:want|would like|wanna|need) to|let me|how (?:do|can) i|can i|how to) "
    r"(?:stop|unsubscribe|opt out|unsub|quit)\b"
)
_LEAVE_ME_ALONE = re.compile(r"\b(?:leave me alone|lose my number|stop bothering me|quit bothering me)\b")
_WRONG_NUMBER = re.compile(r"\b(?:wrong (?:number|person|phone|#)|numero equivocado|not (?:ana|me)\b)")
_SPANISH_REVOKE = re.compile(
    r"\b(?:no (?:me )?(?:envie|envien|mande|manden|escriba|escriban|contacte|contacten|textee)|"
    r"(?:deje|dejen|dejar|dejes) de (?:enviar|mandar|escribir|textear)|"
    r"(?:dar|darme|dame|den|denme) de baja|no quiero (?:(?:mas )?(?:mensajes|textos|sms|recibir))|"
    r"(?:quiteme|quitenme|borrenme|eliminenme|sacame|saquenme)\b)"
)
_OPT_OUT_PHRASE = re.compile(
    r"\b(?:opt(?:ing)? ?out|take (?:me|us|my number) off|remove (?:me|us|my number)|unsubscribe me|delete "
    r"(?:me|my number)|block me)\b"
)
_DONT_WANT = re.compile(r"\b(?:dont|do not|no longer|never) (?:want|need|wish)\b")
_NOT_INTERESTED = re.compile(r"\b(?:not interested|no thanks|no thank you|no gracias|no me interesa)\b")
_NEVER_SIGNED = re.compile(r"\b(?:never signed up|didnt sign up|did not sign up|who is this|who dis|how did you get)\b")


def _meaningful(words: list[str]) -> list[str]:
    return [w for w in words if w not in FILLER]


def _aimed_elsewhere(words: list[str]) -> bool:
    """A stop-verb about scheduling or care ("remove me from the 3pm slot", "stop the botox")."""
    return any(w in NOT_TEXTING or re.fullmatch(r"\d{1,2}(?:am|pm)?", w) for w in words)


def _about_texting(words: list[str]) -> bool:
    return any(w in CHANNEL_NOUNS for w in words)


def read(text: str) -> Reading:
    """What the text says, before context is applied."""
    words = words_of(text)
    if not words:
        return Reading(Intent.OTHER)
    joined = " ".join(words)
    whole = "".join(words)
    core = _meaningful(words)
    core_set = set(core)
    question = "?" in (text or "")

    # 1. A message that is one keyword (with politeness at most): the carrier keywords.
    if whole in STOP_KEYWORDS or (core and core_set <= STOP_KEYWORDS | {"opt", "out"} and core[0] != "out"):
        return Reading(Intent.OPT_OUT, "stop keyword")
    if whole in {"stopall", "stopstop"} or (core and all(w == "stop" for w in core)):
        return Reading(Intent.OPT_OUT, "stop keyword")
    if whole in START_KEYWORDS:
        return Reading(Intent.OPT_IN, "start keyword")
    if whole in JOIN_KEYWORDS:
        return Reading(Intent.JOIN, "join keyword")
    if whole in HELP_KEYWORDS or (core_set and core_set <= HELP_KEYWORDS):
        return Reading(Intent.HELP, "help keyword")
    if whole in CONFIRM_KEYWORDS or (core and " ".join(core) in CONFIRM_KEYWORDS):
        return Reading(Intent.CONFIRM, "confirm keyword")
    if core and all(w in CANCEL_WORDS for w in core):
        return Reading(Intent.CANCEL, "cancel")
    if joined in YES_WORDS or (core and " ".join(core) in YES_WORDS):
        return Reading(Intent.YES, "yes")
    if len(core) <= 2 and core and core[0] in SPANISH_STOP_ALONE and not question:
        return Reading(Intent.OPT_OUT, "stop word (Spanish)")

    # 2. Clear revocations in other words. A clause that is only a stop keyword ("Stop!! I told
    # you I'm not coming", "I'm done with these, stop") says it as plainly as the keyword alone.
    for clause in sentences_of(text):
        meaningful = _meaningful(clause)
        if meaningful and all(w in STOP_KEYWORDS for w in meaningful):
            return Reading(Intent.OPT_OUT, "stop keyword in a sentence")
    if _WANT_TO_STOP.search(joined):
        if _aimed_elsewhere(words):
            return Reading(Intent.OTHER)
        return Reading(Intent.OPT_OUT, "asked how to stop")
    if _DONT_WANT.search(joined) and _about_texting(words) and not _aimed_elsewhere(words):
        return Reading(Intent.OPT_OUT, "does not want the texts")
    if _NEGATED_TEXTING.search(joined) and not _aimed_elsewhere(words):
        return Reading(Intent.OPT_OUT, "asked not to be texted")
    if _SPANISH_REVOKE.search(joined):
        return Reading(Intent.OPT_OUT, "asked not to be texted (Spanish)")
    if _LEAVE_ME_ALONE.search(joined):
        return Reading(Intent.OPT_OUT, "asked to be left alone")
    stop_verbs = [i for i, w in enumerate(words) if w in STOP_VERBS]
    if stop_verbs or _OPT_OUT_PHRASE.search(joined):
        reading = _stop_verb_reading(words, stop_verbs, question)
        if reading is not None:
            return reading
    no_more = _NO_MORE_OBJECT.search(joined)
    if _NO_MORE.search(joined):
        target = no_more.group(1) if no_more else ""
        if not target or target in CHANNEL_NOUNS or target in FILLER or target in {"por", "please"}:
            return Reading(Intent.OPT_OUT, "no more texts")
        if target not in NOT_TEXTING:
            return Reading(Intent.UNSURE_OPT_OUT, "said 'no more'")
    if _WRONG_NUMBER.search(joined):
        if question or len(core) > 6:
            return Reading(Intent.UNSURE_OPT_OUT, "mentions a wrong number")
        return Reading(Intent.OPT_OUT, "wrong number")

    # 3. Words that lean towards an opt-out without saying it.
    if _NOT_INTERESTED.search(joined):
        return Reading(Intent.OPT_OUT_MARKETING, "not interested")
    if _NEVER_SIGNED.search(joined):
        return Reading(Intent.UNSURE_OPT_OUT, "does not know the clinic")
    if "spam" in core_set or "harassment" in core_set or "reported" in core_set:
        return Reading(Intent.UNSURE_OPT_OUT, "calls it spam")
    return Reading(Intent.OTHER)


def _stop_verb_reading(words: list[str], positions: list[int], question: bool) -> Reading | None:
    """A stop-verb in a longer message: an opt-out when aimed at our texting (or at nothing but
    "me"/politeness), not one when aimed at scheduling or care, unsure in between."""
    elsewhere = _aimed_elsewhere(words)
    texting = _about_texting(words) or any(w in TEXT_VERBS for w in words)
    phrase = _OPT_OUT_PHRASE.search(" ".join(words))
    if phrase and elsewhere and "list" in words:
        return Reading(Intent.UNSURE_OPT_OUT, "asked to be removed from a list")
    if elsewhere and not texting:
        return None  # "take me off the waitlist", "cancel my 3pm", "stop the retinol"
    if any(_next_word(words, i) in OTHER_CHANNEL_VERBS for i in positions):
        return None  # "stop calling me, texts are fine": a channel preference
    if texting and not elsewhere:
        return Reading(Intent.OPT_OUT, "asked to stop the texts")
    if texting and elsewhere:
        return Reading(Intent.UNSURE_OPT_OUT, "stop words about texts and a visit")
    rest = [w for w in _meaningful(words) if w not in STOP_VERBS and w not in ME_WORDS and w not in GLUE]
    rest = [w for w in rest if w not in {"take"}] if phrase else rest
    if phrase and not rest:
        return Reading(Intent.OPT_OUT, "asked to be removed")
    if not rest:
        return Reading(Intent.OPT_OUT, "stop request")
    if phrase:
        return Reading(Intent.UNSURE_OPT_OUT, "asked to be removed from something")
    if not positions:
        return Reading(Intent.UNSURE_OPT_OUT, "asked to be removed from something")
    first = words[positions[0]]
    after = _next_word(words, positions[0])
    if first == "stop" and after in {"by", "in", "at"}:
        return None  # "can I stop by tomorrow"
    if first in {"end", "cancel", "block", "remove", "delete"}:
        return None  # "end of the month", "cancel my card" are not about texts
    if question and len(rest) > 2:
        return None
    return Reading(Intent.UNSURE_OPT_OUT, f"contains '{first}'")


def _next_word(words: list[str], index: int) -> str:
    """The word after `index`, skipping "me" and politeness ("stop (please) calling")."""
    for word in words[index + 1 :]:
        if word not in FILLER and word not in {"me", "us"}:
            return word
    return ""


# --- context --------------------------------------------------------------------------------------


class LastMessage(StrEnum):
    """What the clinic last texted this number (the kind of the latest outbound message)."""

    NONE = "none"
    OPT_IN_REQUEST = "opt_in_request"  # "Reply YES to get … texts"
    REMINDER = "reminder"  # asks "Reply C to confirm"
    APPOINTMENT = "appointment"  # confirmation, reschedule/cancel notice, care instructions
    MARKETING = "marketing"  # a campaign or the marketing confirmation
    STAFF = "staff"  # a reply typed by staff (a question, often)
    OPTED_OUT = "opted_out"  # the STOP confirmation ("Reply START to resubscribe")
    OTHER = "other"


@dataclass(frozen=True)
class ReplyContext:
    last: LastMessage = LastMessage.NONE
    has_upcoming_appointment: bool = False
    pending_opt_in: bool = False  # a web form asked for texts and we sent the YES request
    opted_out: bool = False  # every purpose's latest event is an opt-out


class Action(StrEnum):
    OPT_OUT = "opt_out"  # both purposes, confirmation text
    OPT_OUT_MARKETING = "opt_out_marketing"  # marketing only
    FLAG_OPT_OUT = "flag_opt_out"  # keep consent, flag the conversation, one-click "this is an opt-out"
    OPT_IN = "opt_in"  # transactional, from the number itself
    JOIN = "join"  # marketing, in writing, from the number itself
    CONFIRM_PENDING = "confirm_pending"  # YES to the double opt-in request
    CONFIRM_APPOINTMENT = "confirm_appointment"
    CANCEL_APPOINTMENT_REQUEST = "cancel_appointment_request"  # flag the visit for staff, tell the patient
    HELP = "help"
    INBOX = "inbox"


@dataclass(frozen=True)
class Decision:
    action: Action
    why: str = ""


def decide(reading: Reading, context: ReplyContext) -> Decision:
    """What the clinic does with a reading, given the last message sent to the number."""
    intent, last = reading.intent, context.last
    if intent == Intent.OPT_OUT:
        return Decision(Action.OPT_OUT, reading.why)
    if intent == Intent.UNSURE_OPT_OUT:
        return Decision(Action.FLAG_OPT_OUT, reading.why)
    if intent == Intent.OPT_OUT_MARKETING:
        if last == LastMessage.MARKETING:
            return Decision(Action.OPT_OUT_MARKETING, "declined an offer")
        return Decision(Action.FLAG_OPT_OUT, reading.why)
    if intent == Intent.HELP:
        return Decision(Action.HELP)
    if intent == Intent.OPT_IN:
        return Decision(Action.OPT_IN)
    if intent == Intent.JOIN:
        return Decision(Action.JOIN)
    if intent == Intent.CANCEL:
        # After a reminder or an appointment text, "cancel" is about the visit; after an offer,
        # or with nothing to cancel, it is the carrier opt-out keyword.
        if last in (LastMessage.REMINDER, LastMessage.APPOINTMENT) and context.has_upcoming_appointment:
            return Decision(Action.CANCEL_APPOINTMENT_REQUEST, "replied CANCEL to an appointment text")
        if last == LastMessage.STAFF and context.has_upcoming_appointment:
            return Decision(Action.CANCEL_APPOINTMENT_REQUEST, "replied CANCEL to a staff message")
        return Decision(Action.OPT_OUT, "cancel keyword")
    if intent == Intent.YES:
        if context.pending_opt_in and last in (LastMessage.OPT_IN_REQUEST, LastMessage.NONE, LastMessage.OTHER):
            return Decision(Action.CONFIRM_PENDING)
        if last == LastMessage.REMINDER and context.has_upcoming_appointment:
            return Decision(Action.CONFIRM_APPOINTMENT)
        if last == LastMessage.OPTED_OUT or (context.opted_out and last == LastMessage.NONE):
            return Decision(Action.OPT_IN)
        return Decision(Action.INBOX)  # an answer to a staff question, an offer, or to nothing
    if intent == Intent.CONFIRM:
        if context.has_upcoming_appointment:
            return Decision(Action.CONFIRM_APPOINTMENT)
        return Decision(Action.INBOX)
    return Decision(Action.INBOX)


def interpret(text: str, context: ReplyContext | None = None) -> Decision:
    return decide(read(text), context or ReplyContext())
