"""Why people call: a reason per conversation, by rule when a rule is sure, by a classifier
otherwise.

*Rules*: keywords (words or short phrases, French and English) per reason, the defaults
below plus `[voc] keywords`. A rule fires when the keywords of one reason, and of one only,
are the most present in the customer's words; `reason_by = "rule"`, score 1.
*Model*: a logistic regression (scikit-learn) on TF-IDF of word 1–2-grams and in-word
character 3–5-grams, trained on the
examples shipped in `voc/data/reasons.tsv` (a few hundred French and English lines); it
answers when no rule is sure, with the probability of its answer; `reason_by = "model"`.
A reason of `[voc] reasons` the examples do not have is found by its rules only; examples of
a reason the workspace does not use count as "other".

The text classified is the customer's words (the first `MAX_CHARS`: the reason is said early).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from empreinte.voc.settings import VocSettings
from empreinte.voc.text import fold, words

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MAX_CHARS = 2_000
MAX_PHRASE = 4  # words in a keyword phrase

#: Default keywords (folded: no accents), French and English.
DEFAULT_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "delivery": (
        "colis", "livraison", "livreur", "livre", "suivi", "expedie", "expedition",
        "transporteur", "point relais", "parcel", "delivery", "delivered", "courier",
        "tracking", "shipped", "shipping", "package",
    ),
    "refund": (
        "rembourse", "remboursee", "remboursement", "rembourser", "refund", "refunded",
        "reimbursed", "money back",
    ),
    "payment": (
        "paiement", "payer", "debite", "prelevement", "carte refusee", "paypal", "payment",
        "pay", "charged", "debit", "declined", "instalments", "carte bancaire",
    ),
    "product_question": (
        "dimensions", "taille", "compatible", "garantie", "en stock", "notice", "size",
        "warranty", "in stock", "waterproof", "impermeable", "material", "matiere",
    ),
    "complaint": (
        "reclamation", "plainte", "responsable", "inadmissible", "honte", "impoli",
        "complaint", "manager", "rude", "unacceptable", "disgrace",
    ),
    "account": (
        "compte", "mot de passe", "connecter", "identifiant", "desinscrire", "newsletter",
        "account", "password", "log in", "login", "unsubscribe", "profil", "profile",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Reason:
    reason: str
    score: float
    by: str  # "rule" | "model"


def _examples() -> list[tuple[str, str]]:
    """(reason, text) of the shipped examples."""
    data = resources.files("empreinte.voc").joinpath("data/reasons.tsv").read_text("utf-8")
    out = []
    for line in data.splitlines():
        if line and not line.startswith("#"):
            reason, _language, text = line.split("\t", 2)
            out.append((reason, text))
    return out


_train_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _model(reasons: tuple[str, ...]) -> Pipeline | None:
    """The classifier over `reasons`, trained once per process (~0.1 s); None when the
    examples hold fewer than two of them."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    pairs = [(r if r in reasons else "other", t) for r, t in _examples()]
    if len({r for r, _ in pairs}) < 2:
        return None
    # Word 1-2-grams, and character 3-5-grams within words: they share "rembours-",
    # "livr-", "deliver-" between the inflections and the two languages.
    features = make_union(
        TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(
            preprocessor=fold, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
        ),
    )
    pipeline = make_pipeline(
        features, LogisticRegression(max_iter=2_000, C=10.0, solver="saga", random_state=0)
    )
    pipeline.fit([t for _, t in pairs], [r for r, _ in pairs])
    return pipeline


class ReasonClassifier:
    """Rules then model, over the reasons of `[voc]`."""

    def __init__(self, settings: VocSettings):
        self.reasons = settings.reasons
        keywords: dict[str, set[tuple[str, ...]]] = {}
        for reason in self.reasons:
            phrases = [*DEFAULT_KEYWORDS.get(reason, ()), *settings.keywords.get(reason, ())]
            keywords[reason] = {tuple(words(p)[:MAX_PHRASE]) for p in phrases if words(p)}
        self._keywords = keywords

    def rule(self, text: str) -> str | None:
        """The reason whose keywords are the most present in `text`, when one is alone."""
        tokens = words(text[:MAX_CHARS])
        grams = {
            tuple(tokens[i : i + n]) for n in range(1, MAX_PHRASE + 1) for i in range(len(tokens))
        }
        hits = {r: len(k & grams) for r, k in self._keywords.items()}
        best = max(hits.values(), default=0)
        if best == 0:
            return None
        winners = [r for r, n in hits.items() if n == best]
        return winners[0] if len(winners) == 1 else None

    def classify_many(self, texts: Sequence[str]) -> list[Reason]:
        """The reason of each text (the customer's words)."""
        out: list[Reason | None] = []
        pending: list[int] = []
        for i, text in enumerate(texts):
            found = self.rule(text)
            out.append(Reason(found, 1.0, "rule") if found else None)
            if found is None:
                pending.append(i)
        if pending:
            for i, reason in zip(
                pending, self.model_many([texts[i] for i in pending]), strict=True
            ):
                out[i] = reason
        return [r for r in out if r is not None]

    def model_many(self, texts: Sequence[str]) -> list[Reason]:
        """The model's answer for each text, with its probability."""
        with _train_lock:
            model = _model(self.reasons)
        if model is None:
            return [Reason("other", 0.0, "model") for _ in texts]
        probabilities: Any = model.predict_proba([t[:MAX_CHARS] for t in texts])
        classes = list(model.classes_)
        out = []
        for row in probabilities:
            best = int(row.argmax())
            out.append(Reason(str(classes[best]), round(float(row[best]), 4), "model"))
        return out
