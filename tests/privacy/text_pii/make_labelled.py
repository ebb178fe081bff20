"""Builds labelled.jsonl: French and English sentences, call-centre style, written and spoken,
with planted personal data of every kind and its expected spans, and sentences without any
(order numbers, prices, dates, product codes that must survive). Seeded: run it again and the
file is the same.

    python tests/privacy/text_pii/make_labelled.py

Each line: {"id", "lang", "style": "written" | "spoken" | "none", "text",
"spans": [{"kind", "start", "end"}]}. Every card, IBAN, NIR and phone number is valid (Luhn,
mod 97, key, `phonenumbers`), so a miss is the redactor's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import phonenumbers

SEED = 16
OUT = Path(__file__).with_name("labelled.jsonl")
PER_KIND = 32  # sentences per kind, language and style

# -- numbers in words -------------------------------------------------------------------------

FR_UNITS = [
    "zéro",
    "un",
    "deux",
    "trois",
    "quatre",
    "cinq",
    "six",
    "sept",
    "huit",
    "neuf",
    "dix",
    "onze",
    "douze",
    "treize",
    "quatorze",
    "quinze",
    "seize",
]
FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
EN_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
EN_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy",
           8: "eighty", 9: "ninety"}  # fmt: skip


def fr_number(n: int) -> str:
    if n <= 16:
        return FR_UNITS[n]
    if n < 20:
        return "dix-" + FR_UNITS[n - 10]
    if n < 70:
        tens, unit = divmod(n, 10)
        if unit == 0:
            return FR_TENS[tens]
        return FR_TENS[tens] + (" et un" if unit == 1 else "-" + FR_UNITS[unit])
    if n < 80:
        return "soixante" + (" et onze" if n == 71 else "-" + fr_number(n - 60))
    if n == 80:
        return "quatre-vingts"
    return "quatre-vingt-" + fr_number(n - 80)


def en_number(n: int) -> str:
    if n < 20:
        return EN_UNITS[n]
    tens, unit = divmod(n, 10)
    return EN_TENS[tens] + ("" if unit == 0 else "-" + EN_UNITS[unit])


def say_digits(digits: str, lang: str, rng: random.Random) -> str:
    """Digits said one by one, in pairs, or mixed with written groups, with hesitations."""
    words: list[str] = []
    mode = rng.choice(["one", "pairs", "mixed"])
    i = 0
    while i < len(digits):
        if mode == "pairs" and i + 1 < len(digits):
            pair = digits[i : i + 2]
            if pair[0] == "0":
                words.append(_digit(pair[0], lang) + " " + _digit(pair[1], lang))
            else:
                words.append(fr_number(int(pair)) if lang == "fr" else en_number(int(pair)))
            i += 2
        elif mode == "mixed" and rng.random() < 0.3 and i + 4 <= len(digits):
            words.append(digits[i : i + 4])
            i += 4
        elif lang == "en" and i + 1 < len(digits) and digits[i] == digits[i + 1]:
            words.append("double " + _digit(digits[i], lang))
            i += 2
        else:
            words.append(_digit(digits[i], lang))
            i += 1
        if i < len(digits) and rng.random() < 0.08:
            words.append(rng.choice(["euh", "hum"] if lang == "fr" else ["uh", "um"]))
    sep = rng.choice([" ", ", "])
    return sep.join(words)


def _say_group(part: str) -> str:
    """A NIR's group said in French: "2A" as written, "006" as "zéro zéro six", "613" as
    "six treize", "85" as "quatre-vingt-cinq"."""
    if part in ("2A", "2B") or len(part) == 1:
        return part if part in ("2A", "2B") else FR_UNITS[int(part)]
    if len(part) == 3:
        return FR_UNITS[int(part[0])] + " " + _say_group(part[1:])
    if part[0] == "0":
        return "zéro " + FR_UNITS[int(part[1])]
    return fr_number(int(part))


def _digit(d: str, lang: str) -> str:
    if lang == "en" and d == "0":
        return "oh"
    return (FR_UNITS if lang == "fr" else EN_UNITS)[int(d)]


# -- values -----------------------------------------------------------------------------------


def luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        number = prefix + d
        total = 0
        for i, c in enumerate(reversed(number)):
            v = int(c) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return number
    raise AssertionError(prefix)


def card(rng: random.Random) -> tuple[str, list[int]]:
    kind = rng.random()
    if kind < 0.15:  # Amex, 4-6-5
        prefix = rng.choice(["34", "37"]) + "".join(rng.choice("0123456789") for _ in range(12))
        return luhn_complete(prefix), [4, 6, 5]
    first = rng.choice(["4", "4", "51", "53", "55", "2221", "6011"])
    prefix = first + "".join(rng.choice("0123456789") for _ in range(15 - len(first)))
    return luhn_complete(prefix), [4, 4, 4, 4]


def group(digits: str, widths: list[int], sep: str) -> str:
    out, i = [], 0
    for w in widths:
        out.append(digits[i : i + w])
        i += w
    return sep.join(out)


def iban(rng: random.Random) -> str:
    country, length = rng.choice([("FR", 27), ("FR", 27), ("DE", 22), ("ES", 24), ("GB", 22),
                                  ("BE", 16), ("IT", 27)])  # fmt: skip
    if country == "GB":
        bban = rng.choice(["NWBK", "BARC", "LOYD"]) + "".join(
            rng.choice("0123456789") for _ in range(14)
        )
    elif country == "IT":
        bban = rng.choice("ABCDEFGHIJ") + "".join(rng.choice("0123456789") for _ in range(22))
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def nir(rng: random.Random) -> str:
    sex = rng.choice("12")
    year = f"{rng.randint(30, 99):02d}" if rng.random() < 0.8 else f"{rng.randint(0, 9):02d}"
    month = f"{rng.randint(1, 12):02d}"
    dept = rng.choice(["75", "69", "13", "2A", "2B", "59", "33", "06", "44", "97"])
    commune = f"{rng.randint(1, 999):03d}"
    order = f"{rng.randint(1, 999):03d}"
    head = sex + year + month + dept + commune + order
    value = int(head.replace("2A", "19").replace("2B", "18"))
    return head + f"{97 - value % 97:02d}"


def phone(rng: random.Random, lang: str) -> str:
    while True:
        if lang == "fr":
            number = rng.choice(["06", "07", "01", "02", "04", "05", "09"]) + "".join(
                rng.choice("0123456789") for _ in range(8)
            )
            region = "FR"
        else:
            number = rng.choice(["07911", "07700", "07412", "0207", "0161"]) + "".join(
                rng.choice("0123456789") for _ in range(11 - len("07911"))
            )
            number = number[:11]
            region = "GB"
        if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
            return number


FIRST_FR = [
    "Jean",
    "Marie",
    "Sophie",
    "Nicolas",
    "Camille",
    "Julien",
    "Chloé",
    "Thomas",
    "Léa",
    "Antoine",
    "Manon",
    "Hugo",
    "Isabelle",
    "François",
    "Nathalie",
    "Karim",
    "Fatima",
    "Yasmine",
    "Mehdi",
    "Élodie",
]
LAST_FR = [
    "Dupont",
    "Martin",
    "Bernard",
    "Lefèvre",
    "Moreau",
    "Girard",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Garnier",
    "Chevalier",
    "Benali",
    "Nguyen",
    "Mercier",
    "Blanchard",
    "Guérin",
    "Faure",
    "Perrin",
    "Morel",
    "Leclerc",
]
FIRST_EN = [
    "John",
    "Sarah",
    "Michael",
    "Emily",
    "David",
    "Jessica",
    "James",
    "Olivia",
    "Daniel",
    "Hannah",
    "Robert",
    "Laura",
    "William",
    "Grace",
    "Thomas",
    "Chloe",
    "Matthew",
    "Amy",
    "Andrew",
    "Priya",
]
LAST_EN = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Patel",
]
STREETS_FR = ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue des Lilas",
              "place de la République", "chemin des Vignes", "allée des Tilleuls",
              "rue Jean Jaurès", "impasse du Moulin", "quai de la Loire", "avenue Foch",
              "rue du Général Leclerc"]  # fmt: skip
CITIES_FR = [("75002", "Paris"), ("69003", "Lyon"), ("13008", "Marseille"), ("31000",
             "Toulouse"), ("44000", "Nantes"), ("59800", "Lille"), ("33000", "Bordeaux"),
             ("67000", "Strasbourg")]  # fmt: skip
STREETS_EN = ["Baker Street", "Downing Street", "Evergreen Terrace", "Abbey Road",
              "Oxford Road", "Station Road", "Church Lane", "Victoria Avenue", "Mill Lane",
              "Park Drive", "Elm Grove", "Queen Street"]  # fmt: skip
CITIES_EN = [("London", "NW1 6XE"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 4DY"),
             ("Bristol", "BS1 5TR"), ("Springfield, IL", "62704")]  # fmt: skip
DOMAINS = [("gmail", "com"), ("orange", "fr"), ("free", "fr"), ("outlook", "com"),
           ("yahoo", "fr"), ("hotmail", "co.uk"), ("laposte", "net")]  # fmt: skip

# -- sentences --------------------------------------------------------------------------------

# (language, kind) -> carrier sentences, "{}" where the value goes.
CARRIERS: dict[tuple[str, str], list[str]] = {
    ("fr", "CARD"): ["Oui alors ma carte c'est le {}, elle expire fin d'année.",
                     "Le numéro de carte bancaire est {} voilà.", "euh c'est {}",
                     "Je vous donne ma carte : {}.", "ma carte visa {} s'il vous plaît"],
    ("en", "CARD"): ["Sure, my card number is {}, it expires next year.", "it's {}",
                     "The long number on the card is {} okay?", "Card: {}.",
                     "yeah so the number is {} thanks"],
    ("fr", "IBAN"): ["Mon IBAN est {} pour le remboursement.", "Voici le RIB : {}.",
                     "vous pouvez virer sur {} merci", "l'iban c'est {}"],
    ("en", "IBAN"): ["My IBAN is {} for the refund.", "Please wire it to {}.",
                     "the iban is {} thanks", "Bank details: {}."],
    ("fr", "NIR"): ["Mon numéro de sécurité sociale est le {}.", "numéro de sécu {} voilà",
                    "Alors mon numéro de sécu c'est {}, c'est pour la mutuelle."],
    ("en", "NIR"): ["My French social security number is {}.", "the NIR is {} I think"],
    ("fr", "PHONE"): ["Vous pouvez me rappeler au {} demain.", "mon portable c'est le {}",
                      "Rappelez-moi au {}, merci.", "le numéro c'est {} voilà"],
    ("en", "PHONE"): ["You can call me back on {} tomorrow.", "my mobile is {}",
                      "Call me on {}, thanks.", "the number is {} yeah"],
    ("fr", "EMAIL"): ["Mon adresse mail c'est {}.", "envoyez-le à {} s'il vous plaît",
                      "c'est {} mon mail"],
    ("en", "EMAIL"): ["My email is {}.", "send it to {} please", "it's {} my email address"],
    ("fr", "ADDRESS"): ["J'habite au {} depuis deux ans.", "Livrez au {} s'il vous plaît.",
                        "mon adresse c'est {} voilà", "Le colis devait arriver au {}."],
    ("en", "ADDRESS"): ["I live at {} now.", "Please deliver to {}.",
                        "my address is {} okay", "The parcel should have come to {}."],
    ("fr", "PERSON"): ["Bonjour, je m'appelle {}, j'appelle pour ma commande.",
                       "Oui c'est Madame {} à l'appareil.", "J'ai eu {} au téléphone hier.",
                       "mon nom c'est {} voilà", "ça s'écrit {}", "Monsieur {} a rappelé."],
    ("en", "PERSON"): ["Hi, my name is {}, I'm calling about my order.",
                       "Yes this is Mrs {} speaking.", "I spoke to {} yesterday.",
                       "my name's {} okay", "it's spelled {}", "Mr {} called back."],
}  # fmt: skip

NO_PII: dict[str, list[str]] = {
    "fr": ["Ma commande n° {order} n'est toujours pas arrivée.",
           "J'ai payé {price} euros le {date} et rien depuis.",
           "Le produit référence {code} est en rupture ?",
           "Mon colis {tracking} est bloqué depuis le {date}.",
           "Je voudrais retourner les {qty} articles de la commande {order}.",
           "Le livreur devait passer entre 14h et 18h, il est {time}.",
           "Vous m'avez facturé {price} € au lieu de {price2} €.",
           "La rue était bloquée, le livreur n'a pas pu passer à Lyon.",
           "J'ai reçu un code promo de {pct} % mais il ne marche pas.",
           "C'est la troisième fois que j'appelle cette semaine, ça fait {qty} jours.",
           "Le ticket {order} est ouvert depuis le {date}.",
           "euh oui voilà la facture fait {price} euros hum"],
    "en": ["My order number {order} still hasn't arrived.",
           "I paid {price} pounds on {date} and nothing since.",
           "Is product {code} out of stock?",
           "My parcel {tracking} has been stuck since {date}.",
           "I'd like to return the {qty} items from order {order}.",
           "The driver was meant to come between 2 and 6, it's {time} now.",
           "You charged me {price} instead of {price2}.",
           "The road was closed so the driver couldn't get to London.",
           "I got a {pct} percent discount code but it doesn't work.",
           "This is the third time I've called this week, it's been {qty} days.",
           "Ticket {order} has been open since {date}.",
           "uh yeah so the invoice was {price} um"],
}  # fmt: skip


def value(kind: str, lang: str, spoken: bool, rng: random.Random) -> tuple[str, list[tuple]]:
    """The surface form of one planted value and its parts' kinds and offsets within it."""
    if kind == "CARD":
        number, widths = card(rng)
        if spoken:
            text = say_digits(number, lang, rng)
        else:
            text = rng.choice([group(number, widths, " "), group(number, widths, "-"), number])
        if rng.random() < 0.3:  # the CVV after it
            cvv = f"{rng.randint(0, 999):03d}"
            said = say_digits(cvv, lang, rng) if spoken else cvv
            cue = rng.choice(["et le cryptogramme", "cryptogramme"] if lang == "fr" else
                             ["and the CVV is", "security code"])  # fmt: skip
            lead = f"{text}, {cue} "
            return lead + said, [("CARD", 0, len(text)), ("CARD", len(lead), len(lead) + len(said))]
        return text, [("CARD", 0, len(text))]
    if kind == "IBAN":
        number = iban(rng)
        text = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        text = rng.choice([text, text, number, text.lower()])
        return text, [("IBAN", 0, len(text))]
    if kind == "NIR":
        number = nir(rng)
        if spoken:
            parts = [number[0], number[1:3], number[3:5], number[5:7], number[7:10],
                     number[10:13], number[13:]]  # fmt: skip
            said = [_say_group(p) for p in parts]
            text = " ".join(s.strip() for s in said)
        else:
            text = rng.choice([
                " ".join([number[0], number[1:3], number[3:5], number[5:7], number[7:10],
                          number[10:13], number[13:]]),
                number,
            ])  # fmt: skip
        return text, [("NIR", 0, len(text))]
    if kind == "PHONE":
        number = phone(rng, lang)
        if spoken:
            text = say_digits(number, lang, rng)
        elif lang == "fr":
            pairs = [number[i : i + 2] for i in range(0, 10, 2)]
            text = rng.choice([" ".join(pairs), ".".join(pairs), number,
                               "+33 " + number[1] + " " + " ".join(pairs[1:])])  # fmt: skip
        else:
            text = rng.choice([number[:5] + " " + number[5:], number,
                               "+44 " + number[1:5] + " " + number[5:]])  # fmt: skip
        return text, [("PHONE", 0, len(text))]
    if kind == "EMAIL":
        firsts, lasts = (FIRST_FR, LAST_FR) if lang == "fr" else (FIRST_EN, LAST_EN)
        first = rng.choice(firsts).lower().replace("é", "e").replace("è", "e")
        last = rng.choice(lasts).lower().replace("é", "e").replace("è", "e")
        domain, tld = rng.choice(DOMAINS)
        if spoken:
            dot, at = ("point", "arobase") if lang == "fr" else ("dot", "at")
            tld_said = f" {dot} ".join(tld.split("."))
            text = f"{first} {dot} {last} {at} {domain} {dot} {tld_said}"
        else:
            text = (
                f"{first}.{last}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@{domain}.{tld}"
            )
        return text, [("EMAIL", 0, len(text))]
    if kind == "ADDRESS":
        if lang == "fr":
            n = rng.randint(1, 120)
            num = fr_number(n % 100 or 12) if spoken else str(n)
            rep = rng.choice(["", "", "", " bis", " ter"])
            street = rng.choice(STREETS_FR)
            text = f"{num}{rep} {street}"
            if rng.random() < 0.6:
                cp, city = rng.choice(CITIES_FR)
                text += rng.choice([", ", " "]) + f"{cp} {city}"
        else:
            n = rng.randint(1, 250)
            num = str(n) + rng.choice(["", "", "B"]) if not spoken else en_number(n % 100 or 12)
            text = f"{num} {rng.choice(STREETS_EN)}"
            if rng.random() < 0.6:
                city, post = rng.choice(CITIES_EN)
                text += f", {city} {post}"
        return text, [("ADDRESS", 0, len(text))]
    if kind == "PERSON":
        firsts, lasts = (FIRST_FR, LAST_FR) if lang == "fr" else (FIRST_EN, LAST_EN)
        last = rng.choice(lasts)
        text = f"{rng.choice(firsts)} {last}"
        return text, [("PERSON", 0, len(text))]
    raise AssertionError(kind)


