"""Demo customers: who they are (the ground truth) and the devices they use.

A `Person` is the truth that identity resolution must rediscover: each carries the ids that
appear in the events (login id, loyalty card, cookie and device ids). Each person is built from
a generator seeded by (seed, index) alone, so person 734 is the same whatever `n` is, and a
million people can be streamed or built in parallel.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from empreinte.demo.personas import GENERATIONS, PERSONAS, Persona
from empreinte.demo.sampling import Weighted, weighted_index


@dataclass(frozen=True)
class Person:
    """One demo customer, as the brand would know them if it knew everything."""

    person_id: str
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164, matching the country
    country: str  # "FR" | "US"
    city: str
    birth_year: int
    persona: str
    user_id: str | None  # login id of the online account, if they have (or open) one
    loyalty_card: str | None
    anonymous_ids: tuple[str, ...]  # cookie / app-install ids, used before logging in
    device_ids: tuple[str, ...]  # ids of the phones and tablets running the app


# Names by country and by era of birth, so that a boomer is not called Kylian.
_FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "FR": (
        (
            "Marie",
            "Monique",
            "Françoise",
            "Martine",
            "Nicole",
            "Jacqueline",
            "Danielle",
            "Michèle",
            "Jean",
            "Michel",
            "Alain",
            "Bernard",
            "Gérard",
            "Jacques",
            "Daniel",
            "Pierre",
            "Patrick",
            "Annie",
            "Christian",
            "Sylvie",
        ),
        (
            "Nathalie",
            "Isabelle",
            "Sandrine",
            "Sophie",
            "Céline",
            "Valérie",
            "Stéphanie",
            "Aurélie",
            "Christophe",
            "Stéphane",
            "Laurent",
            "Sébastien",
            "Nicolas",
            "Julien",
            "Olivier",
            "Frédéric",
            "David",
            "Émilie",
            "Karim",
            "Virginie",
        ),
        (
            "Camille",
            "Léa",
            "Manon",
            "Chloé",
            "Emma",
            "Inès",
            "Jade",
            "Louise",
            "Lucas",
            "Hugo",
            "Louis",
            "Gabriel",
            "Arthur",
            "Jules",
            "Nathan",
            "Théo",
            "Enzo",
            "Raphaël",
            "Yanis",
            "Lina",
        ),
    ),
    "US": (
        (
            "Mary",
            "Linda",
            "Barbara",
            "Patricia",
            "Susan",
            "Carol",
            "Nancy",
            "Donna",
            "James",
            "Robert",
            "John",
            "William",
            "Richard",
            "Charles",
            "Thomas",
            "Gary",
            "Larry",
            "Deborah",
            "Ronald",
            "Karen",
        ),
        (
            "Jennifer",
            "Jessica",
            "Amanda",
            "Ashley",
            "Sarah",
            "Melissa",
            "Michelle",
            "Lisa",
            "Michael",
            "Christopher",
            "Matthew",
            "Joshua",
            "David",
            "Daniel",
            "Jason",
            "Brian",
            "Kevin",
            "Maria",
            "Jose",
            "Angela",
        ),
        (
            "Emma",
            "Olivia",
            "Ava",
            "Sophia",
            "Isabella",
            "Mia",
            "Madison",
            "Emily",
            "Chloe",
            "Liam",
            "Noah",
            "Ethan",
            "Mason",
            "Logan",
            "Jacob",
            "Aiden",
            "Jayden",
            "Tyler",
            "Sofia",
            "Mateo",
        ),
    ),
}
_LAST_NAMES: dict[str, tuple[str, ...]] = {
    "FR": (
        "Martin",
        "Bernard",
        "Thomas",
        "Petit",
        "Robert",
        "Richard",
        "Durand",
        "Dubois",
        "Moreau",
        "Laurent",
        "Simon",
        "Michel",
        "Lefebvre",
        "Leroy",
        "Roux",
        "David",
        "Bertrand",
        "Morel",
        "Fournier",
        "Girard",
        "Bonnet",
        "Dupont",
        "Lambert",
        "Fontaine",
        "Rousseau",
        "Vincent",
        "Muller",
        "Lefèvre",
        "Faure",
        "André",
        "Mercier",
        "Blanc",
        "Guérin",
        "Boyer",
        "Garnier",
        "Chevalier",
        "François",
        "Legrand",
        "Gauthier",
        "Garcia",
        "Perrin",
        "Robin",
        "Clément",
        "Morin",
        "Nicolas",
        "Henry",
        "Roussel",
        "Mathieu",
        "Masson",
        "Nguyen",
        "Benali",
        "Haddad",
        "Da Silva",
        "Le Gall",
    ),
    "US": (
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Hernandez",
        "Lopez",
        "Gonzalez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Lee",
        "Perez",
        "Thompson",
        "White",
        "Harris",
        "Sanchez",
        "Clark",
        "Ramirez",
        "Lewis",
        "Robinson",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Torres",
        "Nguyen",
        "Hill",
        "Flores",
        "Green",
        "Adams",
        "Nelson",
        "Baker",
        "Hall",
        "Rivera",
        "Campbell",
        "Mitchell",
        "Carter",
        "Roberts",
        "Kim",
        "Patel",
        "Chen",
        "O'Brien",
    ),
}
_EMAIL_DOMAINS: dict[str, Weighted] = {
    "FR": Weighted(
        (
            ("gmail.com", 40),
            ("orange.fr", 15),
            ("free.fr", 10),
            ("hotmail.fr", 10),
            ("yahoo.fr", 6),
            ("laposte.net", 6),
            ("sfr.fr", 5),
            ("outlook.fr", 5),
            ("icloud.com", 3),
        )
    ),
    "US": Weighted(
        (
            ("gmail.com", 45),
            ("yahoo.com", 15),
            ("outlook.com", 10),
            ("hotmail.com", 8),
            ("icloud.com", 10),
            ("aol.com", 5),
            ("comcast.net", 4),
            ("proton.me", 3),
        )
    ),
}


@dataclass(frozen=True)
class City:
    """A city where the brand has shops; `area_codes` only for the US."""

    name: str
    weight: float
    code: str
    stores: int
    utc_offset: int  # hours; standard time, daylight saving ignored
    area_codes: tuple[str, ...] = ()


CITIES: dict[str, tuple[City, ...]] = {
    "FR": (
        City("Paris", 30, "PAR", 3, 1),
        City("Lyon", 10, "LYS", 2, 1),
        City("Marseille", 9, "MRS", 2, 1),
        City("Toulouse", 7, "TLS", 1, 1),
        City("Bordeaux", 7, "BOD", 1, 1),
        City("Lille", 7, "LIL", 1, 1),
        City("Nantes", 6, "NTE", 1, 1),
        City("Nice", 5, "NCE", 1, 1),
        City("Strasbourg", 5, "SXB", 1, 1),
        City("Montpellier", 5, "MPL", 1, 1),
        City("Rennes", 5, "RNS", 1, 1),
        City("Grenoble", 4, "GNB", 1, 1),
    ),
    "US": (
        City("New York", 20, "NYC", 3, -5, ("212", "718", "917", "646")),
        City("Los Angeles", 14, "LAX", 2, -8, ("213", "310", "323", "818")),
        City("Chicago", 10, "CHI", 2, -6, ("312", "773", "872")),
        City("Houston", 8, "HOU", 1, -6, ("713", "832", "281")),
        City("Dallas", 6, "DFW", 1, -6, ("214", "469", "972")),
        City("San Francisco", 6, "SFO", 1, -8, ("415", "628")),
        City("Seattle", 6, "SEA", 1, -8, ("206", "425")),
        City("Boston", 6, "BOS", 1, -5, ("617", "857")),
        City("Phoenix", 5, "PHX", 1, -7, ("602", "480")),
        City("Philadelphia", 5, "PHL", 1, -5, ("215", "267")),
        City("Atlanta", 5, "ATL", 1, -5, ("404", "678")),
        City("Denver", 5, "DEN", 1, -7, ("303", "720")),
        City("Miami", 5, "MIA", 1, -5, ("305", "786")),
        City("San Diego", 4, "SAN", 1, -8, ("619", "858")),
    ),
}

_DESKTOP_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
)
_MOBILE_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
)
# (os name, os version, manufacturer, model, device type) of app installs.
_PHONES = (
    ("iOS", "18.1", "Apple", "iPhone15,2", "ios"),
    ("iOS", "17.6", "Apple", "iPhone14,5", "ios"),
    ("iOS", "18.0", "Apple", "iPhone16,1", "ios"),
    ("Android", "14", "samsung", "SM-S921B", "android"),
    ("Android", "14", "Google", "Pixel 8", "android"),
    ("Android", "13", "Xiaomi", "23049RAD8C", "android"),
    ("Android", "13", "samsung", "SM-A546B", "android"),
)
_TABLETS = (
    ("iPadOS", "17.6", "Apple", "iPad13,18", "ios"),
    ("Android", "13", "samsung", "SM-X710", "android"),
)

_COMPANIES = (
    ("Atelier Lumière", "design", 12),
    ("Boulangerie Martin", "food", 8),
    ("Cabinet Dupont & Associés", "legal", 25),
    ("Nova Robotics", "technology", 60),
    ("Green Leaf Studio", "marketing", 15),
    ("Harbor Dental", "health", 20),
    ("Summit Builders", "construction", 45),
    ("Pixel & Co", "technology", 9),
)


@dataclass
class Device:
    """A browser or an app install. `login_ms` is simulation state: when the person first
    logged in on it (events from then on carry their userId)."""

    kind: str  # "web" | "app"
    anonymous_id: str
    user_agent: str = ""
    device_id: str = ""
    device_type: str = ""  # "ios" | "android" for apps
    os: tuple[str, str] = ("", "")
    manufacturer: str = ""
    model: str = ""
    shared: bool = False
    login_ms: int | None = None


@dataclass
class Profile:
    """A person plus what the simulator needs and the Person does not expose."""

    person: Person
    index: int
    persona: Persona
    city: City
    locale: str
    lang: str  # "fr" | "en"
    store_ids: tuple[str, ...]
    birthday: str
    email_typed: str  # the email as typed at a till or on the phone (differs for ~2 %)
    browsers: list[Device]
    apps: list[Device]
    company: tuple[str, str, str, int] | None  # (group id, name, industry, employees)
    family_size: int = 1  # > 1 when a family tablet is shared


def person_rng(seed: int, index: int) -> random.Random:
    """The random generator of person `index`, independent of every other person."""
    return random.Random(seed * 1_000_003 + index)


def _household_rng(seed: int, household: int) -> random.Random:
    # Offset by 2**64 so that household streams never coincide with person streams.
    return random.Random((1 << 64) + seed * 1_000_003 + household)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))


def _scramble(index: int, seed: int, modulus: int) -> int:
    """A bijection of [0, modulus): distinct people get distinct phone numbers and emails,
    without the numbers giving away the person's index."""
    return (index * 48_271 + seed * 7_919) % modulus


def _phone(rng: random.Random, index: int, seed: int, city: City) -> str:
    if not city.area_codes:
        return f"+336{_scramble(index, seed, 10**8):08d}"
    local = _scramble(index, seed, 8_000_000)
    return f"+1{rng.choice(city.area_codes)}{200 + local // 10_000}{local % 10_000:04d}"


def _email(rng: random.Random, first: str, last: str, index: int, seed: int, country: str) -> str:
    f, lastname = _ascii(first).lower(), _ascii(last).lower().replace("-", "")
    # The number ends the local part and is unique per person, so no two people share an
    # email (identity resolution would rightly merge them).
    number = _scramble(index, seed, 10**7) + (index // 10**7) * 10**7
    pattern = rng.randrange(4)
    local = (
        f"{f}.{lastname}{number}",
        f"{f[0]}{lastname}{number}",
        f"{f}_{lastname}{number}",
        f"{f}{lastname[0]}{number}",
    )[pattern]
    return f"{local}@{_EMAIL_DOMAINS[country].draw(rng)}"


def _email_typo(rng: random.Random, email: str) -> str:
    """The same address typed differently: capitals or stray spaces, never another mailbox."""
    local, domain = email.split("@")
    if rng.random() < 0.5:
        return f"{local.capitalize()}@{domain.capitalize()}"
    return f" {email} " if rng.random() < 0.5 else email.upper()


def _web_device(rng: random.Random, mobile: bool) -> Device:
    agents = _MOBILE_AGENTS if mobile else _DESKTOP_AGENTS
    return Device("web", _uuid(rng), user_agent=rng.choice(agents))


def _app_device(rng: random.Random, hardware: tuple[str, str, str, str, str]) -> Device:
    os_name, os_version, maker, model, kind = hardware
    device_id = _uuid(rng).upper() if kind == "ios" else f"{rng.getrandbits(64):016x}"
    return Device(
        "app",
        _uuid(rng),
        device_id=device_id,
        device_type=kind,
        os=(os_name, os_version),
        manufacturer=maker,
        model=model,
    )


def _family(seed: int, index: int) -> tuple[random.Random, int] | None:
    """The family of `index` when it shares a tablet: about 5 % of households of four
    consecutive people share one between 2 to 4 of them."""
    household, rank = divmod(index, 4)
    hh = _household_rng(seed, household)
    if hh.random() >= 0.05:
        return None
    size = hh.randint(2, 4)
    return (hh, size) if rank < size else None


def make_profile(index: int, seed: int) -> tuple[Profile, random.Random]:
    """Person `index` of the population of `seed`, and their generator (to go on simulating)."""
    rng = person_rng(seed, index)
    persona = PERSONAS[weighted_index(rng, tuple(p.weight for p in PERSONAS))]
    family = _family(seed, index)
    # A family shares country, city and last name; the household stream decides them.
    place_rng = family[0] if family else rng
    fr_share = 0.6 if family else persona.fr_share
    country = "FR" if place_rng.random() < fr_share else "US"
    cities = CITIES[country]
    city = cities[weighted_index(place_rng, tuple(c.weight for c in cities))]
    last = place_rng.choice(_LAST_NAMES[country])
    _, lo, hi = GENERATIONS[weighted_index(rng, persona.generations)]
    birth_year = rng.randint(lo, hi)
    era = 0 if birth_year < 1965 else 1 if birth_year < 1990 else 2
    first = rng.choice(_FIRST_NAMES[country][era])
    email = _email(rng, first, last, index, seed, country)
    phone = _phone(rng, index, seed, city)
    user_id = f"u{rng.getrandbits(48):012x}" if rng.random() < persona.registered else None
    card = f"29{rng.getrandbits(40):013d}" if rng.random() < persona.loyalty_card else None
    browsers = [
        _web_device(rng, rng.random() < persona.mobile_web)
        for _ in range(1 + weighted_index(rng, persona.browsers))
    ]
    apps = [_app_device(rng, rng.choice(_PHONES))] if rng.random() < persona.app_user else []
    if family:
        # Every member rebuilds the same tablet from the household stream.
        apps.append(_app_device(family[0], family[0].choice(_TABLETS)))
        apps[-1].shared = True
    company = None
    if user_id and rng.random() < 0.03:
        name, industry, employees = rng.choice(_COMPANIES)
        company = (f"org-{rng.getrandbits(32):08x}", name, industry, employees)
    email_typed = _email_typo(rng, email) if rng.random() < 0.02 else email
    birthday = f"{birth_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    person = Person(
        person_id=f"person-{index:07d}",
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        country=country,
        city=city.name,
        birth_year=birth_year,
        persona=persona.name,
        user_id=user_id,
        loyalty_card=card,
        anonymous_ids=tuple(d.anonymous_id for d in (*browsers, *apps)),
        device_ids=tuple(d.device_id for d in apps),
    )
    stores = tuple(f"{country}-{city.code}-{k:02d}" for k in range(1, city.stores + 1))
    profile = Profile(
        person=person,
        index=index,
        persona=persona,
        city=city,
        locale="fr-FR" if country == "FR" else "en-US",
        lang="fr" if country == "FR" else "en",
        store_ids=stores,
        birthday=birthday,
        email_typed=email_typed,
        browsers=browsers,
        apps=apps,
        company=company,
        family_size=family[1] if family else 1,
    )
    return profile, rng


def people(n: int, seed: int = 7) -> Iterator[Person]:
    """Stream the first `n` demo customers of `seed`, lazily and deterministically."""
    for index in range(n):
        yield make_profile(index, seed)[0].person
