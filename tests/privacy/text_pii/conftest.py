"""The language models are loaded once per test process (a few seconds)."""

from __future__ import annotations

import pytest

from empreinte.privacy.text_pii import warm


@pytest.fixture(scope="session", autouse=True)
def _models() -> None:
    warm()
