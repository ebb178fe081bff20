"""The layers of docs/architecture.md, held: every import inside `empreinte` runs downward.

Imports are read from the source (the AST), at any depth: module level, inside functions and
inside `if TYPE_CHECKING:` blocks alike. A module belongs to the layer of the longest name in
`LAYERS` that starts it. An import may name its own layer or one below; the one exception is a
type-only import of the `Workspace` facade by the services that receive one (privacy, profiles,
matching), which never runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "empreinte"

# Bottom first. Keep in step with the table "Layers" in docs/architecture.md.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("leaves", ("errors", "config", "durations", "demo")),
    ("vocabulary", ("identity.model", "identity.identifiers", "voc.model")),
    ("store", ("store",)),
    ("credentials", ("credentials",)),
    ("identity", ("identity",)),
    (
        "privacy at the door",
        (
            "privacy.pseudonym",
            "privacy.redaction",
            "privacy.pii",
            "privacy.scrub",
            "privacy.suppression",
            "privacy.text_pii",  # the package: its engine, scans and language detection
            "privacy.text_originals",
        ),
    ),
    ("collect", ("collect",)),
    ("publish", ("publish",)),
    ("profiles", ("profiles",)),
    ("privacy services", ("privacy",)),
    ("analytics", ("analytics",)),
    ("matching", ("matching",)),
    ("segments", ("segments",)),
    ("voc", ("voc",)),
    ("activate", ("activate",)),
    ("workspace", ("workspace", "config_sections")),
    ("python api", ("",)),  # empreinte/__init__.py: open(), the result types, the errors
    ("web", ("web",)),
    ("cli", ("cli",)),
]
# Layers that may name the Workspace type in annotations without importing it at run time.
TYPE_ONLY_WORKSPACE = {
    "profiles",
    "privacy services",
    "matching",
    "segments",
    "voc",
    "activate",
}


def layer_of(module: str) -> tuple[int, str]:
    """(rank, name) of the layer of `module` (a dotted name without the `empreinte.`)."""
    best: tuple[int, int, str] | None = None
    for rank, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = prefix == "" or module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, name)
    assert best is not None, module
    return best[1], best[2]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(module imported, line, type-only?) for every `empreinte` import in `tree`."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, type_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "empreinte":  # `from empreinte import config_sections`
                found.extend((f"empreinte.{a.name}", node.lineno, type_only) for a in node.names)
            else:
                found.append((node.module, node.lineno, type_only))
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return [(name, line, t) for name, line, t in found if name.split(".")[0] == "empreinte"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def upward_imports(root: Path = SRC) -> list[str]:
    """Every import in the package that names a higher layer, as readable lines."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        here = module_name(path)
        rank, name = layer_of(here)
        for target, line, type_only in imports_of(ast.parse(path.read_text(), str(path))):
            there = target.removeprefix("empreinte").lstrip(".")
            target_rank, target_name = layer_of(there)
            if target_rank <= rank:
                continue
            if type_only and there == "workspace" and name in TYPE_ONLY_WORKSPACE:
                continue
            wrong.append(
                f"{path.relative_to(SRC.parent)}:{line}: {name} imports {target} ({target_name})"
            )
    return wrong


def test_every_import_runs_downward() -> None:
    assert upward_imports() == []


def test_every_module_has_a_layer_and_every_layer_a_module() -> None:
    modules = [module_name(p) for p in SRC.rglob("*.py")]
    used = {layer_of(m)[1] for m in modules}
    assert used == {name for name, _ in LAYERS}


def test_the_check_sees_upward_imports_in_functions_and_type_blocks(tmp_path: Path) -> None:
    """The test itself can fail: a store module that imports analytics in a function, and a
    collector module that imports the workspace for typing, are both caught."""
    package = tmp_path / "empreinte"
    (package / "store").mkdir(parents=True)
    (package / "collect").mkdir()
    (package / "store" / "late.py").write_text(
        "def f():\n    from empreinte.analytics.log import AnalyticsLog\n    return AnalyticsLog\n"
    )
    (package / "collect" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from empreinte.workspace import Workspace\n"
    )
    (package / "store" / "fine.py").write_text("from empreinte.errors import StorageError\n")
    found = upward_imports_in(package)
    assert [line.split(": ", 1)[1] for line in found] == [
        "collect imports empreinte.workspace (workspace)",
        "store imports empreinte.analytics.log (analytics)",
    ]


def upward_imports_in(package: Path) -> list[str]:
    global SRC
    saved, SRC = SRC, package
    try:
        return upward_imports(package)
    finally:
        SRC = saved


def _loaded_after(code: str) -> set[str]:
    """The heavy libraries loaded by a fresh interpreter after running `code`."""
    # spaCy, Presidio and lingua too: the collector imports the text redaction, and only a
    # process that sees a text may load its models (docs/voc-ingestion.md).
    heavy = (
        *("scipy", "ibis", "matplotlib", "splink", "pandas", "sklearn", "pyspark"),
        *("spacy", "presidio_analyzer", "lingua", "cryptography.fernet"),
    )
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module", ["empreinte", "empreinte.collect.http", "empreinte.web.app", "empreinte.cli"]
)
def test_the_collector_and_the_cli_load_no_analytics_library(module: str) -> None:
    assert _loaded_after(f"import {module}") == set()


def test_text_redaction_loads_its_language_models_only_when_first_used() -> None:
    """The collector imports privacy.text_pii; spaCy, Presidio and lingua (seconds to load)
    wait for the first text, or for `warm()`."""
    probe = (
        "import sys\nimport empreinte.privacy.text_pii\n"
        "print(' '.join(m for m in ('spacy', 'presidio_analyzer', 'lingua') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == []
