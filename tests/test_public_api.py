"""The public API of `empreinte`: what `__all__` exports, that it all resolves, that
`import empreinte` stays light, and that there is one exception hierarchy."""

from __future__ import annotations

import ast
import builtins
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import empreinte
from empreinte import errors
from empreinte.errors import EmpreinteError

SRC = Path(empreinte.__file__).parent
HEAVY = ("ibis", "scipy", "matplotlib", "splink")


def test_all_lists_every_error_class() -> None:
    public_errors = {
        name
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, EmpreinteError) and not name.startswith("_")
    }
    assert public_errors, "errors.py defines no error?"
    assert public_errors <= set(empreinte.__all__), public_errors - set(empreinte.__all__)


def test_all_has_the_entry_points_and_the_result_types() -> None:
    expected = {"open", "Workspace", "IngestReport", "Rejected", "ScoreReport", "KanoReport"}
    expected |= {"KeyDriverReport", "ExperimentReport", "EmpreinteError"}
    assert expected <= set(empreinte.__all__)
    assert len(set(empreinte.__all__)) == len(empreinte.__all__)


@pytest.mark.parametrize("name", empreinte.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    value = getattr(empreinte, name)
    if inspect.isclass(value) and name != "__version__":
        assert value.__name__ == name
    assert name in dir(empreinte)


def test_every_error_of_the_package_is_exported() -> None:
    for name in empreinte.__all__:
        getattr(empreinte, name)  # load the lazy ones

    def tree(cls: type) -> set[type]:
        return {sub for child in cls.__subclasses__() for sub in (child, *tree(child))}

    ours = {cls for cls in tree(EmpreinteError) if cls.__module__.startswith("empreinte.")}
    assert {cls.__name__ for cls in ours} <= set(empreinte.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        empreinte.NoSuchThing  # noqa: B018


def test_import_empreinte_stays_light() -> None:
    code = (
        "import sys, empreinte\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "empreinte.ScoreReport\n"  # the lazy loading does load them, when asked
        "print('ibis' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["", "True"], out


def _exception_bases() -> set[str]:
    return {
        name
        for name, value in vars(builtins).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }


def test_one_exception_hierarchy() -> None:
    """Only EmpreinteError derives from a built-in exception; every other exception class of
    the package is in its tree (so the web handler and the CLI answer it)."""
    builtin = _exception_bases()
    roots = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                if bases & builtin:
                    roots.append(f"{path.relative_to(SRC)}:{node.name}")
    assert roots == ["errors.py:EmpreinteError"]
