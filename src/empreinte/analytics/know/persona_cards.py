"""Persona cards: each cluster of personas.py written up for a marketer.

A card holds, for the people of one cluster: its name (personas.py), size and share; the age
range (10th to 90th percentile of ages at the log's latest year) and generation mix of those
whose birth year is known; the country and city mix (`profile_facts`, trait `address.city`);
the income band mix where a trait `income_band` is known; the mean channel shares and mobile
share; the categories they look at most (their mean category shares) and the products most
viewed or added to a cart; their typical journey (the most frequent sequence of the first
three channels they used, consecutive repeats merged: "web → store"); the NPS of their latest
answers with its 95 % interval and n (cx/score_stats.py); their main frustrations: the most
frequent themes of their detractors' comments (`THEMES`, keywords in English and French, on the
redacted text) and two friction signals (the share of them with a `Payment Failed`, the share
who called within 24 h of a web or app session, journeys/friction.py); and a quote.

**The quote** is one of their own NPS comments, redacted (privacy/redaction.py): the comment of
the answer whose score is the closest to the cluster's median score, ties broken by the
SHA-256 of the text (deterministic, independent of the log's order). There is no quote when
fewer than `[cx] viewer_min_group` people of the cluster left a comment: a verbatim from a
handful of people could identify them. A quote is at most `QUOTE_MAX` characters (cut at a word).

Renders: Markdown, HTML (every value escaped: a verbatim is user input) and PNG (matplotlib,
through cx/charts.py's `render`: deterministic and thread-safe), in English or French.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from empreinte.analytics.attributes import profile_attributes
from empreinte.analytics.cx import score_stats
from empreinte.analytics.cx.answers import survey_answers
from empreinte.analytics.journeys.channels import own_touchpoints
from empreinte.analytics.journeys.friction import contacts_after_web
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.know.persona_features import CHANNELS, PRODUCT_STEPS
from empreinte.analytics.know.personas import Lang, PersonaClusters, check_lang
from empreinte.analytics.log import AnalyticsLog
from empreinte.privacy.redaction import redact

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Mix = tuple[tuple[str, float], ...]
TOP = 3
JOURNEY_CHANNELS = 3
ARROW = " → "
DETRACTOR_MAX = 6

#: Theme → (English label, French label, keywords in either language: regular expressions,
#: lower case, matched from the start of a word).
THEMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "delivery": ("delivery", "livraison", ("deliver", "parcel", "livraison", "colis", r"late\b")),
    "waiting": ("waiting time", "attente", ("on hold", "wait", "attente", "minutes")),
    "support": (
        "customer service",
        "service client",
        ("agent", "conseiller", "solution", "call back", "rappel", "support"),
    ),
    "payment": ("payment", "paiement", ("payment", "paiement", "card", "carte", "paid", "payé")),
    "returns": ("returns", "retours", ("return", "send it back", "renvoy", "retour", "refund")),
    "price": ("prices", "prix", ("price", "prix", "expensive", "cher")),
    "website": (
        "website and app",
        "site et appli",
        ("website", r"site\b", r"app\b", "appli", "slow", r"lent\b", "bug"),
    ),
}

_LABELS: dict[str, tuple[str, str]] = {
    "persona": ("Persona", "Persona"),
    "people": ("people", "personnes"),
    "of_customers": ("of the people in a persona", "des personnes dans un persona"),
    "who": ("Who they are", "Qui sont-ils"),
    "age": ("Age", "Âge"),
    "years": ("years", "ans"),
    "generations": ("Generations", "Générations"),
    "countries": ("Countries", "Pays"),
    "cities": ("Cities", "Villes"),
    "income": ("Income band", "Tranche de revenus"),
    "unknown": ("unknown", "inconnu"),
    "channels": ("Channels", "Canaux"),
    "mobile": ("Mobile share of web and app", "Part mobile du web et de l'appli"),
    "buy": ("What they look at", "Ce qu'ils regardent"),
    "categories": ("Categories", "Catégories"),
    "products": ("Products", "Produits"),
    "journey": ("Typical journey", "Parcours type"),
    "of_them": ("of them", "d'entre eux"),
    "nps": ("NPS", "NPS"),
    "answers": ("answers", "réponses"),
    "no_answers": ("no answer", "aucune réponse"),
    "frustrations": ("Main frustrations", "Principales frustrations"),
    "comments": ("detractor comments", "commentaires de détracteurs"),
    "payment_failed": ("had a payment fail", "ont eu un paiement refusé"),
    "called": ("called after a web or app visit", "ont appelé après une visite web ou appli"),
    "quote": ("In their words", "Dans leurs mots"),
    "no_quote": (
        "(too few comments to quote without identifying anyone)",
        "(trop peu de commentaires pour citer sans identifier quelqu'un)",
    ),
    "none": ("none", "aucune"),
}


def label(key: str, lang: Lang) -> str:
    english, french = _LABELS[key]
    return english if lang == "en" else french


@dataclass(frozen=True)
class PersonaCard:
    """One cluster, written up (see the module for each figure)."""

    number: int  # 1-based, as in the clusters' table
    name: str
    lang: Lang
    people: int
    share: float
    age_range: tuple[int, int] | None
    generations: Mix
    countries: Mix
    cities: Mix
    income_bands: Mix
    channels: Mix
    mobile_share: float
    categories: Mix
    products: tuple[str, ...]
    journey: str | None
    journey_share: float
    nps: float | None
    nps_low: float | None
    nps_high: float | None
    nps_n: int
    themes: tuple[tuple[str, int], ...]
    payment_failed_share: float
    called_after_web_share: float
    quote: str | None
    #: The profile whose comment is quoted: never shown nor exported (it would name the
    #: author), kept so that a quote is taken down when its author withdraws consent.
    quote_by: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        del row["quote_by"]
        for key in ("generations", "countries", "cities", "income_bands", "channels", "categories"):
            row[key] = [{"label": k, "share": v} for k, v in getattr(self, key)]
        row["themes"] = [{"theme": k, "comments": v} for k, v in self.themes]
        row["age_range"] = None if self.age_range is None else list(self.age_range)
        row["products"] = list(self.products)
        return row

    def to_markdown(self) -> str:
        return _markdown(self)

    def to_html(self) -> str:
        return _html(self)

    def to_png(self, path: str | Path) -> Path:
        return _png(self, Path(path))


# -- computing --------------------------------------------------------------------------------


def persona_cards(
    log: AnalyticsLog,
    clusters: PersonaClusters,
    lang: str = "en",
    scope: JourneyScope | None = None,
) -> list[PersonaCard]:
    """A card per cluster of `clusters` (computed on this log), in `lang`."""
    language = check_lang(lang)
    scope = scope or JourneyScope()
    members = clusters.people[["profile_id", "cluster"]].copy()
    members["profile_id"] = members["profile_id"].astype(str)
    members["cluster"] = members["cluster"].astype("int64")
    who = ibis.memtable(members).rename(_pid="profile_id")
    people = _people(log, who, members)
    sequences = _journeys(log, who, scope)
    products = _products(log, who, scope)
    comments = _comments(log, who)
    payment = _people_with(log, who, touchpoints(log, scope, steps=("Payment Failed",)))
    contacts, _ = contacts_after_web(log, scope)
    called = _people_with(log, who, contacts.filter(contacts.after_web))
    minimum = log.settings.cx.viewer_min_group
    sizes = clusters.sizes()
    total = max(clusters.total, 1)
    cards = []
    for c in range(clusters.k):
        own = clusters.people[clusters.people["cluster"] == c]
        size = max(sizes[c], 1)
        mine = people[people["cluster"] == c]
        journey, journey_share = _typical(sequences.get(c, []))
        nps = _nps(own["nps"].dropna() if "nps" in own else pd.Series(dtype=float))
        said = comments[comments["cluster"] == c]
        quote = _quote(said, minimum)
        cards.append(
            PersonaCard(
                number=c + 1,
                name=clusters.names[language][c],
                lang=language,
                people=sizes[c],
                share=sizes[c] / total,
                age_range=_age_range(mine["age"].dropna()),
                generations=_mix(mine["generation"]),
                countries=_mix(mine["country"]),
                cities=_mix(mine["city"]),
                income_bands=_mix(mine["income_band"]),
                channels=_means(own, [f"share_{ch}" for ch in CHANNELS], "share_"),
                mobile_share=float(own["mobile_share"].mean()) if len(own) else 0.0,
                categories=_means(own, [f for f in clusters.features if f.startswith("cat_")]),
                products=tuple(products.get(c, ())),
                journey=journey,
                journey_share=journey_share,
                nps=nps.value if nps else None,
                nps_low=nps.low if nps else None,
                nps_high=nps.high if nps else None,
                nps_n=int(own["nps"].notna().sum()) if "nps" in own else 0,
                themes=_themes(said[said["score"] <= DETRACTOR_MAX]["comment"], language),
                payment_failed_share=payment.get(c, 0) / size,
                called_after_web_share=called.get(c, 0) / size,
                quote=quote[0] if quote else None,
                quote_by=quote[1] if quote else None,
            )
        )
    return cards


def _members_of(table: ir.Table, who: ir.Table) -> ir.Table:
    joined = table.join(who, table.profile_id == who._pid)
    return joined.drop("_pid")


def _people(log: AnalyticsLog, who: ir.Table, members: pd.DataFrame) -> pd.DataFrame:
    """Per member: cluster, country, age, generation, city, income band (None if unknown)."""
    facts = _members_of(log.derived("profile_facts"), who)
    frame = log.execute(facts.select("profile_id", "country", "birth_year"))
    traits = profile_attributes(
        log, ["traits.address.city", "traits.income_band"], owners=who.rename(profile_id="_pid")
    ).to_pandas()
    traits.columns = ["profile_id", "city", "income_band"]
    merged = members.merge(frame, on="profile_id", how="left").merge(
        traits, on="profile_id", how="left"
    )
    end = log.execute(log.events().timestamp.max())
    year = pd.Timestamp(end).year if end is not None and not pd.isna(end) else None
    generations = log.settings.generations
    years = merged["birth_year"]
    merged["age"] = [None if pd.isna(y) or year is None else year - int(y) for y in years]
    merged["generation"] = [None if pd.isna(y) else generations.of(int(y)) for y in years]
    return merged


def _journeys(log: AnalyticsLog, who: ir.Table, scope: JourneyScope) -> dict[int, list[str]]:
    """Per cluster, each member's first channels (repeats merged) as "a → b → c"."""
    own = _members_of(own_touchpoints(log, scope), who)
    ordered = ibis.window(group_by=own.profile_id, order_by=[own.at, own.seq])
    changes = own.filter(
        own.channel.lag().over(ordered).isnull() | (own.channel != own.channel.lag().over(ordered))
    )
    rank = ibis.row_number().over(
        ibis.window(group_by=changes.profile_id, order_by=[changes.at, changes.seq])
    )
    first = changes.mutate(_n=rank).filter(lambda t: t._n < JOURNEY_CHANNELS)
    frame = log.execute(first.select("profile_id", "cluster", "channel", "_n"))
    result: dict[int, list[str]] = {}
    frame = frame.sort_values(["profile_id", "_n"])
    for (profile, cluster), rows in frame.groupby(["profile_id", "cluster"], sort=True):
        del profile
        result.setdefault(int(cluster), []).append(ARROW.join(rows["channel"]))
    return result


