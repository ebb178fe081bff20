"""Redaction of one text, of many, of a conversation's turns: every recogniser run, their
spans merged (overlapping spans become one, of the longer one's kind: nothing is left half
hidden), each replaced by its placeholder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from empreinte.errors import InvalidInput
from empreinte.privacy.redaction import _phone_spans
from empreinte.privacy.text_pii import engine
from empreinte.privacy.text_pii.iban import iban_spans
from empreinte.privacy.text_pii.language import detect_language, guess_language
from empreinte.privacy.text_pii.model import LANGUAGES, PLACEHOLDERS, Found, Redacted
from empreinte.privacy.text_pii.names import NOT_NAMES, answered_name_spans, asks_for_a_name
from empreinte.privacy.text_pii.numbers import number_spans
from empreinte.privacy.text_pii.tokens import Token, atoms, tokenize

_BATCH = 64  # texts given to spaCy at once
MAX_MODEL_CHARS = 50_000
# What spaCy's small models take for a name at the start of a call and is none.
_NOT_A_NAME = {
    "bonjour", "bonsoir", "merci", "allo", "madame", "monsieur", "oui", "non", "hello", "hi",
    "thanks", "thank", "yes", "no", "ok", "okay", "euh", "hum", "bye", "au", "revoir",
    # imperatives that open a request, capitalised, taken for a first name
    "livrez", "envoyez", "rappelez", "appelez", "voici", "voila", "please", "send",
}  # fmt: skip
_ENGLISH_REGIONS = {"GB", "US", "IE", "CA", "AU", "NZ"}


def _language_of(text: str, language: str | None, region: str) -> str:
    """The model to read `text` with: `language` if it names one ("fr", "fr-FR", "EN"),
    otherwise guessed."""
    given = language[:2].lower() if isinstance(language, str) else None
    if given in LANGUAGES:
        return given
    return guess_language(text) or ("en" if region in _ENGLISH_REGIONS else "fr")


def _is_name(text: str) -> bool:
    """What spaCy took for a person is one: no digits, no "@", no function word ("c'est",
    "mon"), not only greetings."""
    words = [w.low for w in tokenize(text) if w.is_word]
    if not words or any(c.isdigit() or c == "@" for c in text):
        return False
    return not all(w in _NOT_A_NAME for w in words) and not any(w in NOT_NAMES for w in words)


def _may_name_someone(tokens: Sequence[Token], stops: frozenset[str]) -> bool:
    """A capitalised word that is no stop word nor greeting: spaCy's models find names by their
    capital (in a text without any they find none), so only such texts are worth their time."""
    for token in tokens:
        if token.is_word and token.text[0].isupper() and token.text.isalpha():
            low = token.low
            if low not in stops and low not in _NOT_A_NAME and low not in NOT_NAMES:
                return True
    return False


def pieces(text: str, size: int) -> list[tuple[int, str]]:
    """`text` cut into pieces of at most `size` characters, at a space when one is near the
    end of a piece: (offset, piece). Linear."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > size:
        cut = text.rfind(" ", start + size - 200, start + size)
        cut = cut + 1 if cut > start else start + size
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


def _model_spans(
    texts: Sequence[str], tokens: Sequence[list[Token]], language: str
) -> list[list[Found]]:
    """What Presidio finds (spaCy's names, this package's token scans), texts batched. A text
    without a capitalised word that could be a name skips spaCy: the token scans alone. A long
    text is read by spaCy in pieces of `MAX_MODEL_CHARS` (its memory grows with the length)."""
    analyzer = engine.analyzer()
    stops = engine.stop_words()
    out: list[list[Found]] = [[] for _ in texts]
    jobs: list[tuple[int, int]] = []  # (text, offset of the piece)
    chunks: list[str] = []
    for i, words in enumerate(tokens):
        if not _may_name_someone(words, stops):
            out[i] = engine.token_scans(texts[i], words, language)
            continue
        if len(texts[i]) > MAX_MODEL_CHARS:  # spans cut between two pieces: scanned whole
            out[i] = engine.token_scans(texts[i], words, language)
        for offset, piece in pieces(texts[i], MAX_MODEL_CHARS):
            jobs.append((i, offset))
            chunks.append(piece)
    with engine.lock:  # spaCy's models are not documented as safe across threads
        batch = analyzer.nlp_engine.process_batch(chunks, language, batch_size=_BATCH)
        for (i, offset), (text, artifacts) in zip(jobs, batch, strict=True):
            for result in analyzer.analyze(text, language=language, nlp_artifacts=artifacts):
                a, b = result.start, result.end
                by = (result.recognition_metadata or {}).get("recognizer_name", "")
                ner = not str(by).startswith("empreinte")
                if ner and result.entity_type == "PERSON" and not _is_name(text[a:b]):
                    continue
                out[i].append(Found(result.entity_type, offset + a, offset + b))
    return out


def _local_spans(text: str, tokens: list[Token], region: str) -> list[Found]:
    spans = [Found("PHONE", a, b) for a, b in _phone_spans(text, region, possible=True)]
    return spans + iban_spans(text, tokens)


