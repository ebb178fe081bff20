"""Topics of the texts: non-negative matrix factorisation of their TF-IDF matrix.

Method: scikit-learn's `NMF` with the multiplicative updates for the β-divergence of Févotte
& Idier (2011) at β = 1 (the Kullback–Leibler divergence, Lee & Seung's 2001 algorithm),
initialised by NNDSVDa (Boutsidis & Gallopoulos 2008) and seeded (`random_state`): the same
texts and seed give the same topics. Words are folded (voc/text.py), French and English stop
words (short lists written here, with the greetings and fillers of a call) left out.

*k*: `[voc] topics` when set; otherwise the k of `topics_min..topics_max` whose topics are the
most coherent — the mean normalised pointwise mutual information (NPMI, Bouma 2009; the
C_NPMI of Röder et al. 2015) of each topic's top-10 terms over the fitted texts, a measure
that agrees with people's judgement of topics; ties go to the smaller k.

A topic's *label* is its top terms until a CX manager names it; a refit keeps names and merges
by matching each new topic to the old topic with the most shared top terms (Jaccard ≥ 0.3).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from empreinte.voc.text import fold

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

TOP_TERMS = 10
#: Texts the model is fitted on at most (a seeded, even sample of them); every text is then
#: given its topics by the fitted model.
MAX_FIT_TEXTS = 20_000
#: Texts k is chosen on (the fits over the k range run on this many).
MAX_CHOICE_TEXTS = 2_000
#: A text's topics: those with at least this share of its weight, three at most.
MIN_SHARE = 0.15
MAX_TOPICS_PER_TEXT = 3
MATCH_JACCARD = 0.3
MAX_CHARS = 5_000

# Stop words, folded (no accents), written here rather than read from spaCy's language data:
# importing spaCy costs seconds, and these short lists are what a call's subject is not.
_FRENCH = """
a au aux avec ce ces cet cette c ca ceci cela celui celle ceux chez comme dans de des du d
donc elle elles en encore est et etait etais ete etre eu fait faire faut il ils j je jai
l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on ou par
pas peu peut plus pour pourquoi quand que quel quelle quels qu qui quoi sa sans se ses si
son sont sur ta te tes toi ton tous tout toute toutes tres trop tu un une vos votre vous y
avez avais avait ai as avons ont suis es sommes etes serait sera aussi ainsi apres avant
deja depuis entre jusqu la lors non oui ici puis rien sous tant toujours vers voici voila
chaque aucun autre autres beaucoup bien cest ceux dont dit dire fois ok alors bon ben euh
hum daccord accord bonjour bonsoir allo merci madame monsieur revoir journee soiree appelle
appel appeler voudrais veux souhaite besoin pouvez peux pourriez faites fais
"""
_ENGLISH = """
a about after again all also am an and any are as at be because been before being but by
can could did do does doing don down during each few for from further had has have having
he her here hers him his how i if in into is it its just me more most my no nor not now of
off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours ve ll re d m s
t hello hi yes yeah thanks thank please sir madam well right sure bye okay ok call calling
calls called like want need got get still really
"""


@functools.cache
def stop_words() -> frozenset[str]:
    """French and English stop words and the greetings and fillers of a call, folded."""
    return frozenset(_FRENCH.split()) | frozenset(_ENGLISH.split())


@dataclass(frozen=True)
class FittedTopics:
    """A fitted model: each topic's top terms, the coherence of the fit, and the model."""

    k: int
    terms: tuple[tuple[str, ...], ...]
    coherence: float
    _vectorizer: Any
    _nmf: Any

    def assign(self, texts: Sequence[str]) -> list[list[tuple[int, float]]]:
        """Each text's topics (index into `terms`, share of its weight), heaviest first."""
        if not texts:
            return []
        w = self._nmf.transform(self._vectorizer.transform([t[:MAX_CHARS] for t in texts]))
        totals = w.sum(axis=1)
        out: list[list[tuple[int, float]]] = []
        for row, total in zip(w, totals, strict=True):
            if total <= 0:
                out.append([])
                continue
            shares = row / total
            order = np.argsort(-shares)[:MAX_TOPICS_PER_TEXT]
            out.append(
                [(int(i), round(float(shares[i]), 4)) for i in order if shares[i] >= MIN_SHARE]
            )
        return out