def _products(log: AnalyticsLog, who: ir.Table, scope: JourneyScope) -> dict[int, list[str]]:
    """Per cluster, the `TOP` products most viewed or added (by name; ties by name)."""
    table = _members_of(touchpoints(log, scope, steps=PRODUCT_STEPS), who)
    table = table.mutate(product=JsonDoc(log, table.properties).text("name"))
    counts = (
        table.filter(table.product.notnull()).group_by(["cluster", "product"]).agg(n=ibis._.count())
    )
    rank = ibis.row_number().over(
        group_by="cluster", order_by=[ibis.desc(counts.n), counts.product]
    )
    top = counts.mutate(_r=rank).filter(lambda t: t._r < TOP)
    frame = log.execute(top.order_by(["cluster", "_r"]))
    result: dict[int, list[str]] = {}
    for cluster, product in zip(frame["cluster"], frame["product"], strict=True):
        result.setdefault(int(cluster), []).append(str(product))
    return result


def _comments(log: AnalyticsLog, who: ir.Table) -> pd.DataFrame:
    """Members' NPS answers with a comment: profile_id, cluster, score, comment (redacted)."""
    answers = survey_answers(log, "nps")
    answers = _members_of(answers.filter(answers.comment.notnull()), who)
    frame = log.execute(answers.select("profile_id", "cluster", "score", "comment"))
    region = log.settings.default_region
    frame["comment"] = [redact(str(text), region).strip() for text in frame["comment"]]
    return frame[frame["comment"] != ""].reset_index(drop=True)


