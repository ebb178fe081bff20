"""The brand's marketing calendar: e-mail, SMS and push campaigns over the simulated months.

Campaigns are the same for everyone (one calendar per seed); whether a person receives one
depends on their consent at that moment, and whether they react on their persona.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from empreinte.demo.clock import DAY_MS, add_months, to_ms

# (French subject, English subject, featured category) per calendar month.
_THEMES: tuple[tuple[str, str, str], ...] = (
    ("Les soldes d'hiver commencent", "Winter sale starts now", "fashion"),
    ("Idées cadeaux Saint-Valentin", "Valentine's Day gift ideas", "audio"),
    ("Le printemps du reconditionné", "Spring refurbished week", "phones"),
    ("Chasse aux œufs : jouets à petits prix", "Easter deals on toys", "toys"),
    ("Fête des mères : nos coups de cœur", "Mother's Day favourites", "home"),
    ("Fête des pères : le son à l'honneur", "Father's Day: great sound", "audio"),
    ("Soldes d'été : jusqu'à -50 %", "Summer sale: up to 50% off", "fashion"),
    ("Préparez la rentrée", "Get ready for back to school", "laptops"),
    ("Rentrée : tablettes et accessoires", "Back to school: tablets and accessories", "tablets"),
    ("Nouveautés gaming de l'automne", "Fall gaming releases", "gaming"),
    ("Black Friday : c'est parti", "Black Friday is here", "phones"),
    ("Noël : les cadeaux qui font plaisir", "Holiday gifts they'll love", "toys"),
)
_NEWSLETTER = ("Nos nouveautés du mois", "New this month", "")


@dataclass(frozen=True)
class Campaign:
    """One send; `category` is the featured one ("" for the monthly newsletter)."""

    campaign_id: str
    day_ms: int  # midnight UTC of the send day
    subject_fr: str
    subject_en: str
    category: str
    sms: bool  # also sent by SMS (push notifications go with every campaign)


def calendar(seed: int, start: datetime, months: int) -> tuple[Campaign, ...]:
    """Two campaigns a month: a seasonal one early in the month, a newsletter mid-month."""
    rng = random.Random(seed * 1_000_003 + 7_777_777)
    campaigns = []
    for m in range(months):
        first = add_months(start, m).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        theme = _THEMES[first.month - 1]
        for k, (fr, en, category) in enumerate((theme, _NEWSLETTER)):
            day = rng.randint(2, 8) if k == 0 else rng.randint(14, 22)
            campaigns.append(
                Campaign(
                    campaign_id=f"cmp-{first:%Y%m}-{k + 1}",
                    day_ms=to_ms(first) + (day - 1) * DAY_MS,
                    subject_fr=fr,
                    subject_en=en,
                    category=category,
                    sms=k == 0,
                )
            )
    return tuple(campaigns)
