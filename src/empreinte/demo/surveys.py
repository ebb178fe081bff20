"""Survey answers that depend on what actually happened to the customer.

A latent satisfaction (0–10) starts from the persona's baseline and is lowered by the friction
of the journey the survey is about — a failed payment, an unresolved contact, a late delivery, a
long queue, a return — scaled by the persona's sensitivity. NPS, CSAT and CES are read from it
with noise, and the free-text comment talks about the worst friction, so key-driver and verbatim
analyses have something true to find. The relational NPS reads the friction of the weeks before
it instead of one journey's.

Answers are the `NPS Answered`, `CSAT Answered` and `CES Answered` events; `survey_id` names the
survey programme (one per occasion), and `touchpoint` the journey a transactional survey is about
(relational surveys, about the brand, have none).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from empreinte.demo.personas import Persona

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
EVENTS = {"nps": "NPS Answered", "csat": "CSAT Answered", "ces": "CES Answered"}
RELATIONAL = "nps-relational"
# Survey programme of each touchpoint: survey_id is f"{kind}-{programme}".
_PROGRAMMES = {
    "web_checkout": "checkout",
    "delivery": "delivery",
    "store": "store",
    "call": "call",
    "chat": "chat",
}

QUESTIONS = {
    ("nps", "fr"): "Quelle est la probabilité que vous recommandiez Empreinte à un proche ?",
    ("nps", "en"): "How likely are you to recommend Empreinte to a friend or colleague?",
    ("csat", "fr"): "Êtes-vous satisfait(e) de votre expérience ?",
    ("csat", "en"): "How satisfied were you with your experience?",
    ("ces", "fr"): "Empreinte m'a facilité la tâche.",
    ("ces", "en"): "Empreinte made it easy for me to handle my request.",
}


@dataclass
class Friction:
    """What went wrong in one journey (an order, a contact)."""

    payment_failed: bool = False
    unresolved_contact: bool = False
    queue_wait_s: int = 0
    returned: bool = False
    contacts: int = 0
    delay_days: int = 0  # days the delivery came after the promised date

    def penalty(self) -> float:
        """Points lost on the 0–10 scale, before the persona's sensitivity."""
        wait = min(2.5, max(0, self.queue_wait_s - 120) / 240)
        return (
            2.5 * self.payment_failed
            + 3.0 * self.unresolved_contact
            + min(3.0, 0.6 * self.delay_days)
            + wait
            + 1.5 * self.returned
            + 0.5 * max(0, self.contacts - 1)
        )

    def topic(self) -> str | None:
        """The friction a customer would complain about first, if any."""
        if self.payment_failed:
            return "payment"
        if self.unresolved_contact:
            return "unresolved"
        if self.delay_days > 0:
            return "delay"
        if self.queue_wait_s > 300:
            return "wait"
        if self.returned:
            return "return"
        return None


def survey_id(survey: str, touchpoint: str | None) -> str:
    """The programme of a `survey` ("nps", "csat", "ces") about `touchpoint` (None: relational)."""
    return RELATIONAL if touchpoint is None else f"{survey}-{_PROGRAMMES[touchpoint]}"


def score(
    survey: str,
    persona: Persona,
    friction: Friction,
    rng: random.Random,
    smooth_bonus: float = 0.5,
) -> int:
    """One answer to `survey` ("nps", "csat" or "ces") after a journey with `friction`.

    A smooth journey is remembered as better than the brand's average (`smooth_bonus`); a
    relational survey, about the brand, has none.
    """
    penalty = friction.penalty()
    mean = persona.nps_base - penalty * persona.friction_sensitivity
    if penalty == 0:
        mean += smooth_bonus
    lo, hi = SCALES[survey]
    scaled = lo + (hi - lo) * max(0.0, min(10.0, mean)) / 10
    spread = 1.3 * (hi - lo) / 10 + 0.3
    return max(lo, min(hi, round(rng.gauss(scaled, spread))))


def _band(survey: str, value: int) -> str:
    lo, hi = SCALES[survey]
    share = (value - lo) / (hi - lo)
    return "neg" if share < 0.65 else "mid" if share < 0.85 else "pos"