def _people_with(log: AnalyticsLog, who: ir.Table, table: ir.Table) -> dict[int, int]:
    """Per cluster, how many members have a row in `table` (with `profile_id`)."""
    found = _members_of(table.select("profile_id").distinct(), who)
    counts = log.execute(found.group_by("cluster").agg(n=ibis._.count()))
    return {int(c): int(n) for c, n in zip(counts["cluster"], counts["n"], strict=True)}


def _mix(values: pd.Series) -> Mix:
    """The `TOP` most frequent known values and their shares of the known."""
    known = values.dropna()
    if known.empty:
        return ()
    counts = Counter(str(v) for v in known)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return tuple((k, n / len(known)) for k, n in ranked)


def _means(own: pd.DataFrame, columns: Sequence[str], prefix: str = "cat_") -> Mix:
    if own.empty or not columns:
        return ()
    means = [(c.removeprefix(prefix), float(own[c].mean())) for c in columns]
    ranked = sorted(means, key=lambda kv: (-kv[1], kv[0]))
    return tuple((k, v) for k, v in ranked[:TOP] if v > 0)


def _age_range(ages: pd.Series) -> tuple[int, int] | None:
    if ages.empty:
        return None
    low, high = np.percentile(ages.astype(float).to_numpy(), [10, 90])
    return round(float(low)), round(float(high))


