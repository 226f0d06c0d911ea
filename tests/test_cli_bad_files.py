"""Bad case files end with exit code 2 and a one-line reason, never a traceback, quickly."""

import resource
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app

runner = CliRunner()
# 342 bytes (the was 403) that expand to 9**8 strings when aliases are followed.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)
BAD_FILES = {
    "bomb.yaml": ALIAS_BOMB.encode(),
    "recursive.yaml": b"surgery: &s\n  again: *s\n",
    "utf16.json": '{"person": {"age": 58}}'.encode("utf-16"),
    "utf16.yaml": "person:\n  age: 58\n".encode("utf-16"),
    "binary.json": bytes(range(256)) * 4,
    "latin1.yaml": "label: caf\xe9\n".encode("latin-1"),
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "deep.yaml": b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 200)),
    "list.yaml": b"- 1\n- 2\n",
    "empty.json": b"",
}


def test_the_alias_bomb_is_small() -> None:
    assert len(ALIAS_BOMB) < 500


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_exit_2_with_a_message(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = runner.invoke(app, ["assess", str(path)])
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip()
    assert elapsed < 5.0  # includes loading the knowledge base on the first call
    assert grown_mb < 50