def _vectorizer(n_texts: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        preprocessor=lambda t: fold(t[:MAX_CHARS]),
        token_pattern=r"\b[a-z][a-z]{2,}\b",
        stop_words=sorted(stop_words()),
        min_df=2 if n_texts >= 20 else 1,
        max_df=0.5 if n_texts >= 20 else 1.0,
        max_features=5_000,
        sublinear_tf=True,
    )


def _nmf(k: int, seed: int) -> Any:
    from sklearn.decomposition import NMF

    return NMF(
        n_components=k,
        init="nndsvda",
        solver="mu",
        beta_loss="kullback-leibler",
        max_iter=300,
        random_state=seed,
    )


def _top(components: np.ndarray, vocabulary: np.ndarray) -> tuple[tuple[str, ...], ...]:
    return tuple(
        tuple(str(vocabulary[i]) for i in np.argsort(-row)[:TOP_TERMS] if row[i] > 0)
        for row in components
    )


def npmi(terms: Sequence[Sequence[str]], binary: csr_matrix, index: dict[str, int]) -> float:
    """Mean NPMI of each topic's term pairs over the documents of `binary` (0/1, docs × terms);
    a pair never seen together scores -1."""
    n = binary.shape[0]
    columns = binary.tocsc()
    scores: list[float] = []
    for topic in terms:
        ids = [index[t] for t in topic if t in index]
        docs = [set(columns.indices[columns.indptr[i] : columns.indptr[i + 1]]) for i in ids]
        pairs = []
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                joint = len(docs[a] & docs[b]) / n
                if joint == 0:
                    pairs.append(-1.0)
                    continue
                pa, pb = len(docs[a]) / n, len(docs[b]) / n
                if joint >= 1.0:
                    pairs.append(1.0)
                    continue
                pairs.append(math.log(joint / (pa * pb)) / -math.log(joint))
        if pairs:
            scores.append(sum(pairs) / len(pairs))
    return sum(scores) / len(scores) if scores else -1.0


def _sample(texts: Sequence[str], limit: int) -> list[str]:
    """An even, deterministic sample of `limit` texts (every n-th)."""
    if len(texts) <= limit:
        return list(texts)
    step = len(texts) / limit
    return [texts[int(i * step)] for i in range(limit)]


def fit(
    texts: Sequence[str], *, k: int = 0, k_min: int = 4, k_max: int = 12, seed: int = 0
) -> FittedTopics | None:
    """Topics of `texts` (None when there are too few texts or words to find two)."""
    sample = _sample(texts, MAX_FIT_TEXTS)
    vectorizer = _vectorizer(len(sample))
    try:
        matrix = vectorizer.fit_transform(sample)
    except ValueError:  # no word left (every text empty or stop words only)
        return None
    vocabulary = vectorizer.get_feature_names_out()
    ceiling = min(len(sample) - 1, matrix.shape[1] - 1)
    if ceiling < 2:
        return None
    binary = (matrix > 0).astype(np.int8).tocsr()
    index = {str(t): i for i, t in enumerate(vocabulary)}
    if k:
        chosen = min(k, ceiling)
    else:
        low, high = min(k_min, ceiling), min(k_max, ceiling)
        rows = _sample(range(matrix.shape[0]), MAX_CHOICE_TEXTS)  # type: ignore[arg-type]
        sub = matrix[rows]
        best: tuple[float, int] | None = None
        for candidate in range(low, high + 1):
            model = _nmf(candidate, seed).fit(sub)
            score = round(npmi(_top(model.components_, vocabulary), binary[rows], index), 3)
            if best is None or score > best[0]:
                best = (score, candidate)
        chosen = best[1] if best else low
    model = _nmf(chosen, seed)
    model.fit(matrix)
    terms = _top(model.components_, vocabulary)
    return FittedTopics(chosen, terms, npmi(terms, binary, index), vectorizer, model)


def match(old: Sequence[tuple[int, Sequence[str]]], new: Sequence[Sequence[str]]) -> dict[int, int]:
    """New topic index → old topic id, best pairs first (Jaccard of top terms ≥ 0.3)."""
    candidates = []
    for i, terms in enumerate(new):
        mine = set(terms)
        for topic_id, theirs in old:
            union = mine | set(theirs)
            jaccard = len(mine & set(theirs)) / len(union) if union else 0.0
            if jaccard >= MATCH_JACCARD:
                candidates.append((-jaccard, i, topic_id))
    out: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, topic_id in sorted(candidates):
        if i not in out and topic_id not in taken:
            out[i] = topic_id
            taken.add(topic_id)
    return out
