"""Blocking reads (reports, pages, the query API) run in a pool bounded below the cores, so that
heavy reports leave ingestion a core (bench/load.py --reports measures the effect)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio.to_thread
import pytest

import empreinte
from empreinte.web.app import create_app


def read_pool_size(directory: Path) -> int:
    """The tokens of AnyIO's default thread pool inside the app's event loop, once started."""
    app = create_app(empreinte.open(directory))  # closing the app closes the workspace

    async def started() -> int:
        async with app.router.lifespan_context(app):
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    return anyio.run(started)


def test_the_read_pool_leaves_a_core_to_ingestion_by_default(tmp_path: Path) -> None:
    assert read_pool_size(tmp_path / "ws") == max(1, (os.cpu_count() or 1) - 1)


def test_read_threads_is_a_setting(tmp_path: Path) -> None:
    directory = tmp_path / "ws"
    empreinte.open(directory).close()
    (directory / "empreinte.toml").write_text("[collector]\nread_threads = 3\n")
    assert read_pool_size(directory) == 3


@pytest.mark.parametrize("value", ["0", "true", '"2"', "1000"])
def test_a_wrong_read_threads_is_refused(tmp_path: Path, value: str) -> None:
    directory = tmp_path / "ws"
    empreinte.open(directory).close()
    (directory / "empreinte.toml").write_text(f"[collector]\nread_threads = {value}\n")
    with pytest.raises(empreinte.ConfigError, match="read_threads"):
        empreinte.open(directory)
