"""Postal addresses: French ("12 bis rue de la Paix, 75002 Paris", "douze rue Victor Hugo"),
British and American ("221B Baker Street", "10 Downing St, London SW1A 2AA"), and a postcode
with its city ("75002 Paris", "Lyon 69003").

Read on tokens, from each street word ("rue", "avenue", "Street"…): the number before it
(written or said, with "bis"/"ter"), the street's name after it (FR) or before it (EN), then
a postcode and a city if they follow. Each look reads a bounded number of tokens, so the whole
scan is linear.
"""

from __future__ import annotations

from collections.abc import Sequence

from empreinte.privacy.text_pii.model import Found
from empreinte.privacy.text_pii.tokens import TENS, UNITS, Token, atoms

_STREETS_FR = {
    "rue", "avenue", "av", "bd", "boulevard", "place", "chemin", "allee", "impasse", "route",
    "quai", "cours", "square", "passage", "residence", "lotissement", "chaussee", "faubourg",
    "sentier", "voie", "cite", "hameau", "parvis", "promenade", "esplanade", "ruelle", "mail",
}  # fmt: skip
_STREETS_EN = {
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "boulevard", "blvd",
    "way", "close", "court", "ct", "place", "pl", "terrace", "crescent", "square", "gardens",
    "grove", "row", "mews", "parkway", "highway", "hwy",
}  # fmt: skip
_REPEAT = {"bis", "ter", "quater", "b", "a", "c"}
_PARTICLES = {"de", "du", "des", "la", "le", "les", "l", "d", "'", "’", "-", "saint",
              "sainte", "st", "ste", "aux", "au", "en", "sur", "of", "the"}  # fmt: skip
# Words that end a street's or a city's name: the sentence goes on.
_STOP = {
    "et", "a", "mais", "je", "j", "c", "est", "pour", "depuis", "car", "parce", "qui", "que",
    "qu", "merci", "donc", "alors", "svp", "oui", "non", "il", "elle", "on", "nous", "vous",
    "mon", "ma", "mes", "votre", "au", "aux", "dans", "chez", "pres", "ou", "avec",
    "and", "but", "is", "in", "for", "my", "please", "thanks", "thank", "yes", "no", "i",
    "it", "that", "which", "where", "near", "with", "or", "to", "apartment", "appartement", "s",
    "now", "okay", "ok", "voila", "the", "an", "since", "hier", "yesterday",
    "batiment", "etage", "flat", "floor",
}  # fmt: skip
_MAX_NAME = 5  # words of a street's or a city's name


def _number_before(tokens: Sequence[Token], i: int) -> int | None:
    """Index of the first token of the house number ending just before token i."""
    k = i - 1
    if k >= 0 and tokens[k].text == ",":
        k -= 1
    if k >= 0 and tokens[k].low in _REPEAT and k >= 1:
        k -= 1
    if k < 0:
        return None
    token = tokens[k]
    if token.text.isdigit() and len(token.text) <= 4:
        return k
    # "221B": digits then one letter
    if len(token.text) <= 5 and token.text[:-1].isdigit() and token.text[-1].isalpha():
        return k
    # said: "douze", "vingt-deux", "cent vingt" are at most 6 tokens back
    # A number in words is at most 7 tokens ("quatre-vingt-dix-sept"): a window of 9 starts
    # before it, so the number is read whole.
    window = list(tokens[max(0, k - 8) : k + 1])
    found = [a for a in atoms(window) if a.last == len(window) - 1]
    if found:
        return max(0, k - 8) + found[-1].first
    if token.low in UNITS:
        return k
    return None


def _name_after(tokens: Sequence[Token], i: int) -> int:
    """Index of the last token of the name that follows token i (i itself when none)."""
    last, words, j = i, 0, i + 1
    while j < len(tokens) and words < _MAX_NAME and j - i <= 3 * _MAX_NAME:
        token = tokens[j]
        if token.low in _PARTICLES:
            j += 1
            continue
        if not token.is_word or token.low in _STOP or token.text.isdigit():
            break
        last, words = j, words + 1
        j += 1
    return last


