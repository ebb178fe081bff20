"""Each kind of personal data, in French and English, written and said, replaced by its typed
placeholder; what is not personal data (order numbers, prices, dates, codes) kept."""

from __future__ import annotations

import pytest

from empreinte.errors import InvalidInput
from empreinte.privacy.text_pii import PLACEHOLDERS, Found, redact_many, redact_text, redact_turns
from empreinte.privacy.text_pii.redact import MAX_MODEL_CHARS, pieces

CARD = "4970101234567893"  # Luhn-valid
NIR = "185057800608491"  # key 91
IBAN_FR = "FR76 3000 6000 0112 3456 7890 189"


def redacted(text: str, language: str | None = None) -> str:
    return redact_text(text, language=language).text


CASES = [
    # (kind, language, text, the personal part)
    ("CARD", "fr", "ma carte c'est le 4970 1012 3456 7893 voilà", "4970 1012 3456 7893"),
    ("CARD", "en", "my card is 4970-1012-3456-7893 thanks", "4970-1012-3456-7893"),
    ("CARD", "fr", f"carte {CARD}.", CARD),
    ("CARD", "en", "Amex 3782 822463 10005 please", "3782 822463 10005"),
    ("CARD", "fr", "c'est quatre neuf sept zéro, un zéro un deux, trois quatre cinq six, "
     "sept huit neuf trois", "quatre neuf sept zéro, un zéro un deux, trois quatre cinq six, "
     "sept huit neuf trois"),
    ("CARD", "fr", "alors quarante-neuf soixante-dix dix douze trente-quatre cinquante-six "
     "soixante-dix-huit quatre-vingt-treize merci", "quarante-neuf soixante-dix dix douze "
     "trente-quatre cinquante-six soixante-dix-huit quatre-vingt-treize"),
    ("CARD", "fr", "alors quatre mille neuf cent soixante-dix, mille douze, trois mille quatre "
     "cent cinquante-six, sept mille huit cent quatre-vingt-treize", "quatre mille neuf cent "
     "soixante-dix, mille douze, trois mille quatre cent cinquante-six, sept mille huit cent "
     "quatre-vingt-treize"),
    ("CARD", "en", "it's four nine seven oh, one oh one two, three four five six, seven eight "
     "nine three", "four nine seven oh, one oh one two, three four five six, seven eight nine "
     "three"),
    ("CARD", "en", "four nine seven zero 1012 three four five six 7893 ok", "four nine seven "
     "zero 1012 three four five six 7893"),
    ("CARD", "en", "card four triple one, one one one one, one one one one, one one one one",
     "four triple one, one one one one, one one one one, one one one one"),
    ("IBAN", "fr", f"mon IBAN est {IBAN_FR} merci", IBAN_FR),
    ("IBAN", "en", "wire it to DE89370400440532013000 please", "DE89370400440532013000"),
    ("IBAN", "en", "my iban is gb29 nwbk 6016 1331 9268 19.", "gb29 nwbk 6016 1331 9268 19"),
    ("NIR", "fr", "mon numéro de sécu est le 1 85 05 78 006 084 91.", "1 85 05 78 006 084 91"),
    ("NIR", "fr", f"sécu {NIR} voilà", NIR),
    ("NIR", "fr", "né en Corse : 2 90 02 2A 123 456 78", "2 90 02 2A 123 456 78"),
    ("NIR", "fr", "sécu 290022B12345608", "290022B12345608"),
    ("NIR", "fr", "un quatre-vingt-cinq zéro cinq soixante-dix-huit zéro zéro six zéro "
     "quatre-vingt-quatre quatre-vingt-onze", "un quatre-vingt-cinq zéro cinq soixante-dix-huit "
     "zéro zéro six zéro quatre-vingt-quatre quatre-vingt-onze"),
    ("PHONE", "fr", "rappelez-moi au 06 12 34 56 78 demain", "06 12 34 56 78"),
    ("PHONE", "fr", "au +33 6 12 34 56 78", "+33 6 12 34 56 78"),
    ("PHONE", "fr", "le zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
     "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"),
    ("PHONE", "fr", "plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
     "plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit"),
    ("PHONE", "en", "call me on 07911 123456 tomorrow", "07911 123456"),
    ("PHONE", "en", "call me on +44 20 7946 0958", "+44 20 7946 0958"),
    ("PHONE", "en", "it's oh seven nine one one, one two three four five six", "oh seven nine "
     "one one, one two three four five six"),
    ("EMAIL", "fr", "mon mail jean.dupont@orange.fr merci", "jean.dupont@orange.fr"),
    ("EMAIL", "fr", "c'est jean point dupont arobase gmail point com voilà", "jean point dupont "
     "arobase gmail point com"),
    ("EMAIL", "en", "it's john dot smith at outlook dot co dot uk thanks", "john dot smith at "
     "outlook dot co dot uk"),
    ("ADDRESS", "fr", "j'habite 12 bis rue de la Paix, 75002 Paris depuis", "12 bis rue de la "
     "Paix, 75002 Paris"),
    ("ADDRESS", "fr", "livrez au douze avenue Victor Hugo merci", "douze avenue Victor Hugo"),
    ("ADDRESS", "fr", "au 3 ter allée des Tilleuls 69003 Lyon", "3 ter allée des Tilleuls 69003 "
     "Lyon"),
    ("ADDRESS", "en", "I live at 221B Baker Street, London NW1 6XE now", "221B Baker Street, "
     "London NW1 6XE"),
    ("ADDRESS", "en", "send it to 742 Evergreen Terrace, Springfield, IL 62704", "742 Evergreen "
     "Terrace, Springfield, IL 62704"),
    ("ADDRESS", "en", "i live at forty-one oxford road, london nw1 6xe now", "forty-one oxford "
     "road, london nw1 6xe"),
    ("PERSON", "fr", "Bonjour, je m'appelle Jean Dupont, j'appelle pour ma commande", "Jean "
     "Dupont"),
    ("PERSON", "fr", "bonjour je m'appelle jean dupont voilà", "jean dupont"),
    ("PERSON", "fr", "Oui, c'est Madame Lefèvre à l'appareil.", "Lefèvre"),
    ("PERSON", "fr", "ça s'écrit D-U-P-O-N-T", "D-U-P-O-N-T"),
    ("PERSON", "fr", "J'ai parlé avec Sophie Martin hier.", "Sophie Martin"),
    ("PERSON", "en", "Hi, my name is Sarah Connor and I'm calling about my order", "Sarah "
     "Connor"),
    ("PERSON", "en", "Mr. Brown called back yesterday", "Brown"),
    ("PERSON", "en", "This is Sarah speaking.", "Sarah"),
    ("PERSON", "fr", "C'est Sophie Martin à l'appareil.", "Sophie Martin"),
    ("PERSON", "fr", "j'ai eu sophie au téléphone", "sophie"),
    ("PERSON", "en", "it's spelled s m i t h", "s m i t h"),
    ("PERSON", "en", "I spoke to Michael Jones about it", "Michael Jones"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "language", "text", "secret"), CASES)
