"""`[voc.calls]` and `[voc.answers]` (voc/call_settings.py): defaults, a reason's pages as a
text or a list, and each wrong value refused naming the setting."""

from __future__ import annotations

from typing import Any

import pytest

from empreinte.errors import ConfigError
from empreinte.voc.call_settings import CallSettings


def test_defaults_and_values() -> None:
    assert CallSettings.from_mapping({}) == CallSettings(24, 7, {})
    settings = CallSettings.from_mapping(
        {
            "calls": {"hours": 12, "repeat_days": 3},
            "answers": {"delivery": ["/help/delivery", "/suivi", "/suivi"], "refund": "/retours"},
            "reasons": {"anything": "the understanding's own settings are not read here"},
        }
    )
    assert (settings.hours, settings.repeat_days) == (12, 3)
    assert settings.answers == {"delivery": ("/help/delivery", "/suivi"), "refund": ("/retours",)}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"calls": {"hours": 0}}, "[voc.calls] hours must be a whole number from 1 to 720"),
        ({"calls": {"hours": True}}, "[voc.calls] hours"),
        ({"calls": {"repeat_days": 91}}, "[voc.calls] repeat_days"),
        ({"calls": {"window": 3}}, "[voc.calls]: unknown setting(s) window"),
        ({"calls": 3}, "[voc.calls] must be a table"),
        ({"answers": ["/help"]}, "[voc.answers] must be a table"),
        ({"answers": {"delivery": []}}, "[voc.answers] delivery must be a list"),
        ({"answers": {"delivery": [""]}}, "[voc.answers] delivery must be a non-empty text"),
        ({"answers": {"delivery": ["x" * 201]}}, "at most 200 characters"),
        ({"answers": {f"r{i}": ["/h"] for i in range(201)}}, "more than 200 reasons"),
    ],
)
def test_wrong_values_name_the_setting(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CallSettings.from_mapping(section)
    assert message in str(caught.value)
