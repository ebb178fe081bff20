"""The default demo (2,000 people, 12 months) with its ground truth, generated once for all the
demo tests."""

from __future__ import annotations

import time
from typing import Any

import pytest

from empreinte.demo import Person, generate_with_truth

Message = dict[str, Any]


@pytest.fixture(scope="session")
def demo() -> tuple[list[tuple[Person, list[Message]]], float]:
    """The default demo (2,000 people, 12 months) with ground truth, and its CPU seconds."""
    began = time.process_time()
    population = list(generate_with_truth(2_000))
    return population, time.process_time() - began


@pytest.fixture(scope="session")
def truth(
    demo: tuple[list[tuple[Person, list[Message]]], float],
) -> list[tuple[Person, list[Message]]]:
    return demo[0]