def _typical(sequences: list[str]) -> tuple[str | None, float]:
    if not sequences:
        return None, 0.0
    counts = Counter(sequences)
    best, n = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return best, n / len(sequences)


def _nps(scores: pd.Series) -> score_stats.Estimate | None:
    if scores.empty:
        return None
    values = scores.astype(float).to_numpy()
    tally = score_stats.Tally(
        n=len(values),
        total=float(values.sum()),
        squares=float((values**2).sum()),
        high=int((values >= 9).sum()),
        low=int((values <= DETRACTOR_MAX).sum()),
    )
    return score_stats.nps(tally)


def _themes(comments: pd.Series, lang: Lang) -> tuple[tuple[str, int], ...]:
    """The `TOP` themes found in most comments (a comment may touch several)."""
    counts: Counter[str] = Counter()
    for text in comments:
        lower = str(text).lower()
        for english, french, words in THEMES.values():
            if any(re.search(rf"\b{word}", lower) for word in words):
                counts[english if lang == "en" else french] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:TOP])


#: A quote on a card is a sentence or two: a comment can be as long as a message allows (32 KB
#: through the public write key), so a longer one is cut at a word with an ellipsis.
QUOTE_MAX = 280


def quote_of(comment: str) -> str:
    """`comment` as a card quotes it: whitespace runs made single spaces, at most
    `QUOTE_MAX` characters."""
    import textwrap

    short = textwrap.shorten(comment, QUOTE_MAX, placeholder=" …")
    if short in ("…", " …"):  # a first word longer than the quote: cut it
        short = " ".join(comment.split())[: QUOTE_MAX - 2] + " …"
    return short


def _quote(said: pd.DataFrame, minimum: int) -> tuple[str, str] | None:
    """(the quote, its author's profile id), or None."""
    if said.empty or said["profile_id"].nunique() < minimum:
        return None
    median = float(said["score"].median())
    ranked = sorted(
        said.itertuples(index=False),
        key=lambda r: (
            abs(float(r.score) - median),
            hashlib.sha256(str(r.comment).encode()).hexdigest(),
        ),
    )
    return quote_of(str(ranked[0].comment)), str(ranked[0].profile_id)


# -- rendering --------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def _signed(value: float) -> str:
    """A whole number with its sign; never "-0"."""
    return f"{round(value) + 0:+d}"


def _count(value: int, lang: Lang) -> str:
    text = f"{value:,}"
    return text if lang == "en" else text.replace(",", "\u202f")


def _mix_text(mix: Mix, lang: Lang) -> str:
    return ", ".join(f"{k} {_pct(v)}" for k, v in mix) or label("unknown", lang)


def _nps_text(card: PersonaCard) -> str:
    lang = card.lang
    if card.nps is None:
        return label("no_answers", lang)
    details = f"n = {card.nps_n} {label('answers', lang)}"
    if card.nps_low is not None and card.nps_high is not None:
        low, high = _signed(card.nps_low), _signed(card.nps_high)
        interval = f"95 % CI {low} to {high}" if lang == "en" else f"IC 95 % de {low} à {high}"
        details = f"{interval}; {details}"
    return f"{_signed(card.nps)} ({details})"