def test_each_kind_is_replaced_by_its_placeholder(
    kind: str, language: str, text: str, secret: str
) -> None:
    result = redact_text(text, language=language)
    start = text.index(secret)
    assert result.text == text[:start] + PLACEHOLDERS[kind] + text[start + len(secret) :]
    assert Found(kind, start, start + len(secret)) in result.found


@pytest.mark.parametrize(("kind", "language", "text", "secret"), CASES[:6])
def test_the_language_is_detected_when_not_given(
    kind: str, language: str, text: str, secret: str
) -> None:
    assert PLACEHOLDERS[kind] in redacted(text)


def test_a_cvv_after_a_card_or_its_cue_is_part_of_the_card() -> None:
    assert redacted(f"carte {CARD} et le cryptogramme 123", "fr") == (
        "carte <CARD> et le cryptogramme <CARD>"
    )
    assert redacted("the CVV is 456", "en") == "the CVV is <CARD>"
    assert redacted("le code est 1234", "fr") == "le code est 1234"  # no card, no cue


@pytest.mark.parametrize(
    "text",
    [
        "ma carte 4970 1012 3456 7894 voilà",  # Luhn fails
        "sécu 1 85 05 78 006 084 92",  # wrong key
        "iban FR76 3000 6000 0112 3456 7890 188",  # mod 97 fails
        "commande 4970101234567893 du 12/03/2024",  # an order number that passes Luhn
        "Ma commande n° 4521873 n'est pas arrivée, j'ai payé 49,90 euros le 12/03/2024.",
        "Le produit REF-7789X coûte 129,99 €, livraison entre 14h et 18h.",
        "My order 88231775 was £12.99 on March 3 2024, ticket 553201.",
        "The road was closed so the driver couldn't get to London.",
        "je suis très déçu, c'est la troisième fois que j'appelle",
        "I am calling about my parcel, this is annoying",
        "Bonjour, merci, au revoir.",
        # a cue and one capitalised word: a nationality, a holiday, a brand, no name
        "Je suis Français et je paie en euros.",
        "C'est Noël bientôt, je veux mon colis.",
        "J'ai eu Orange au téléphone.",
        "I spoke to Amazon yesterday.",
        "I am French.",
        "j'ai 2 enfants et 3 chats",
    ],
)
def test_what_is_not_personal_data_is_kept(text: str) -> None:
    assert redacted(text) == text