# Verbatims by topic, language and sentiment band.
_COMMENTS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "payment": {
        "fr": {
            "neg": (
                "Paiement refusé deux fois sans explication, très frustrant.",
                "Ma carte a été refusée alors qu'elle fonctionne partout ailleurs.",
                "Le paiement a échoué et j'ai dû appeler le service client.",
            ),
            "mid": ("Souci de paiement au début, mais la commande est passée.",),
            "pos": ("Petit problème de paiement, vite réglé par le conseiller.",),
        },
        "en": {
            "neg": (
                "Payment was declined twice with no explanation. Very frustrating.",
                "My card got declined even though it works everywhere else.",
                "Checkout failed and I had to call customer service.",
            ),
            "mid": ("Had a payment issue at first, but the order went through.",),
            "pos": ("Small payment hiccup, quickly fixed by the agent.",),
        },
    },
    "unresolved": {
        "fr": {
            "neg": (
                "Personne n'a pu résoudre mon problème.",
                "J'ai appelé plusieurs fois, toujours pas de solution.",
                "Le conseiller ne savait pas répondre, je dois rappeler.",
            ),
            "mid": ("Conseiller aimable mais mon problème n'est pas réglé.",),
            "pos": ("Pas encore résolu mais on m'a bien expliqué la suite.",),
        },
        "en": {
            "neg": (
                "Nobody could solve my problem.",
                "Called several times and still no solution.",
                "The agent had no answer, I have to call back again.",
            ),
            "mid": ("Friendly agent but my issue is still open.",),
            "pos": ("Not solved yet, but the next steps were clearly explained.",),
        },
    },
    "wait": {
        "fr": {
            "neg": (
                "Beaucoup trop d'attente au téléphone.",
                "Vingt minutes d'attente, inacceptable.",
            ),
            "mid": ("Attente un peu longue mais réponse correcte.",),
            "pos": ("Attente longue, mais conseiller très compétent.",),
        },
        "en": {
            "neg": ("Way too long on hold.", "Twenty minutes on hold, unacceptable."),
            "mid": ("The wait was a bit long but I got an answer.",),
            "pos": ("Long wait, but the agent was excellent.",),
        },
    },
    "delay": {
        "fr": {
            "neg": (
                "Livraison en retard de plusieurs jours, sans aucune nouvelle.",
                "Colis arrivé bien après la date promise.",
                "J'ai attendu ma commande une semaine de plus que prévu.",
            ),
            "mid": ("Un peu de retard à la livraison, mais le produit est bien.",),
            "pos": ("Léger retard de livraison, mais tout le reste était parfait.",),
        },
        "en": {
            "neg": (
                "Delivery was days late and nobody told me why.",
                "The parcel arrived well after the promised date.",
                "I waited a week longer than promised for my order.",
            ),
            "mid": ("Delivery was a bit late, but the product is fine.",),
            "pos": ("Slightly late delivery, but everything else was perfect.",),
        },
    },
    "return": {
        "fr": {
            "neg": ("Produit décevant, j'ai dû le renvoyer.", "La taille ne correspondait pas."),
            "mid": ("Retour un peu compliqué mais remboursé.",),
            "pos": ("Retour simple et remboursement rapide.",),
        },
        "en": {
            "neg": ("Disappointing product, I had to send it back.", "The size was all wrong."),
            "mid": ("Return was a bit of a hassle but I got refunded.",),
            "pos": ("Easy return and a quick refund.",),
        },
    },
    "smooth": {
        "fr": {
            "neg": ("Les prix sont trop élevés.", "Rien de spécial.", "Site un peu lent."),
            "mid": ("Correct, sans plus.", "Livraison dans les temps.", "Bon choix de produits."),
            "pos": (
                "Livraison rapide, produit conforme, parfait !",
                "Très bon accueil en magasin.",
                "Super, je recommande.",
                "Le reconditionné est comme neuf, et c'est mieux pour la planète.",
                "Commande très simple sur l'appli.",
            ),
        },
        "en": {
            "neg": ("Prices are too high.", "Nothing special.", "The website felt slow."),
            "mid": ("It was fine.", "Delivered on time.", "Good product selection."),
            "pos": (
                "Fast delivery, product as described, perfect!",
                "Great service in the store.",
                "Love it, would recommend.",
                "The refurbished phone looks brand new and it's better for the planet.",
                "Ordering on the app was super easy.",
            ),
        },
    },
}


def _luhn_card(rng: random.Random) -> str:
    digits = [4, 9, 7, 0, *(rng.randrange(10) for _ in range(11))]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def comment(
    survey: str, value: int, friction: Friction, lang: str, phone: str, rng: random.Random
) -> str | None:
    """A free-text comment in `lang`, or None (most respondents leave none).

    About 3 % of comments contain personal data (a phone number, a card number), as real
    verbatims do, for the redaction at ingestion to remove.
    """
    if rng.random() > 0.45:
        return None
    topic = friction.topic() or "smooth"
    text = rng.choice(_COMMENTS[topic][lang][_band(survey, value)])
    if rng.random() < 0.03:
        if topic == "payment":
            text += (" Carte " if lang == "fr" else " Card ") + _luhn_card(rng) + "."
        else:
            text += (" Rappelez-moi au " if lang == "fr" else " Call me back at ") + phone + "."
    return text
