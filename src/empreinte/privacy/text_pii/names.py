"""Person names the language models miss: after a cue ("je m'appelle", "my name is",
"Madame", "Mr") and spelt letter by letter ("D-U-P-O-N-T", "d u p o n t").

spaCy's small models find most names in well-formed sentences (engine.py); call transcripts
are lower case, clipped and full of hesitations, where a cue is the better clue. Linear: each
cue reads at most `_MAX_WORDS` tokens after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from empreinte.privacy.text_pii.model import Found
from empreinte.privacy.text_pii.tokens import FILLERS, Token

# Token sequences (folded) after which a name follows, said in lower case as often as not.
_STRONG_CUES: tuple[tuple[str, ...], ...] = (
    ("je", "m", "'", "appelle"),
    ("je", "m", "’", "appelle"),
    ("mon", "nom", "est"),
    ("mon", "nom", "c", "'", "est"),
    ("mon", "nom", "de", "famille", "est"),
    ("mon", "nom", "de", "famille", "c", "'", "est"),
    ("mon", "prenom", "est"),
    ("mon", "prenom", "c", "'", "est"),
    ("de", "la", "part", "de"),
    ("my", "name", "is"),
    ("my", "name", "'", "s"),
    ("my", "surname", "is"),
    ("last", "name", "is"),
    ("first", "name", "is"),
    ("this", "is"),
    ("i", "am"),
    ("i", "'", "m"),
    ("c", "'", "est"),
    ("it", "'", "s"),
    ("it", "’", "s"),
    ("je", "suis"),
    ("au", "nom", "de"),
    ("j", "'", "ai", "eu"),
    ("parle", "a"),
    ("parle", "avec"),
    ("spoke", "to"),
    ("spoke", "with"),
    ("talked", "to"),
    ("speak", "to"),
)
# Cues after which only a capitalised word is a name ("je suis déçu", "this is annoying").
_WEAK = {("this", "is"), ("i", "am"), ("i", "'", "m"), ("c", "'", "est"), ("je", "suis"),
         ("it", "'", "s"), ("it", "’", "s")}  # fmt: skip
# Cues after which a capitalised word is a name, or any word in a text without capitals (a
# transcript): "j'ai eu Karim", "i spoke to olivia".
_MEDIUM = {("au", "nom", "de"), ("j", "'", "ai", "eu"), ("parle", "a"), ("parle", "avec"),
           ("spoke", "to"), ("spoke", "with"), ("talked", "to"), ("speak", "to")}  # fmt: skip
_TITLES = {
    "madame", "monsieur", "mme", "mlle", "mademoiselle", "m", "mr", "mrs", "ms", "miss",
    "dr", "docteur", "maitre", "me", "sir",
}  # fmt: skip
NOT_NAMES = {
    "le", "la", "les", "un", "une", "de", "du", "des", "au", "pas", "tres", "bien", "vraiment",
    "the", "a", "an", "not", "very", "really", "so", "just", "calling", "appelle", "client",
    "cliente", "customer", "et", "and", "oui", "non", "yes", "no", "ok", "merci", "thanks",
    "bonjour", "hello", "madame", "monsieur", "en", "in", "on", "at", "sur", "avec", "with",
    "pour", "for", "ca", "that", "it", "is", "est", "suis", "am", "your", "votre", "my", "mon",
    "ma", "encore", "still", "toujours", "already", "deja", "desole", "sorry", "here", "ici",
    "there", "moi", "me", "lui", "him", "her", "elle", "il", "he", "she", "what", "quoi",
    "qui", "who", "vous", "you", "je", "i", "tout", "all", "someone", "somebody", "quelqu",
    "personne", "nobody", "colleague", "collegue", "agent", "conseiller", "conseillere",
    "manager", "responsable", "service", "support", "team", "equipe", "l", "d", "s", "vos",
    "their", "leur", "mal", "raison", "tort", "faim", "right", "wrong", "appelant", "bonne",
    "journee", "good", "day",
}  # fmt: skip
_MAX_WORDS = 3
# Particles inside a name, capitalised between two of its words: "Yann Le Gall", "Van Dyke".
_PARTICLES = {"le", "la", "de", "du", "des", "van", "von", "der", "da", "di", "del", "ben", "el"}
# Words that open an answer without being part of it ("Sure, Isabella Scott.").
_OPENERS = {"sure", "alors", "well", "voila", "euh", "um", "uh", "bah", "ben", "si", "of",
            "course", "bien", "sur", "absolutely", "certainly", "okay", "d'accord"}  # fmt: skip
# Words of a question that asks for a name ("c'est à quel nom ?", "can I have your name?").
_NAME_WORDS = {"name", "nom", "surname", "prenom"}


def _cue_end(tokens: Sequence[Token], i: int, lower: bool) -> tuple[int, bool] | None:
    """If a cue starts at token i: (index of its last token, must the name be capitalised?).
    `lower`: the text has no capitals (a transcript)."""
    for cue in _STRONG_CUES:
        end = i + len(cue)
        if end <= len(tokens) and all(tokens[i + k].low == w for k, w in enumerate(cue)):
            return end - 1, cue in _WEAK or (cue in _MEDIUM and not lower)
    return None


_CLOSING = (("speaking",), ("here",), ("a", "l", "'", "appareil"), ("a", "l", "’", "appareil"),
            (",", "calling"), (",", "j", "'", "appelle"))  # fmt: skip


def _closes_a_name(tokens: Sequence[Token], k: int) -> bool:
    """What follows a name given on the phone: "speaking", "à l'appareil"."""
    return any(
        k + len(tail) <= len(tokens) and all(tokens[k + m].low == w for m, w in enumerate(tail))
        for tail in _CLOSING
    )


def _name_words(tokens: Sequence[Token], j: int, capitalised_only: bool) -> int | None:
    """Index of the last word of the name from token j, or None."""
    last = None
    words = 0
    for k in range(j, min(len(tokens), j + 2 * _MAX_WORDS)):
        token = tokens[k]
        if token.text == "-" and last == k - 1:
            continue  # "Jean-Pierre"
        if words == _MAX_WORDS:
            break
        if (last is not None or k == j) and _particle_between(tokens, k):
            continue  # "Le" of "Yann Le Gall": covered when the next word is
        if not token.is_word or not token.text.isalpha() or token.low in NOT_NAMES:
            break
        if token.low in FILLERS:
            break
        if capitalised_only and not token.text[0].isupper():
            break
        if capitalised_only is False and last is not None and not token.text[0].isupper():
            # Lower case: the first word is the name; a second only if it is capitalised too
            # or the text is lower case throughout (a transcript).
            if tokens[j].text[0].isupper():
                break
            if words >= 2:
                break
        last = k
        words += 1
    return last


def _particle_between(tokens: Sequence[Token], k: int) -> bool:
    token = tokens[k]
    if token.low not in _PARTICLES or not token.text[:1].isupper() or k + 1 >= len(tokens):
        return False
    after = tokens[k + 1]
    return after.is_word and after.text.isalpha() and after.text[:1].isupper()


def asks_for_a_name(tokens: Sequence[Token]) -> bool:
    """Whether a turn asks the other speaker for a name ("what name is it under?")."""
    return any(token.low in _NAME_WORDS for token in tokens)


def answered_name_spans(tokens: Sequence[Token]) -> list[Found]:
    """The answer to a question for a name: its capitalised words, one to three (particles
    inside), past the words that open an answer ("Sure, Isabella Scott.", "Oui c'est Yann Le
    Gall."). Linear: each word is read at most twice."""
    out: list[Found] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (
            token.is_word
            and len(token.text) >= 2
            and token.text.isalpha()
            and token.text[0].isupper()
            and (token.low not in NOT_NAMES or _particle_between(tokens, i))
            and token.low not in _OPENERS
        ):
            last = _name_words(tokens, i, capitalised_only=True)
            if last is not None:
                out.append(Found("PERSON", token.start, tokens[last].end))
                i = last + 1
                continue
        i += 1
    return out


def cue_name_spans(tokens: Sequence[Token]) -> list[Found]:
    out: list[Found] = []
    i = 0
    n = len(tokens)
    lower = not any(t.text[0].isupper() for t in tokens if t.is_word and t.low != "i")
    while i < n:
        token = tokens[i]
        name: tuple[int, int] | None = None
        if token.low in _TITLES and i + 1 < n:
            j = i + 1
            if j < n and tokens[j].text == "." and token.low in ("m", "mr", "mrs", "ms", "dr"):
                j += 1
            if token.low in ("m", "me") and tokens[i + 1].text != ".":
                j = n  # "m" and "me" are titles only as "M." and "Me."
            if j < n:
                # In a text without capitals, "madame benali" is a name too ("m benali" is not).
                capitalised = not lower or token.low in ("m", "me")
                last = _name_words(tokens, j, capitalised_only=capitalised)
                if last is not None:
                    name = (j, last)
        elif token.is_word and token.low[0] in "ajmdlfticps":
            cue = _cue_end(tokens, i, lower)
            if cue is not None:
                end, weak = cue
                j = end + 1
                while (
                    j < n and j <= end + 3 and (tokens[j].low in FILLERS or tokens[j].text == ",")
                ):
                    j += 1
                titled = j < n and tokens[j].low in _TITLES  # "je suis Madame Dupont"
                if titled:
                    j += 1 + (j + 1 < n and tokens[j + 1].text == ".")
                if j < n:
                    last = _name_words(tokens, j, capitalised_only=weak)
                    # After "c'est", "this is", "j'ai eu": one capitalised word may be a place,
                    # a brand or a holiday ("c'est Noël", "I spoke to Amazon"); a name needs a
                    # title, two words, or "speaking" / "à l'appareil" after it. spaCy reads
                    # the rest.
                    if last is not None and weak and not titled:
                        words = sum(tokens[k].is_word for k in range(j, last + 1))
                        if words < 2 and not _closes_a_name(tokens, last + 1):
                            last = None
                    if last is not None:
                        name = (j, last)
        if name is not None:
            out.append(Found("PERSON", tokens[name[0]].start, tokens[name[1]].end))
            i = name[1] + 1
        else:
            i += 1
    return out


def spelt_name_spans(text: str, tokens: Sequence[Token]) -> list[Found]:
    """Four or more single letters in a row, joined by "-", "." or spaces: "D-U-P-O-N-T"."""
    out: list[Found] = []
    run: list[Token] = []

    def close() -> None:
        if len(run) >= 4:
            out.append(Found("PERSON", run[0].start, run[-1].end))
        run.clear()

    previous_end = -1
    for token in tokens:
        glued = token.start > 0 and text[token.start - 1] in "'’"  # "that's", "l'"
        if len(token.text) == 1 and token.text.isalpha() and not glued:
            gap = text[previous_end : token.start] if run else ""
            if run and not (len(gap) <= 3 and all(c in " -.," for c in gap)):
                close()
            run.append(token)
            previous_end = token.end
        elif token.text in "-.," and run and token.start - previous_end <= 1:
            continue
        else:
            close()
    close()
    return out