def _lines(card: PersonaCard) -> list[tuple[str, str]]:
    """(label, text) of every field after the title, in order; plain text."""
    lang = card.lang
    age = label("unknown", lang)
    if card.age_range is not None:
        age = f"{card.age_range[0]}–{card.age_range[1]} {label('years', lang)}"
    journey = label("unknown", lang)
    if card.journey is not None:
        journey = f"{card.journey} ({_pct(card.journey_share)} {label('of_them', lang)})"
    themes = ", ".join(f"{t} ({n})" for t, n in card.themes) or label("none", lang)
    frustrations = (
        f"{themes} — {label('comments', lang)}; "
        f"{_pct(card.payment_failed_share)} {label('payment_failed', lang)}; "
        f"{_pct(card.called_after_web_share)} {label('called', lang)}"
    )
    return [
        (label("age", lang), age),
        (label("generations", lang), _mix_text(card.generations, lang)),
        (label("countries", lang), _mix_text(card.countries, lang)),
        (label("cities", lang), _mix_text(card.cities, lang)),
        (label("income", lang), _mix_text(card.income_bands, lang)),
        (label("channels", lang), _mix_text(card.channels, lang)),
        (label("mobile", lang), _pct(card.mobile_share)),
        (label("categories", lang), _mix_text(card.categories, lang)),
        (label("products", lang), ", ".join(card.products) or label("unknown", lang)),
        (label("journey", lang), journey),
        (label("nps", lang), _nps_text(card)),
        (label("frustrations", lang), frustrations),
    ]


def _headline(card: PersonaCard) -> str:
    lang = card.lang
    return (
        f"{_count(card.people, lang)} {label('people', lang)}, {_pct(card.share)}"
        f" {label('of_customers', lang)}"
    )


def _quote_text(card: PersonaCard) -> str:
    return f"“{card.quote}”" if card.quote is not None else label("no_quote", card.lang)


def _markdown(card: PersonaCard) -> str:
    def safe(text: str) -> str:  # Markdown: no markup out of a value
        return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)

    lang = card.lang
    out = [f"## {label('persona', lang)} {card.number}: {safe(card.name)}", ""]
    out += [f"*{_headline(card)}*", ""]
    out += [f"- **{name}**: {safe(text)}" for name, text in _lines(card)]
    out += ["", f"> {safe(_quote_text(card))} — {label('quote', lang)}", ""]
    return "\n".join(out)


def _html(card: PersonaCard) -> str:
    e = html.escape
    lang = card.lang
    rows = "\n".join(f"    <dt>{e(name)}</dt><dd>{e(text)}</dd>" for name, text in _lines(card))
    return (
        f'<article class="persona-card" lang="{lang}">\n'
        f"  <h2>{e(label('persona', lang))} {card.number}: {e(card.name)}</h2>\n"
        f"  <p>{e(_headline(card))}</p>\n"
        f"  <dl>\n{rows}\n  </dl>\n"
        f"  <blockquote>{e(_quote_text(card))}</blockquote>\n"
        f"</article>\n"
    )


def coverage_note(clusters: PersonaClusters, lang: Lang) -> str:
    """Who is in a persona and who has too little history yet (personas.py), in `lang`."""
    read, total, rest = clusters.read, clusters.total, clusters.too_little_history
    low = clusters.min_touchpoints
    share = total / read if read else 0.0
    if lang == "fr":
        return (
            f"{_count(read, lang)} clients lus : {_count(total, lang)} ({_pct(share)}), avec au"
            f" moins {low} points de contact, sont dans un persona ; {_count(rest, lang)}"
            f" ({_pct(1 - share if read else 0.0)}) ont encore trop peu d'historique et ne sont"
            " dans aucun."
        )
    return (
        f"{_count(read, lang)} customers read: {_count(total, lang)} ({_pct(share)}), with at"
        f" least {low} touchpoints, are in a persona; {_count(rest, lang)}"
        f" ({_pct(1 - share if read else 0.0)}) have too little history yet and are in none."
    )


