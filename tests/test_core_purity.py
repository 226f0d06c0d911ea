"""core/ reads no files, network, database or clock: checked on its source, import by import."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "src/fusionwatch/core"
ALLOWED = {
    "__future__",
    "annotated_types",
    "collections",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "hashlib",
    "math",
    "itertools",
    "operator",
    "pydantic",
    "re",
    "typing",
    "fusionwatch",
}
FORBIDDEN_CALLS = {"open", "now", "today", "utcnow", "time", "perf_counter", "getenv"}


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            roots = set()
        assert roots <= ALLOWED, f"{path.name} imports {roots - ALLOWED}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name} calls {name}() (I/O or clock)"
