"""Sentiment of the customer's words: VADER (Hutto & Gilbert 2014) in English, its French
adaptation (`vaderSentiment_fr`) in French.

Each turn gets VADER's *compound* score, -1 (negative) .. 1 (positive). A conversation's
sentiment is the mean over the customer's turns (the agent's politeness says nothing of the
customer's mood); its *start* and *end* are the means over the first and the last third of
the customer's turns, so that "ended better than it started" is `end - start > 0`. A verbatim
is one customer turn. Labels use VADER's own thresholds (±0.05).

A small call-centre lexicon is added to both (VADER's lexicons come from social media: "never
arrived", "still waiting", "refunded" carry no weight there). Texts are cut at
`model.MAX_TURN_CHARS` before scoring: VADER is linear in its input, the cut bounds it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from empreinte.voc.model import MAX_TURN_CHARS

Label = Literal["negative", "neutral", "positive"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")
#: VADER's thresholds on the compound score.
THRESHOLD = 0.05

# Call-centre words VADER's social-media lexicons miss, on VADER's -4..4 scale.
_DOMAIN_EN = {
    "waiting": -1.0,
    "still": -0.3,
    "never": -0.6,
    "late": -1.5,
    "delayed": -1.5,
    "lost": -1.6,
    "broken": -2.0,
    "damaged": -2.0,
    "missing": -1.5,
    "charged": -0.8,
    "twice": -0.6,
    "unacceptable": -2.8,
    "ridiculous": -2.2,
    "fed": -1.2,
    "nobody": -1.0,
    "refused": -1.8,
    "wrong": -1.8,
    "sorted": 1.5,
    "resolved": 1.8,
    "solved": 1.8,
    "quick": 1.2,
    "quickly": 1.2,
    "helpful": 2.0,
    "thanks": 1.5,
    "thank": 1.5,
}
# The French analyser strips accents from its keys and from each word (unidecode): so here.
_DOMAIN_FR = {
    "attente": -1.0,
    "attends": -0.8,
    "toujours": -0.2,
    "jamais": -1.2,
    "retard": -1.8,
    "perdu": -1.6,
    "casse": -2.0,
    "endommage": -2.0,
    "abime": -2.0,
    "manquant": -1.5,
    "debite": -0.8,
    "inadmissible": -2.8,
    "inacceptable": -2.8,
    "scandaleux": -3.0,
    "marre": -2.2,
    "personne": -0.4,
    "refuse": -1.8,
    "erreur": -1.6,
    "probleme": -1.5,
    "mecontent": -2.2,
    "decu": -2.0,
    "decue": -2.0,
    "nul": -2.2,
    "lamentable": -2.8,
    "rembourse": 1.0,
    "regle": 1.5,
    "resolu": 1.8,
    "rapide": 1.5,
    "rapidement": 1.3,
    "efficace": 2.0,
    "merci": 1.5,
    "parfait": 2.5,
    "super": 2.2,
    "genial": 2.6,
    "ravi": 2.6,
    "ravie": 2.6,
    "content": 1.8,
    "contente": 1.8,
    "satisfait": 2.0,
    "satisfaite": 2.0,
    "aimable": 2.0,
    "top": 1.8,
}


@dataclass(frozen=True)
class ConversationSentiment:
    """A conversation's customer sentiment: each turn's score (None for the agent's turns
    when only the customer's are scored), the mean, and the first and last third."""

    turns: tuple[float | None, ...]
    overall: float | None
    start: float | None
    end: float | None


class _Analysers:
    """The two VADER analysers, built once per process (the French one reads a 7,000-word
    lexicon and builds a trie: ~0.3 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_language: dict[str, Any] = {}

    def get(self, language: str) -> Any:
        analyser = self._by_language.get(language)
        if analyser is not None:
            return analyser
        with self._lock:
            if language not in self._by_language:
                self._by_language[language] = _build(language)
            return self._by_language[language]


def _build(language: str) -> Any:
    if language == "fr":
        with warnings.catch_warnings():  # fuzzywuzzy warns at import; its fuzzy path is unused
            warnings.simplefilter("ignore")
            from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as FrVader
        analyser = FrVader()
        analyser.lexicon.update(_DOMAIN_FR)
        return analyser
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as EnVader

    analyser = EnVader()
    analyser.lexicon.update(_DOMAIN_EN)
    return analyser


_ANALYSERS = _Analysers()


def score(text: str, language: str | None) -> float:
    """The compound score of `text`, -1 .. 1 (French when `language` is "fr", else English)."""
    text = text[:MAX_TURN_CHARS]
    if not text.strip():
        return 0.0
    analyser = _ANALYSERS.get("fr" if language == "fr" else "en")
    return float(analyser.polarity_scores(text)["compound"])


def label(compound: float) -> Label:
    """VADER's label of a compound score."""
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def conversation(turns: Sequence[tuple[str, str]], language: str | None) -> ConversationSentiment:
    """Sentiment of a conversation given as (speaker, text) pairs: every turn scored; the
    mean, start and end over the customer's turns (start: the first third, at least one;
    end: the last third, at least one)."""
    scores = tuple(score(text, language) for _, text in turns)
    customer = [s for (speaker, _), s in zip(turns, scores, strict=True) if speaker == "customer"]
    if not customer:
        return ConversationSentiment(scores, None, None, None)
    third = max(1, len(customer) // 3)
    return ConversationSentiment(
        scores, _mean(customer), _mean(customer[:third]), _mean(customer[-third:])
    )