def spelt(rng: random.Random, lang: str) -> str:
    name = rng.choice(LAST_FR if lang == "fr" else LAST_EN).upper()
    name = name.replace("É", "E").replace("È", "E")
    return rng.choice(["-", " "]).join(name)


def build(rng: random.Random) -> list[dict]:
    rows: list[dict] = []
    for lang in ("fr", "en"):
        for kind in ("CARD", "IBAN", "NIR", "PHONE", "EMAIL", "ADDRESS", "PERSON"):
            for style in ("written", "spoken"):
                if kind == "IBAN" and style == "spoken":
                    continue  # IBANs are read out as written: letters and groups
                if kind == "NIR" and lang == "en" and style == "spoken":
                    continue
                for _ in range(PER_KIND // (2 if kind in ("NIR",) else 1)):
                    carriers = CARRIERS[(lang, kind)]
                    carrier = rng.choice(carriers)
                    if kind == "PERSON" and ("écrit" in carrier or "spelled" in carrier):
                        surface = spelt(rng, lang)
                        parts = [("PERSON", 0, len(surface))]
                    else:
                        surface, parts = value(kind, lang, style == "spoken", rng)
                    if style == "spoken" and rng.random() < 0.5:
                        # Half of the transcripts come without capitals at all.
                        carrier, surface = carrier.lower(), surface.lower()
                    at = carrier.index("{}")
                    text = carrier[:at] + surface + carrier[at + 2 :]
                    spans = [{"kind": k, "start": at + a, "end": at + b} for k, a, b in parts]
                    rows.append({"lang": lang, "style": style, "text": text, "spans": spans})
        for _ in range(6):  # two kinds in one sentence
            sentence = (
                "Je suis {p}, vous pouvez me joindre au {t} ou sur {e}."
                if lang == "fr"
                else "My name is {p}, you can reach me on {t} or at {e}."
            )
            values = {
                "p": value("PERSON", lang, False, rng),
                "t": value("PHONE", lang, False, rng),
                "e": value("EMAIL", lang, False, rng),
            }
            text, spans, done = "", [], 0
            for key in ("p", "t", "e"):
                at = sentence.index("{" + key + "}", done)
                text += sentence[done:at]
                surface, parts = values[key]
                spans += [{"kind": k, "start": len(text) + a, "end": len(text) + b}
                          for k, a, b in parts]  # fmt: skip
                text += surface
                done = at + 3
            text += sentence[done:]
            rows.append({"lang": lang, "style": "written", "text": text, "spans": spans})
        fr = lang == "fr"
        fillers: dict[str, Callable[[], str]] = {
            "order": lambda: str(rng.randint(100000, 99999999)),
            "price": lambda: f"{rng.randint(5, 900)},{rng.randint(0, 99):02d}"
            if fr else f"£{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",  # noqa: B023 (called in this iteration)
            "price2": lambda: str(rng.randint(5, 900)),
            "date": lambda: f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2024"
            if fr else f"March {rng.randint(1, 28)} 2024",  # noqa: B023 (called in this iteration)
            "code": lambda: f"REF-{rng.randint(1000, 9999)}{rng.choice('XYZ')}",
            "tracking": lambda: f"6A{rng.randint(10**10, 10**11 - 1)}",
            "qty": lambda: str(rng.randint(2, 12)),
            "time": lambda: f"{rng.randint(18, 21)}h{rng.randint(0, 59):02d}"
            if fr else f"{rng.randint(6, 9)}:{rng.randint(10, 59)} pm",  # noqa: B023 (called in this iteration)
            "pct": lambda: str(rng.choice([10, 15, 20, 30])),
        }  # fmt: skip
        for _ in range(60):
            template = rng.choice(NO_PII[lang])
            text = template.format(**{k: f() for k, f in fillers.items()})
            rows.append({"lang": lang, "style": "none", "text": text, "spans": []})
    for i, row in enumerate(rows):
        row["id"] = i
    return rows


def main() -> None:
    rows = build(random.Random(SEED))
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            ordered = {k: row[k] for k in ("id", "lang", "style", "text", "spans")}
            out.write(json.dumps(ordered, ensure_ascii=False) + "\n")
    print(f"{len(rows)} sentences written to {OUT}")


if __name__ == "__main__":
    main()
