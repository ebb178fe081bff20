"""Card numbers (and their CVV), French social-security numbers (NIR) and phone numbers in
groups of digits, written or said, over one text or over consecutive turns of a conversation.

The digits of a text are read as atoms (tokens.atoms: "4970", "quatre-vingt-dix-sept", "oh");
atoms one after the other, with only punctuation or hesitations between them ("4970, euh,
1012"), make a *run*, and a run may go on into the next segment (the next turn of the same
speaker: a customer reads a card over several turns while the agent says "oui"). In each run,
from each atom, the windows of atoms are tried that could be a NIR (15 characters, key
checked), a card (13-19 digits, Luhn-checked, grouped as cards are) or a phone number (valid
for `phonenumbers`, national from a 0 or international after "+"/"plus"/"00").

Linear: a window holds at most 19 digits, so from each atom at most 19 windows are tried, each
checked in constant time (prefix sums for Luhn; phone numbers validated once per distinct
string, cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from empreinte.privacy.text_pii.model import Found
from empreinte.privacy.text_pii.tokens import FILLERS, Atom, Token, atoms

_GAP_PUNCT = {",", ".", "-", "/", ":", ";", "…"}
_MAX_GAP = 4  # tokens between two atoms of one run
# Words said between the groups of a number being read out ("4970, oui, 1012").
_GO_ON = {"oui", "ouais", "ok", "okay", "d", "'", "’", "accord", "voila", "ensuite", "puis",
          "yes", "yeah", "yep", "then", "next", "right"}  # fmt: skip
_MAX_CARD = 19
_CARD_FIRST = "23456"  # Mastercard 2/5, Amex/Diners 3, Visa 4, Discover 6
_CARD_WIDE_GROUPS = ((4, 6, 5), (4, 6, 4))  # Amex, Diners
# A run right after one of these words is an order or parcel number, not a card.
_NOT_CARD = {
    "commande", "colis", "suivi", "order", "tracking", "parcel", "reference", "ref",
    "facture", "invoice", "dossier", "ticket", "contrat", "contract", "client", "customer",
    "siret", "siren", "tva", "vat",
}  # fmt: skip
_CVV_CUES = {"cryptogramme", "crypto", "cvv", "cvc", "cvv2", "cvn", "securite", "security"}
_CVV_NEAR = 40  # tokens after a card where three or four digits are its CVV
_INTL = {"+", "plus"}


@dataclass(frozen=True, slots=True)
class _Piece:
    segment: int
    atom: Atom
    position: int  # index of the atom's first token over the whole chain
    intl: bool  # right after "+" / "plus"


def _is_gap(tokens: Sequence[Token], first: int, last: int) -> bool:
    """Tokens first..last (inclusive) hold only punctuation and hesitations, few of them."""
    if last - first + 1 > _MAX_GAP:
        return False
    return all(
        tokens[k].text in _GAP_PUNCT or tokens[k].low in FILLERS or tokens[k].low in _GO_ON
        for k in range(first, last + 1)
    )


def _runs(chain: Sequence[Sequence[Token]]) -> list[list[_Piece]]:
    runs: list[list[_Piece]] = []
    run: list[_Piece] = []
    base = 0
    previous: tuple[int, Atom] | None = None
    for segment, tokens in enumerate(chain):
        for atom in atoms(list(tokens)):
            intl = atom.first > 0 and tokens[atom.first - 1].low in _INTL
            joined = False
            if previous is not None and not intl:
                seg, before = previous
                if seg == segment:
                    joined = _is_gap(tokens, before.last + 1, atom.first - 1)
                elif seg == segment - 1:
                    prior = chain[seg]
                    joined = (
                        len(prior) - before.last - 1 + atom.first <= _MAX_GAP
                        and _is_gap(prior, before.last + 1, len(prior) - 1)
                        and _is_gap(tokens, 0, atom.first - 1)
                    )
            if not joined and run:
                runs.append(run)
                run = []
            run.append(_Piece(segment, atom, base + atom.first, intl))
            previous = (segment, atom)
        base += len(tokens)
    if run:
        runs.append(run)
    return runs


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        total += _DOUBLED[int(char)] if index % 2 else int(char)
    return total % 10 == 0


def _card_shaped(widths: list[int], spoken: bool) -> bool:
    if len(widths) == 1:
        return True
    if all(w <= 4 for w in widths):
        return True
    return not spoken and tuple(widths) in _CARD_WIDE_GROUPS


def _phone_shaped(widths: list[int]) -> bool:
    """Said digit by digit or in pairs, written in pairs ("06 12 34 56 78") or in at most three
    groups ("07700 900123"): not a date beside a price."""
    return len(widths) <= 3 or all(w <= 2 for w in widths)


def _nir(chars: str) -> bool:
    """A NIR with its key: sex, year, month, department (2A/2B in Corsica), commune, order,
    key = 97 - (the 13 first as a number, 2A read 19 and 2B 18) mod 97."""
    if len(chars) != 15 or chars[0] not in "123478":
        return False
    head, key = chars[:13], chars[13:]
    dept = head[5:7]
    if dept in ("2A", "2B"):
        head = head[:5] + ("19" if dept == "2A" else "18") + head[7:]
    if not (head.isdigit() and key.isdigit()):
        return False
    month = int(head[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return int(key) == 97 - int(head) % 97


@lru_cache(maxsize=4096)
def _valid_phone(number: str, region: str | None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def _window_end(run: list[_Piece], start: int, limit: int) -> list[tuple[int, str]]:
    """(index of the last atom, digits so far) for the windows from `start` up to `limit`
    characters."""
    out = []
    chars = ""
    for end in range(start, len(run)):
        chars += run[end].atom.digits
        if len(chars) > limit:
            break
        out.append((end, chars))
    return out


def _match_at(
    run: list[_Piece], start: int, chains: Sequence[Sequence[Token]], regions: Sequence[str]
) -> tuple[str, int] | None:
    """The kind and last atom of the personal number that starts at atom `start`, if any."""
    windows = _window_end(run, start, _MAX_CARD)
    first = run[start]
    for end, chars in windows:  # a NIR: exactly 15 characters
        if len(chars) == 15 and _nir(chars):
            return "NIR", end
    if chars_ok := [w for w in windows if w[1].isdigit()]:
        tokens = chains[first.segment]
        before = {tokens[k].low for k in range(max(0, first.atom.first - 3), first.atom.first)}
        if chars_ok[0][1][0] in _CARD_FIRST and not before & _NOT_CARD:
            for end, chars in reversed(chars_ok):
                if len(chars) < 13:
                    break
                widths = [len(p.atom.digits) for p in run[start : end + 1]]
                spoken = any(p.atom.spoken for p in run[start : end + 1])
                if _card_shaped(widths, spoken) and _luhn(chars):
                    return "CARD", end
        if first.intl or (first.atom.digits.startswith("00") and len(chars_ok[0][1]) >= 2):
            for end, chars in reversed(chars_ok):
                digits = chars[2:] if not first.intl else chars
                if 8 <= len(digits) <= 15 and _valid_phone("+" + digits, None):
                    return "PHONE", end
        elif chars_ok[0][1][0] == "0":
            for end, chars in reversed(chars_ok):
                widths = [len(p.atom.digits) for p in run[start : end + 1]]
                spoken = any(p.atom.spoken for p in run[start : end + 1])
                shaped = spoken or _phone_shaped(widths)
                shaped = shaped and len(chars) in (10, 11) and chars[1] != "0"
                if shaped and any(_valid_phone(chars, region) for region in regions):
                    return "PHONE", end
    return None


def number_spans(
    chain: Sequence[Sequence[Token]], *, region: str = "FR", language: str | None = None
) -> list[list[Found]]:
    """Per segment of `chain` (the tokens of texts read one after the other), the cards,
    CVVs, NIRs and phone numbers found, in that segment's offsets."""
    # National numbers (from a 0) of the region, and British ones: the English spoken here.
    regions = [region] + (["GB"] if region != "GB" else [])
    found: list[list[Found]] = [[] for _ in chain]

    def emit(kind: str, pieces: list[_Piece]) -> None:
        by_segment: dict[int, tuple[int, int]] = {}
        for piece in pieces:
            tokens = chain[piece.segment]
            a, b = tokens[piece.atom.first].start, tokens[piece.atom.last].end
            if piece.intl and piece is pieces[0]:
                a = tokens[piece.atom.first - 1].start
            got = by_segment.get(piece.segment)
            by_segment[piece.segment] = (got[0], b) if got else (a, b)
        for segment, (a, b) in by_segment.items():
            found[segment].append(Found(kind, a, b))

    last_card = -(10**9)
    for run in _runs(chain):
        start, loose = 0, 0  # `loose`: first atom not yet part of a number found
        leftovers: list[list[_Piece]] = []
        while start < len(run):
            match = _match_at(run, start, chain, regions)
            if match is None:
                start += 1
                continue
            kind, end = match
            if loose < start:
                leftovers.append(run[loose:start])
            emit(kind, run[start : end + 1])
            if kind == "CARD":
                last_card = run[end].position
            start = loose = end + 1
        if loose < len(run):
            leftovers.append(run[loose:])
        for pieces in leftovers:  # three or four digits: a CVV after a card or its cue
            if len("".join(p.atom.digits for p in pieces)) not in (3, 4):
                continue
            first = pieces[0]
            tokens = chain[first.segment]
            cue = any(
                tokens[k].low in _CVV_CUES
                for k in range(max(0, first.atom.first - 6), first.atom.first)
            )
            if cue or 0 < first.position - last_card <= _CVV_NEAR:
                emit("CARD", pieces)
    return found
