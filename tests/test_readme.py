"""Every command in the README runs as written, from a copy of the repository's example files.

The README's code blocks are read, continuation lines joined, and each ``.venv/bin/fusionwatch``
line run through the shell (globs and redirections as a reader's shell would do them) in a
temporary directory holding the examples, the FHIR test bundles and a link to this ``.venv``.
``make`` lines are what runs this test, so they are left out. Interactive and long-running
commands get what a person would give them: Enter for every question, a password in the
environment, and for ``serve`` a first page fetched before it is stopped.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^[ \t]*```[a-z]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
PROGRAM = ".venv/bin/fusionwatch"


def readme_commands() -> list[str]:
    commands = []
    for block in FENCE.findall(README.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            text = re.sub(r"\s+#\s.*$", "", line).strip()
            if text.startswith(PROGRAM):
                commands.append(re.sub(r"\s+", " ", text))
    # Commands quoted in running text count too (the "…" in the set-up note is not one).
    inline = re.findall(r"`(\.venv/bin/fusionwatch [^`…]+)`", README.read_text(encoding="utf-8"))
    return commands + [c for c in inline if c not in commands]


COMMANDS = readme_commands()


def test_the_readme_gives_its_commands_one_way() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(COMMANDS) >= 20
    assert "uv run fusionwatch" not in text, "give commands as .venv/bin/fusionwatch"
    assert not re.search(r"\bCASE\.yaml\b|\bF\.dcm\b", text), "placeholders cannot run"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copytree(ROOT / "tests" / "fhir", work / "tests" / "fhir")
    venv = Path(sys.executable).parent.parent
    (work / ".venv").symlink_to(venv)
    return work


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FUSIONWATCH_DATABASE_URL": f"sqlite:///{work / 'var' / 'readme.sqlite3'}",
        "FUSIONWATCH_NEW_PASSWORD": "a-long-readme-password",
        "FUSIONWATCH_PORT": str(_free_port()),
    }


def _serve(command: str, work: Path, env: dict[str, str]) -> None:
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                url = f"http://127.0.0.1:{env['FUSIONWATCH_PORT']}/check"
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"{command}: no answer within 90 s")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr is not None:
            server.stderr.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_each_readme_command_runs_as_written(workdir: Path, command: str) -> None:
    env = _environment(workdir)
    if " serve" in command:
        _serve(command, workdir, env)
        return
    if " tokens create" in command:
        users = subprocess.run(
            ["bash", "-c", f"{PROGRAM} users add alice || true"], cwd=workdir, env=env, check=False
        )
        assert users.returncode == 0
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=workdir,
        env=env,
        input="\n" * 200,  # Enter for every question of the interactive check
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert done.stdout.strip() or re.search(r"--out \S+|> \S+", command), "no output"
    for target in re.findall(r"(?:--out|>) (\S+)", command):
        assert (workdir / target).stat().st_size > 0, target
