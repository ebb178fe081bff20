"""Fixtures shared by the matching tests."""

from __future__ import annotations

from typing import Any

import pytest

from empreinte.matching import linkage as matching
from empreinte.matching import prepare as prep


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the matcher started work on a file it should have refused")

    monkeypatch.setattr(matching, "_run_splink", fail)
    monkeypatch.setattr(prep, "prepare", fail)
