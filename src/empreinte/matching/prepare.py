"""Records made comparable before probabilistic matching: which columns, and how normalised.

A CRM or store file names its columns its own way and writes the same value many ways ("Jean-
Pierre" / "jean pierre", "06 12 34 56 78" / "+33612345678", "1984-03-07" / "07/03/1984"). This
module finds the columns of the fields a match needs and normalises their values, so that the
Splink model compares like with like. It does no scoring.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import phonenumbers
import pyarrow as pa

from empreinte.errors import ImportFailed, MissingColumns
from empreinte.profiles.values import birth, cell_text

# The fields a match can use, in the order they are shown.
FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "postcode",
    "city",
    "address",
)
# A match always compares names; the other fields are used when present.
NAME_FIELDS: tuple[str, ...] = ("first_name", "last_name")

# Column names commonly used for each field in CRM and store exports (compared without case,
# spaces, dashes or underscores). The field's own name is always tried first.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "first_name": ("firstname", "given_name", "givenname", "forename", "prenom", "prénom"),
    "last_name": ("lastname", "surname", "family_name", "familyname", "nom", "nom_de_famille"),
    "birth_date": (
        "birthdate",
        "date_of_birth",
        "dob",
        "birthday",
        "birth_year",
        "year_of_birth",
        "date_de_naissance",
        "annee_de_naissance",
    ),
    "email": ("e_mail", "mail", "email_address", "courriel"),
    "phone": ("telephone", "téléphone", "tel", "mobile", "phone_number", "portable"),
    "postcode": ("postal_code", "post_code", "zip", "zipcode", "zip_code", "code_postal", "cp"),
    "city": ("town", "ville", "suburb", "locality", "commune"),
    "address": ("street", "street_address", "address_1", "address1", "adresse", "line1"),
}

# Nicknames and short forms → the full first name, so that "Bob" meets "Robert". English and
# French; a value not listed is its own key. Keys and values are normalised (see `name`).
NICKNAMES: Mapping[str, str] = {
    **dict.fromkeys(("bob", "rob", "robbie", "bobby"), "robert"),
    **dict.fromkeys(("bill", "will", "willy", "billy", "liam"), "william"),
    **dict.fromkeys(("jim", "jimmy", "jamie"), "james"),
    **dict.fromkeys(("mike", "mikey", "mick"), "michael"),
    **dict.fromkeys(("chris", "kit"), "christopher"),
    **dict.fromkeys(("dave", "davy"), "david"),
    **dict.fromkeys(("dan", "danny"), "daniel"),
    **dict.fromkeys(("jen", "jenny", "jenn"), "jennifer"),
    **dict.fromkeys(("jess", "jessie"), "jessica"),
    **dict.fromkeys(("matt", "matty"), "matthew"),
    **dict.fromkeys(("josh",), "joshua"),
    **dict.fromkeys(("tom", "tommy"), "thomas"),
    **dict.fromkeys(("rick", "rich", "dick", "ricky"), "richard"),
    **dict.fromkeys(("pat", "patty", "trish"), "patricia"),
    **dict.fromkeys(("sue", "susie", "suzy"), "susan"),
    **dict.fromkeys(("chuck", "charlie"), "charles"),
    **dict.fromkeys(("ron", "ronnie"), "ronald"),
    **dict.fromkeys(("larry",), "lawrence"),
    **dict.fromkeys(("liz", "beth", "betty", "lizzie", "eliza"), "elizabeth"),
    **dict.fromkeys(("kate", "katie", "kathy", "cathy"), "katherine"),
    **dict.fromkeys(("debbie", "deb", "debra"), "deborah"),
    **dict.fromkeys(("barb", "barbie"), "barbara"),
    **dict.fromkeys(("mandy",), "amanda"),
    **dict.fromkeys(("ash",), "ashley"),
    **dict.fromkeys(("missy", "mel"), "melissa"),
    **dict.fromkeys(("shelly", "michele"), "michelle"),
    **dict.fromkeys(("kev",), "kevin"),
    **dict.fromkeys(("johnny", "jack", "jon"), "john"),
    **dict.fromkeys(("steve", "stevie"), "steven"),
    **dict.fromkeys(("tony",), "anthony"),
    **dict.fromkeys(("nick", "nico"), "nicolas"),
    **dict.fromkeys(("seb",), "sebastien"),
    **dict.fromkeys(("steph", "stef"), "stephanie"),
    **dict.fromkeys(("fred", "freddy"), "frederic"),
    **dict.fromkeys(("val",), "valerie"),
    **dict.fromkeys(("manu",), "emmanuel"),
    **dict.fromkeys(("isa", "babeth"), "isabelle"),
    **dict.fromkeys(("nath",), "nathalie"),
    **dict.fromkeys(("sandy",), "sandrine"),
    **dict.fromkeys(("max",), "maxime"),
    **dict.fromkeys(("alex",), "alexandre"),
    **dict.fromkeys(("gab", "gabi"), "gabriel"),
    **dict.fromkeys(("jo", "jojo"), "josephine"),
    **dict.fromkeys(("dom",), "dominique"),
    **dict.fromkeys(("pierrot",), "pierre"),
    **dict.fromkeys(("jeannot",), "jean"),
    **dict.fromkeys(("mimi",), "michele"),
    **dict.fromkeys(("lolo",), "laurent"),
    **dict.fromkeys(("ju", "juju"), "julien"),
}

_SPACES = re.compile(r"\s+")
_NOT_NAME = re.compile(r"[^a-z ]")
_NOT_ALNUM = re.compile(r"[^a-z0-9 ]")
_DIGITS = re.compile(r"\D")


def _key(column: str) -> str:
    return re.sub(r"[\s\-_]", "", column.strip().lower())


# Names the prepared table and Splink use for their own columns: an extra column may not take
# one of them (it is renamed `x_<name>`).
_RESERVED = frozenset(
    {
        *FIELDS,
        "unique_id",
        "first_name_key",
        "birth_year",
        "source_dataset",
        "name",
        "match_weight",
        "match_probability",
        "cluster_id",
    }
)


@dataclass(frozen=True)
class ExtraColumn:
    """A column of the file the user declared for matching, beyond the known fields.

    - kind "identifier": an id of the person (social security, account or member number): the
      same value is strong evidence, one typo apart is some, another value is evidence against;
      records with the same value are always compared (a blocking rule).
    - kind "compare": any other attribute (street number, state, gender): compared as text
      (exact, term-frequency adjusted; Jaro-Winkler ≥ 0.9; else).

    `column` is its name in the file (and in the reference records, in a link); `name` its name
    in the model and in the comparison detail of a pair.
    """

    column: str
    name: str
    kind: Literal["identifier", "compare"]


def extra_columns(identifiers: Sequence[str], compare: Sequence[str]) -> tuple[ExtraColumn, ...]:
    """The declared extra columns, named for the model; `ImportFailed` for a column declared
    twice, empty, or that is a known field (compared already, see `FIELDS`)."""
    out: list[ExtraColumn] = []
    seen: set[str] = set()
    names: set[str] = set()
    declared: list[tuple[str, Literal["identifier", "compare"]]] = [
        *((c, "identifier") for c in identifiers),
        *((c, "compare") for c in compare),
    ]
    for column, kind in declared:
        if not isinstance(column, str) or not column.strip():
            raise ImportFailed(f"an extra {kind} column must be a column name, not {column!r}")
        column = column.strip()
        if column in seen:
            raise ImportFailed(f"column {column!r} is declared twice for matching")
        seen.add(column)
        if _key(column) in {_key(f) for f in FIELDS}:
            raise ImportFailed(
                f"column {column!r} is the known field {_key(column)}: it is compared already "
                "(use `columns` to say which column holds it)"
            )
        name = re.sub(r"[^a-z0-9]+", "_", _fold(column)).strip("_") or "column"
        if name in _RESERVED or name[0].isdigit():
            name = f"x_{name}"
        while name in names:
            name += "_"
        names.add(name)
        out.append(ExtraColumn(column, name, kind))
    return tuple(out)


def find_column(header: Sequence[str], field: str, mapping: Mapping[str, str]) -> str | None:
    """The column of `header` holding `field`: the one `mapping` names, else the field's own
    name or a common alias (ignoring case, spaces, dashes and underscores); None if absent."""
    explicit = mapping.get(field)
    if explicit is not None:
        return explicit if explicit in header else None
    by_key = {_key(c): c for c in header}
    for candidate in (field, *ALIASES.get(field, ())):
        if (column := by_key.get(_key(candidate))) is not None:
            return column
    return None


def resolve_columns(
    header: Sequence[str],
    fields: Sequence[str] | None,
    mapping: Mapping[str, str],
    id_column: str,
    what: str,
    extras: Sequence[ExtraColumn] = (),
) -> dict[str, str]:
    """The column of `header` that holds each field, refusing a table that lacks any.

    `fields` are the fields the caller asks for (all required), or None for every known field
    found (names required). A field named in `mapping` must be there, and so must every
    declared extra column. Raises `MissingColumns`, naming every missing column at once,
    before any work is done; `ImportFailed` for an extra column that is the column of a field.
    """
    wanted = list(fields) if fields is not None else list(FIELDS)
    unknown = [f for f in [*wanted, *mapping] if f not in FIELDS]
    if unknown:
        raise ImportFailed(
            f"unknown match field(s) {', '.join(unknown)}; choose among {', '.join(FIELDS)}"
        )
    required = set(wanted) if fields is not None else {*NAME_FIELDS, *mapping}
    found: dict[str, str] = {}
    missing: list[str] = [] if id_column in header else [id_column]
    for field in wanted:
        column = find_column(header, field, mapping)
        if column is not None:
            found[field] = column
        elif field in required:
            missing.append(mapping.get(field, field))
    missing += [e.column for e in extras if e.column not in header]
    taken = {c: f for f, c in found.items()}
    for extra in extras:
        if extra.column in taken:
            raise ImportFailed(
                f"{what}: column {extra.column!r} holds the field {taken[extra.column]}, "
                "compared already; declare only other columns as extra"
            )
    if missing:
        raise MissingColumns(
            f"{what} has no column(s) {', '.join(missing)} needed for matching; "
            f"its columns are: {', '.join(header) or '(none)'}",
            missing,
        )
    return found


# -- value normalisation --------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    """Lower case, accents removed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name(value: Any) -> str | None:
    """A personal name lower-cased, without accents, hyphens or punctuation: 'jean pierre'."""
    text = cell_text(value)
    if text is None:
        return None
    folded = _NOT_NAME.sub(" ", _fold(text).replace("'", ""))
    return _SPACES.sub(" ", folded).strip() or None


def name_key(first_name: str | None) -> str | None:
    """The full form of a (normalised) first name: 'bob' → 'robert'."""
    if first_name is None:
        return None
    return NICKNAMES.get(first_name, first_name)


def place(value: Any) -> str | None:
    """A city or street: lower case, no accents or punctuation, single spaces."""
    text = cell_text(value)
    if text is None:
        return None
    folded = _NOT_ALNUM.sub(" ", _fold(text))
    return _SPACES.sub(" ", folded).strip() or None


def postcode(value: Any) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    return re.sub(r"[\s\-]", "", text).upper() or None


def identifier(value: Any) -> str | None:
    """An id as people write it: upper case, without spaces, dashes, dots or slashes."""
    text = cell_text(value)
    if text is None:
        return None
    return re.sub(r"[\s\-_./]", "", text).upper() or None


def email(value: Any) -> str | None:
    text = cell_text(value)
    return text.replace(" ", "").lower() if text else None


@lru_cache(maxsize=262_144)
def _phone(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = _DIGITS.sub("", text)
    return digits if len(digits) >= 6 else None


def phone(value: Any, region: str) -> str | None:
    """E.164 when the number is valid (read in `region` unless it starts with +), else its
    digits; None for fewer than six digits."""
    text = cell_text(value)
    return _phone(text, region) if text else None


# -- tables ---------------------------------------------------------------------------------


def to_arrow(records: Any, what: str) -> pa.Table:
    """A pyarrow Table from a pyarrow Table, a pandas DataFrame or a sequence of mappings."""
    if isinstance(records, pa.Table):
        return records
    if type(records).__module__.startswith("pandas") and hasattr(records, "columns"):
        frame = records.reset_index(drop=True)
        return pa.Table.from_pydict(
            {str(c): [cell_text(v) for v in frame[c].tolist()] for c in frame.columns}
        )
    if isinstance(records, Iterable) and not isinstance(records, str | bytes | Mapping):
        rows = list(records)
        if all(isinstance(r, Mapping) for r in rows):
            header: dict[str, None] = {}
            for row in rows:
                header.update(dict.fromkeys(str(k) for k in row))
            return pa.Table.from_pydict({c: [cell_text(r.get(c)) for r in rows] for c in header})
    raise ImportFailed(
        f"{what}: expected a pyarrow Table, a pandas DataFrame or a list of dicts, "
        f"not {type(records).__name__}"
    )


def prepare(
    table: pa.Table,
    columns: Mapping[str, str],
    id_column: str,
    what: str,
    *,
    region: str,
    day_first: bool = True,
    extras: Sequence[ExtraColumn] = (),
) -> pa.Table:
    """The comparable table: `unique_id` plus the normalised fields found in `columns`, the
    derived columns the comparisons use (`first_name_key`, `birth_year`), and the `extras`
    (identifiers normalised as ids, other columns as places), under their model names."""
    ids = [cell_text(v) for v in table.column(id_column).to_pylist()]
    empty = [i for i, v in enumerate(ids) if v is None]
    if empty:
        raise ImportFailed(
            f"{what}: {len(empty)} record(s) have no {id_column} (first at row {empty[0] + 1})"
        )
    counts = Counter(ids)
    repeated = [i for i, n in counts.items() if n > 1]
    if repeated:
        raise ImportFailed(
            f"{what}: {id_column} must be unique; repeated: {', '.join(map(str, repeated[:5]))}"
            + (" …" if len(repeated) > 5 else "")
        )
    out: dict[str, list[Any]] = {"unique_id": ids}
    values = {f: table.column(c).to_pylist() for f, c in columns.items()}
    if "first_name" in values:
        out["first_name"] = [name(v) for v in values["first_name"]]
        out["first_name_key"] = [name_key(v) for v in out["first_name"]]
    if "last_name" in values:
        out["last_name"] = [name(v) for v in values["last_name"]]
    if "birth_date" in values:
        parsed = [birth(v, day_first) for v in values["birth_date"]]
        out["birth_date"] = [d for d, _ in parsed]
        out["birth_year"] = [y for _, y in parsed]
    if "email" in values:
        out["email"] = [email(v) for v in values["email"]]
    if "phone" in values:
        out["phone"] = [phone(v, region) for v in values["phone"]]
    if "postcode" in values:
        out["postcode"] = [postcode(v) for v in values["postcode"]]
    for field in ("city", "address"):
        if field in values:
            out[field] = [place(v) for v in values[field]]
    for extra in extras:
        normalise = identifier if extra.kind == "identifier" else place
        out[extra.name] = [normalise(v) for v in table.column(extra.column).to_pylist()]
    types = {"birth_year": pa.int32()}
    return pa.Table.from_pydict({c: pa.array(v, types.get(c, pa.string())) for c, v in out.items()})