def _postcode_after(tokens: Sequence[Token], i: int, lower: bool = False) -> int:
    """Extends past ", 75002 Paris" / " London SW1A 2AA" / ", IL 62704" after token i."""
    j = i + 1
    if j < len(tokens) and tokens[j].text == ",":
        j += 1
    if j < len(tokens) and _is_postcode(tokens[j].text):
        city = _name_after(tokens, j)
        return city if city > j else j
    if j < len(tokens) and tokens[j].is_word and (lower or tokens[j].text[0].isupper()):
        city = j
        k = j + 1
        if k < len(tokens) and tokens[k].text == ",":
            k += 1
        outward, inward = tokens[k].text if k < len(tokens) else "", ""
        if k + 1 < len(tokens):
            inward = tokens[k + 1].text
        if lower:
            outward, inward = outward.upper(), inward.upper()
        if k + 1 < len(tokens) and _is_uk_postcode(outward, inward):
            return k + 1
        state = k + 1 < len(tokens) and len(outward) == 2 and outward.isupper()
        if state and _is_postcode(tokens[k + 1].text):  # "Springfield, IL 62704"
            return k + 1
        if k < len(tokens) and _is_postcode(tokens[k].text):  # "Lyon 69003"
            return k
        return city if tokens[j].low not in _STOP else i
    return i


def _is_postcode(word: str) -> bool:
    return len(word) == 5 and word.isdigit() and word.isascii()


def _is_uk_postcode(outward: str, inward: str) -> bool:
    """ "SW1A 2AA": an outward code of 2-4 characters starting with a letter, an inward one of
    a digit and two letters."""
    return (
        2 <= len(outward) <= 4
        and outward[0].isalpha()
        and any(c.isdigit() for c in outward)
        and outward.isalnum()
        and outward.isupper()
        and len(inward) == 3
        and inward[0].isdigit()
        and inward[1:].isalpha()
        and inward[1:].isupper()
    )


def _street_word(token: Token, lower: bool) -> bool:
    if not token.is_word or not token.text.isalpha() or token.low in _STOP:
        return False
    if token.low in UNITS or token.low in TENS:  # "eighty-five Oxford Road": the number
        return False
    return lower or token.text[0].isupper()


def address_spans(tokens: Sequence[Token], language: str | None) -> list[Found]:
    out: list[Found] = []
    floor = 0
    # A text without capitals (a transcript) gives no clue by case: street names and cities
    # are read in lower case too.
    lower = not any(t.text[0].isupper() for t in tokens if t.is_word and t.low != "i")
    for i, token in enumerate(tokens):
        if i < floor or not token.is_word:
            continue
        low = token.low
        span: tuple[int, int] | None = None
        if low in _STREETS_FR and language != "en":
            first = _number_before(tokens, i)
            last = _name_after(tokens, i)
            if first is not None and last > i:
                span = (first, _postcode_after(tokens, last, lower))
        english = low in _STREETS_EN and language != "fr"
        if span is None and english and (lower or token.text[0].isupper()):
            # "221B Baker Street": up to three capitalised words back to a number
            k = i - 1
            while k >= 0 and k > i - 4 and _street_word(tokens[k], lower):
                k -= 1
            if k < i - 1:
                first = _number_before(tokens, k + 1)
                if first is not None:
                    span = (first, _postcode_after(tokens, i, lower))
        if span is None and _is_postcode(token.text) and i + 1 < len(tokens):
            # "75002 Paris": a postcode and a capitalised city right after it
            city = tokens[i + 1]
            if city.is_word and city.text[0].isupper() and city.low not in _STOP:
                span = (i, _name_after(tokens, i))
        if span is not None and span[0] >= floor:
            out.append(Found("ADDRESS", tokens[span[0]].start, tokens[span[1]].end))
            floor = span[1] + 1
    return out
