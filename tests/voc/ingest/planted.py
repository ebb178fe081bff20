"""Conversations with personal data planted in them, and where to look for it afterwards.

`MUST_GO` are values every version of privacy/text_pii/ removes (a Luhn-valid card number, an
e-mail, phone numbers): a test fails if one of them is stored anywhere. The rest (IBAN, NIR,
names, addresses, numbers said in words) are planted too: whatever the redaction in force
removes from a text must then be nowhere in the workspace (`removed_by_redaction`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from empreinte.privacy import text_pii


def luhn(prefix: str) -> str:
    """`prefix` (15 digits) with its Luhn check digit."""
    digits = [int(c) for c in prefix]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return prefix + str((10 - total % 10) % 10)


CARD = luhn("497010123456789")
CARD_SPACED = " ".join(CARD[i : i + 4] for i in range(0, 16, 4))
EMAIL_FR = "jeanne.martin@example.fr"
EMAIL_EN = "oliver.smith@example.co.uk"
PHONE_FR = "06 71 23 45 89"
PHONE_EN = "+44 20 7946 0958"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
NIR = "2 84 05 75 112 123 56"  # its key: 97 - (2840575112123 mod 97)
NAME = "Jeanne Martin"
ADDRESS = "12 rue des Lilas, 75011 Paris"

MUST_GO = [CARD_SPACED, CARD, EMAIL_FR, EMAIL_EN, PHONE_FR, PHONE_EN]


def french_turns() -> list[dict[str, Any]]:
    return [
        {
            "speaker": "agent",
            "text": "Bonjour, service client, que puis-je faire ?",
            "start": 0,
            "end": 3,
        },
        {
            "speaker": "client",
            "text": f"Bonjour, je suis {NAME}, ma carte {CARD_SPACED} a été débitée deux fois.",
            "start": 3.5,
            "end": 9,
        },
        {
            "speaker": "conseiller",
            "text": "Pouvez-vous me donner votre IBAN ?",
            "start": 9,
            "end": 11,
        },
        {
            "speaker": "client",
            "text": f"Oui, {IBAN}, et mon numéro de sécu {NIR}.",
            "start": 11,
            "end": 18,
        },
        {
            "speaker": "client",
            "text": f"Rappelez-moi au {PHONE_FR} ou écrivez à {EMAIL_FR}, j'habite {ADDRESS}.",
            "start": 18,
            "end": 25,
        },
    ]


def english_turns() -> list[dict[str, Any]]:
    return [
        {"speaker": "agent", "text": "Thanks for calling, how can I help?", "start": 0, "end": 2},
        {
            "speaker": "caller",
            "text": f"My card number is {CARD} and it was charged twice, I'm Oliver Smith.",
            "start": 2,
            "end": 8,
        },
        {
            "speaker": "customer",
            "text": f"Call me back on {PHONE_EN} or email {EMAIL_EN}, thanks.",
            "start": 8,
            "end": 13,
        },
    ]


def removed_by_redaction(values: list[str]) -> list[str]:
    """The planted values the redaction in force removes from a sentence that holds them."""
    gone = []
    for value in values:
        sentence = f"Voici : {value}. Merci."
        if value not in text_pii.redact_text(sentence, language="fr").text:
            gone.append(value)
    return gone


def files_holding(directory: Path, values: list[str]) -> dict[str, list[str]]:
    """value → the files under `directory` whose bytes hold it (UTF-8, as is and without
    spaces where it has some)."""
    # The workspace's background savers (the dedup window, checkpoints) write a temporary
    # file and rename it while we read: a file that vanishes mid-scan means the directory
    # changed, so the whole scan starts again until one pass sees a stable tree.
    for _ in range(50):
        try:
            return _scan(directory, values)
        except FileNotFoundError:
            continue
    raise AssertionError(f"{directory} kept changing during 50 scans")


def _scan(directory: Path, values: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for value in values:
            forms = {value, value.replace(" ", "")}
            if any(form.encode() in data for form in forms):
                found.setdefault(value, []).append(str(path.relative_to(directory)))
    return found
