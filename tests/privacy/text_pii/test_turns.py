"""A conversation redacted turn by turn, a number read over several turns found whole."""

from __future__ import annotations

from typing import Any

from empreinte.privacy.text_pii import redact_turns


def turn(speaker: str, text: Any, start: float = 0.0) -> dict[str, Any]:
    return {"speaker": speaker, "text": text, "start": start, "end": start + 1}


def texts(turns: list[dict[str, Any]]) -> list[Any]:
    return [t["text"] for t in turns]


def test_a_card_read_over_consecutive_customer_turns_is_found() -> None:
    turns = [
        turn("agent", "je vous écoute, le numéro de carte ?"),
        turn("customer", "alors quatre neuf sept zéro, un zéro un deux"),
        turn("agent", "oui"),
        turn("customer", "trois quatre cinq six"),
        turn("agent", "d'accord, je note"),
        turn("customer", "sept huit neuf trois"),
        turn("agent", "et le cryptogramme ?"),
        turn("customer", "un deux trois"),
    ]
    assert texts(redact_turns(turns, language="fr")) == [
        "je vous écoute, le numéro de carte ?",
        "alors <CARD>",
        "oui",
        "<CARD>",
        "d'accord, je note",
        "<CARD>",
        "et le cryptogramme ?",
        "<CARD>",
    ]


def test_a_card_over_two_written_turns_in_english() -> None:
    turns = [turn("customer", "it's 4970 1012"), turn("customer", "3456 7893")]
    assert texts(redact_turns(turns, language="en")) == ["it's <CARD>", "<CARD>"]


def test_a_phone_number_said_over_two_turns_is_found() -> None:
    turns = [
        turn("customer", "rappelez-moi au zéro six douze"),
        turn("agent", "oui ?"),
        turn("customer", "trente-quatre cinquante-six soixante-dix-huit, merci"),
    ]
    assert texts(redact_turns(turns, language="fr")) == [
        "rappelez-moi au <PHONE>",
        "oui ?",
        "<PHONE>, merci",
    ]


def test_each_part_alone_is_no_card() -> None:
    # The same digits, one turn at a time: neither half passes as a card.
    for part in ("alors quatre neuf sept zéro, un zéro un deux", "trois quatre cinq six"):
        assert texts(redact_turns([turn("customer", part)], language="fr")) == [part]


def test_a_long_answer_between_ends_the_number() -> None:
    turns = [
        turn("customer", "4970 1012"),
        turn("agent", "attendez, je dois d'abord vérifier votre identité et votre adresse"),
        turn("customer", "3456 7893"),
    ]
    assert texts(redact_turns(turns, language="fr")) == texts(turns)


def test_other_keys_are_kept_and_odd_turns_pass_through() -> None:
    turns = [
        {"speaker": "customer", "text": "je m'appelle Jean Dupont", "start": 0, "end": 2.5,
         "confidence": 0.93},
        {"speaker": "agent", "text": None, "start": 3, "end": 4},
        {"speaker": ["odd"], "text": "mon mail jean.dupont@orange.fr", "start": 4, "end": 5},
        {"text": "sans locuteur"},
    ]  # fmt: skip
    out = redact_turns(turns, language="fr")
    assert out[0] == {**turns[0], "text": "je m'appelle <PERSON>"}
    assert out[1] == turns[1]
    assert out[2] == {**turns[2], "text": "mon mail <EMAIL>"}
    assert out[3] == turns[3]
    assert turns[0]["text"] == "je m'appelle Jean Dupont"  # the input is not changed


def test_the_language_is_detected_once_for_the_conversation() -> None:
    turns = [
        turn("agent", "Hello, how can I help you today?"),
        turn("customer", "Hi, my name is Sarah Connor, I'm calling about a refund"),
    ]
    assert texts(redact_turns(turns))[1] == "Hi, my name is <PERSON>, I'm calling about a refund"


def test_no_turns() -> None:
    assert redact_turns([]) == []


def test_the_answer_to_a_question_for_a_name_is_a_name() -> None:
    """The small models miss a bare name ("Sure, Isabella Scott."); asked for, it is one."""
    english = redact_turns(
        [turn("agent", "Sure, what name is it under?"), turn("customer", "Sure, Isabella Scott.")],
        language="en",
    )
    assert texts(english)[1] == "Sure, <PERSON>."
    french = redact_turns(
        [
            turn("agent", "D'accord, c'est à quel nom ?"),
            turn("customer", "Alors c'est Le Gall, Yann Le Gall."),
        ],
        language="fr",
    )
    assert texts(french)[1] == "Alors c'est <PERSON>, <PERSON>."
    # Not asked for a name: the same capitalised words are left to the models' judgement.
    unasked = redact_turns(
        [turn("agent", "Which shop was it?"), turn("customer", "Sure, Rivoli Street.")],
        language="en",
    )
    assert texts(unasked)[1] == "Sure, Rivoli Street."