def test_placeholders_are_typed_and_several_kinds_mix() -> None:
    text = (
        "Je suis Madame Lefèvre, mon mail est c.lefevre@free.fr, mon portable le 06 98 76 54 "
        "32, j'habite 4 rue des Lilas 44000 Nantes et ma carte est 4970 1012 3456 7893."
    )
    assert redacted(text, "fr") == (
        "Je suis Madame <PERSON>, mon mail est <EMAIL>, mon portable le <PHONE>, j'habite "
        "<ADDRESS> et ma carte est <CARD>."
    )
    assert set(PLACEHOLDERS) == {"CARD", "IBAN", "NIR", "PHONE", "EMAIL", "ADDRESS", "PERSON"}


def test_offsets_found_are_those_of_the_text_given() -> None:
    text = "Call Sarah on 07911 123456"
    result = redact_text(text, language="en")
    assert {(f.kind, text[f.start : f.end]) for f in result.found} >= {("PHONE", "07911 123456")}


def test_a_spelling_does_not_take_the_letter_of_an_elision() -> None:
    assert redacted("I'm Rachel Green, that's G-R-E-E-N.", "en") == "I'm <PERSON>, that's <PERSON>."


def test_empty_and_blank_texts() -> None:
    assert redact_text("").text == ""
    assert redact_text("   ").text == "   "
    assert redact_text("").found == ()


def test_a_text_longer_than_a_model_piece_is_read_whole() -> None:
    filler = "Le colis n'est pas arrivé et personne ne répond. " * 1_100  # 55,000 characters
    text = filler + "Je m'appelle Jean Dupont, carte 4970 1012 3456 7893. " + filler
    assert len(text) > 2 * MAX_MODEL_CHARS
    out = redacted(text, "fr")
    assert out == filler + "Je m'appelle <PERSON>, carte <CARD>. " + filler


def test_pieces_cut_at_spaces_and_cover_the_text() -> None:
    text = ("abc " * 30_000)[:100_001]
    parts = pieces(text, 50_000)
    assert "".join(p for _, p in parts) == text
    assert all(len(p) <= 50_000 for _, p in parts)
    assert all(p.endswith(" ") for _, p in parts[:-1])
    assert [offset for offset, _ in parts] == [
        0,
        len(parts[0][1]),
        len(parts[0][1]) + len(parts[1][1]),
    ]


def test_what_is_not_a_text_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as error:
        redact_text(12345)  # type: ignore[arg-type]
    assert error.value.field == "text"
    with pytest.raises(InvalidInput) as error:
        redact_many(["ok", None])  # type: ignore[list-item]
    assert error.value.field == "texts[1]"
    with pytest.raises(InvalidInput) as error:
        redact_turns([{"speaker": "agent", "text": "ok"}, "4970 1012 3456 7893"])  # type: ignore[list-item]
    assert error.value.field == "transcript[1]"
    assert "4970" not in str(error.value)  # the text itself is never in an error


def test_a_language_tag_picks_its_model() -> None:
    text = "Hi, my name is Sarah Connor"
    assert redacted(text, "en-GB") == redacted(text, "en") == "Hi, my name is <PERSON>"
    assert redacted(text, "de") == redacted(text)  # not one of ours: guessed


def test_a_name_after_it_is_or_au_nom_de_with_its_particles() -> None:
    from empreinte.privacy.text_pii import redact_text

    assert redact_text("Yes it's Madison Rivera.", language="en").text == "Yes it's <PERSON>."
    assert redact_text("Oui c'est Yann Le Gall.", language="fr").text == "Oui c'est <PERSON>."
    assert (
        redact_text("C'est au nom de Yann Le Gall.", language="fr").text
        == "C'est au nom de <PERSON>."
    )
    # One capitalised word after "it's" is a name only with a title or "speaking".
    assert redact_text("It's Amazon that delivered.", language="en").text == (
        "It's Amazon that delivered."
    )
    assert redact_text("Le Monde est un journal.", language="fr").text == (
        "Le Monde est un journal."
    )


def test_an_overseas_mobile_and_an_address_at_a_reserved_domain_said_aloud() -> None:
    from empreinte.privacy.text_pii import redact_text

    # 06 97 is Martinique's mobile range, dialled as a French mobile: `phonenumbers` does not
    # hold it valid for FR; said with its trunk prefix, it is a phone number all the same.
    assert (
        redact_text("Mon numéro c'est le 06 97 90 50 99.", language="fr").text
        == "Mon numéro c'est le <PHONE>."
    )
    assert (
        redact_text("C'est léa point martin76 arobase mail point example.", language="fr").text
        == "C'est <EMAIL>."
    )
    assert (
        redact_text("It's jennifer dot brown190 at mail dot test.", language="en").text
        == "It's <EMAIL>."
    )
    # Without a trunk or international prefix, a run of digits stays an order number.
    assert redact_text("ma commande 4567 8901 23", language="fr").text == (
        "ma commande 4567 8901 23"
    )
