"""`[voc]` in empreinte.toml: checked when the workspace opens, each mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte
from empreinte.errors import ConfigError
from empreinte.voc.settings import DEFAULT_REASONS, VocSettings


def test_defaults() -> None:
    settings = VocSettings.from_mapping(None)
    assert settings.reasons == DEFAULT_REASONS and settings.topics == 0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"colour": 1}, "unknown setting(s) colour"),
        ({"reasons": "delivery"}, "reasons must be a list"),
        ({"reasons": ["Delivery!"]}, "reasons must be a list"),
        ({"keywords": {"warranty": ["x"]}}, "keywords.warranty: not one of the reasons"),
        ({"keywords": {"delivery": "colis"}}, "keywords.delivery must be a list"),
        ({"keywords": {"delivery": ["x" * 61]}}, "keywords.delivery must be a list"),
        ({"topics": 51}, "topics must be a whole number from 0 to 50"),
        ({"topics_min": 9, "topics_max": 5}, "topics_min must not exceed topics_max"),
        ({"topics_max": True}, "topics_max must be a whole number"),
    ],
)
def test_mistakes_are_named(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        VocSettings.from_mapping(section)


def test_checked_when_the_workspace_opens(tmp_path: Path) -> None:
    empreinte.open(tmp_path / "ws").close()
    (tmp_path / "ws" / "empreinte.toml").write_text('[voc]\nreasons = ["livraison", 3]\n')
    with pytest.raises(ConfigError, match=r"empreinte.toml: \[voc\] reasons"):
        empreinte.open(tmp_path / "ws")
    (tmp_path / "ws" / "empreinte.toml").write_text(
        '[voc]\nreasons = ["delivery", "warranty"]\nkeywords = { warranty = ["garantie"] }\n'
    )
    with empreinte.open(tmp_path / "ws") as ws:
        assert ws.voc.settings.reasons == ("delivery", "warranty", "other")