def merge(found: Iterable[Found]) -> list[Found]:
    """Spans sorted, overlapping ones made one: the union, of the longest one's kind."""
    out: list[Found] = []
    longest: list[int] = []
    for span in sorted(found, key=lambda f: (f.start, -f.end)):
        if out and span.start < out[-1].end:
            last = out[-1]
            kind = span.kind if span.end - span.start > longest[-1] else last.kind
            longest[-1] = max(longest[-1], span.end - span.start)
            out[-1] = Found(kind, last.start, max(last.end, span.end))
        else:
            out.append(span)
            longest.append(span.end - span.start)
    return out


def _replace(text: str, found: Sequence[Found]) -> str:
    parts: list[str] = []
    done = 0
    for span in found:
        parts += (text[done : span.start], PLACEHOLDERS[span.kind])
        done = span.end
    parts.append(text[done:])
    return "".join(parts)


def _redact_group(
    texts: Sequence[str],
    chains: Sequence[Sequence[int]],
    language: str,
    region: str,
    tokens: list[list[Token]] | None = None,
    answers: Sequence[int] = (),
) -> list[Redacted]:
    """`texts` of one language (and their tokens, when read already); `chains`: lists of
    indexes of texts read one after the other (a card may run from one to the next);
    `answers`: indexes of texts that answer a question for a name."""
    if tokens is None:
        tokens = [tokenize(text) for text in texts]
    found = _model_spans(texts, tokens, language)
    for i, text in enumerate(texts):
        found[i] += _local_spans(text, tokens[i], region)
    for i in answers:
        found[i] += answered_name_spans(tokens[i])
    for chain in chains:
        per_text = number_spans([tokens[i] for i in chain], region=region, language=language)
        for i, more in zip(chain, per_text, strict=True):
            found[i] += more
    out = []
    for text, spans in zip(texts, found, strict=True):
        merged = merge(spans)
        out.append(Redacted(_replace(text, merged), tuple(merged)))
    return out


def redact_text(text: str, *, language: str | None = None, region: str = "FR") -> Redacted:
    """`text` with its personal data replaced by placeholders. `language` ("fr", "en") picks
    the language model; None detects it (the region's language when unsure). `region` reads
    national phone numbers."""
    if not isinstance(text, str):
        raise InvalidInput("text", "a text to redact must be a string")
    return redact_many([text], language=language, region=region)[0]


def redact_many(
    texts: Sequence[str], *, language: str | None = None, region: str = "FR"
) -> list[Redacted]:
    """Each text redacted as `redact_text` would, the language models run in batches."""
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidInput(f"texts[{i}]", "a text to redact must be a string")
    languages = [_language_of(text, language, region) for text in texts]
    out: list[Redacted | None] = [None] * len(texts)
    for lang in LANGUAGES:
        indexes = [i for i, got in enumerate(languages) if got == lang]
        if not indexes:
            continue
        group = [texts[i] for i in indexes]
        chains = [[k] for k in range(len(group))]
        for i, redacted in zip(indexes, _redact_group(group, chains, lang, region), strict=True):
            out[i] = redacted
    return [r for r in out if r is not None]


_ACK_TOKENS = 8  # an answer this short, without digits, does not interrupt a number read out


def _is_ack(tokens: list[Token]) -> bool:
    return len(tokens) <= _ACK_TOKENS and not atoms(tokens)


def _chains(speakers: Sequence[Any], tokens: Sequence[list[Token]]) -> list[list[int]]:
    """Consecutive turns of one speaker, across the other's short acknowledgements ("oui",
    "je note", "go on"): the chains a number read out may run over."""
    chains: list[list[int]] = []
    open_chain: dict[Any, list[int]] = {}
    for i, speaker in enumerate(speakers):
        chain = open_chain.get(speaker)
        if chain is None:
            chain = []
            chains.append(chain)
        chain.append(i)
        # Every other speaker's chain stays open only across a short acknowledgement.
        for other in list(open_chain):
            if other != speaker and not _is_ack(tokens[i]):
                del open_chain[other]
        open_chain[speaker] = chain
    return chains


def redact_turns(
    turns: Sequence[Mapping[str, Any]], *, language: str | None = None, region: str = "FR"
) -> list[dict[str, Any]]:
    """Each turn (`{speaker, text, start, end}`) with its `text` redacted, other keys kept. A
    number read over several turns of the same speaker (the other answering "oui" between
    them) is found whole. One language for the conversation: `language`, or detected on its
    first turns."""
    for i, turn in enumerate(turns):
        if not isinstance(turn, Mapping):
            raise InvalidInput(f"transcript[{i}]", "a turn must be an object")
    indexes = [i for i, turn in enumerate(turns) if isinstance(turn.get("text"), str)]
    texts = [turns[i]["text"] for i in indexes]
    lang = _language_of(" ".join(texts)[:2_000], language, region) if texts else "fr"
    tokens = [tokenize(text) for text in texts]
    speakers = [turns[i].get("speaker") for i in indexes]
    chains = _chains([s if isinstance(s, str) else None for s in speakers], tokens)
    # A turn that follows another speaker's question for a name is read as its answer.
    answers = [
        i
        for i in range(1, len(texts))
        if speakers[i] != speakers[i - 1] and asks_for_a_name(tokens[i - 1])
    ]
    redacted = _redact_group(texts, chains, lang, region, tokens, answers)
    out = [dict(turn) for turn in turns]
    for i, r in zip(indexes, redacted, strict=True):
        out[i]["text"] = r.text
    return out


def warm() -> None:
    """Load the language models and the language detector now (the first redaction would)."""
    engine.analyzer()
    engine.stop_words()
    detect_language("bonjour, ceci est un texte")