def page(cards: Sequence[PersonaCard], note: str | None = None) -> str:
    """The cards as one HTML page, after `note` (the coverage) when given."""
    lang = cards[0].lang if cards else "en"
    body = "\n".join(card.to_html() for card in cards)
    if note is not None:
        body = f'<p class="persona-coverage">{html.escape(note)}</p>\n{body}'
    title = "Personas"
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body>\n{body}</body>\n</html>\n"
    )


def _png(card: PersonaCard, path: Path) -> Path:
    from empreinte.analytics.cx.charts import PALETTE, render

    def draw(fig: Figure) -> None:
        grid = fig.add_gridspec(2, 2, height_ratios=[3, 2], width_ratios=[3, 2])
        text = fig.add_subplot(grid[:, 0])
        text.axis("off")
        lines = [_headline(card), ""]
        for name, value in _lines(card):
            lines.append(f"{name}: {value}")
        lines += ["", _quote_text(card)]
        wrapped = "\n".join(_wrap(line, 90) for line in lines)
        text.set_title(f"{card.number}. {card.name}", loc="left", fontsize=12, fontweight="bold")
        text.text(0, 1, wrapped, va="top", ha="left", fontsize=8.5, transform=text.transAxes)
        bars = fig.add_subplot(grid[0, 1])
        names = [k for k, _ in card.channels] or ["-"]
        values = [v * 100 for _, v in card.channels] or [0.0]
        bars.barh(names[::-1], values[::-1], color=PALETTE[0])
        bars.set_title(label("channels", card.lang), loc="left", fontsize=9)
        bars.set_xlim(0, 100)
        bars.xaxis.set_major_formatter("{x:.0f} %")
        cats = fig.add_subplot(grid[1, 1])
        names = [k for k, _ in card.categories] or ["-"]
        values = [v * 100 for _, v in card.categories] or [0.0]
        cats.barh(names[::-1], values[::-1], color=PALETTE[1])
        cats.set_title(label("categories", card.lang), loc="left", fontsize=9)
        cats.set_xlim(0, 100)
        cats.xaxis.set_major_formatter("{x:.0f} %")

    return render(path, "png", (11, 5.5), draw)


def _wrap(line: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(line, width)) or line


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonaReport:
    """The clusters (with every k's stability) and a card per cluster, in `lang`."""

    clusters: PersonaClusters
    cards: tuple[PersonaCard, ...]
    lang: Lang

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per persona: cluster, name, people, share."""
        return self.clusters.to_rows(self.lang)

    def to_pandas(self) -> pd.DataFrame:
        return self.clusters.to_pandas(self.lang)

    def score_rows(self) -> list[dict[str, Any]]:
        """One row per k tried: k, stability, chosen (none when k was asked)."""
        return self.clusters.score_rows()

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of the API."""
        return {
            "k": self.clusters.k,
            "fitted": self.clusters.fitted,
            "chosen_by": self.clusters.chosen_by,
            "seed": self.clusters.seed,
            "people": self.clusters.total,
            "read": self.clusters.read,
            "too_little_history": self.clusters.too_little_history,
            "min_touchpoints": self.clusters.min_touchpoints,
            "coverage": self.clusters.coverage,
            "lang": self.lang,
            "scores": self.score_rows(),
            "cards": [card.to_dict() for card in self.cards],
        }

    def coverage_note(self) -> str:
        """Who is in a persona, who has too little history yet."""
        return coverage_note(self.clusters, self.lang)

    def markdown(self) -> str:
        return "\n".join([f"*{self.coverage_note()}*\n", *(c.to_markdown() for c in self.cards)])

    def html(self) -> str:
        return page(self.cards, self.coverage_note())

    def write(self, folder: str | Path) -> list[Path]:
        """personas.md, personas.html and persona-<n>.png in `folder` (created)."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        written = [target / "personas.md", target / "personas.html"]
        written[0].write_text(self.markdown())
        written[1].write_text(self.html())
        for card in self.cards:
            written.append(card.to_png(target / f"persona-{card.number}.png"))
        return written


def persona_report(
    log: AnalyticsLog,
    scope: JourneyScope | None = None,
    *,
    k: int | None = None,
    seed: int = 0,
    lang: str = "en",
) -> PersonaReport:
    """Features in the engine, clusters and cards: everything `ws.know.personas` gives."""
    from empreinte.analytics.know.personas import personas

    language = check_lang(lang)
    clusters = personas(log, scope, k=k, seed=seed)
    cards = persona_cards(log, clusters, language, scope)
    return PersonaReport(clusters, tuple(cards), language)
