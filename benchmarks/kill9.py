"""Durability: no acknowledged write is lost when the server is killed with SIGKILL.

Run with ``uv run python benchmarks/kill9.py [--rounds 10] [--url URL]``. Each round starts
``fusionwatch serve`` (one worker) on a free port, lets four clients create patients as fast as
they can, kills the server with ``kill -9`` after a random 1-3 s, restarts it, and checks that
every patient whose creation was acknowledged (201 with its id) can be read back. It prints the
acknowledged writes per round and the number lost (must be 0). SQLite by default (a throw-away
file); ``--url`` for PostgreSQL.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PASSWORD = "a-long-durability-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "fusionwatch", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


def call(base: str, path: str, token: str, body: object | None = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "fusionwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Generous: on a loaded shared machine a start (imports, migrations) has taken over 30 s.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}") from None
            time.sleep(0.1)
    server.kill()  # not left behind when the script gives up
    server.wait()
    raise SystemExit("the server did not start within 120 s")


def round_trip(env: dict[str, str], token: str) -> tuple[int, int]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(env, port)
    acknowledged: list[int] = []
    lock = threading.Lock()
    alive = threading.Event()
    alive.set()

    def writer() -> None:
        while alive.is_set():
            try:
                made = call(base, "/api/v1/patients", token, {"display_name": "Durable"})
            except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
                # Killed mid-answer (IncompleteRead included): not acknowledged, not counted.
                continue
            with lock:
                acknowledged.append(int(str(made["id"])))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(1, 3))
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    alive.clear()
    for t in threads:
        t.join()
    server = start(env, port)
    lost = 0
    for patient_id in acknowledged:
        try:
            call(base, f"/api/v1/patients/{patient_id}", token)
        except urllib.error.HTTPError:
            lost += 1
    server.terminate()
    server.wait(timeout=10)
    return len(acknowledged), lost


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-kill9-"))
    url = args.url or f"sqlite:///{folder / 'kill9.sqlite3'}"
    env = {**os.environ, "FUSIONWATCH_DATABASE_URL": url}
    cli({**env, "FUSIONWATCH_NEW_PASSWORD": PASSWORD}, "users", "add", "durable")
    cli(env, "teams", "create", "durable-team")
    cli(env, "teams", "add-member", "durable-team", "durable")
    token = cli(env, "tokens", "create", "--user", "durable", "--scope", "read", "--scope", "write")
    token = token.strip()
    total_acked = total_lost = 0
    for n in range(1, args.rounds + 1):
        acked, lost = round_trip(env, token)
        total_acked, total_lost = total_acked + acked, total_lost + lost
        print(f"round {n}: {acked} acknowledged writes, {lost} lost", flush=True)
    print(f"total: {total_acked} acknowledged, {total_lost} lost ({url})")
    if total_lost:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
