"""Soak test: mixed traffic against a real server for N minutes, printing its memory each minute.

Run with ``uv run python benchmarks/soak.py [--minutes 30] [--clients 4]``. It starts
``fusionwatch serve`` (one worker) on a free loopback port with a throw-away SQLite file, creates
an account, a team and a token, then keeps ``--clients`` threads busy with a mix of requests
(stateless assessment, patient creation, stored assessment, list pages, a PDF now and then) and
prints the server's resident memory (VmRSS) once a minute, with the requests and errors so far.
Memory that keeps climbing minute after minute is a leak; a plateau is a cache.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = json.loads((ROOT / "examples" / "referral-smoker-mechanical-pain.json").read_text())
PASSWORD = "a-long-soak-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "fusionwatch", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def request(base: str, path: str, token: str, body: object | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as response:
        return bytes(response.read())


def wait_for(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)


def main() -> None:  # noqa: PLR0915  (one script, read top to bottom)
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-soak-"))
    port = free_port()
    env = {**os.environ, "FUSIONWATCH_DATABASE_URL": f"sqlite:///{folder / 'soak.sqlite3'}"}
    cli({**env, "FUSIONWATCH_NEW_PASSWORD": PASSWORD}, "users", "add", "soak")
    cli(env, "teams", "create", "soak-team")
    cli(env, "teams", "add-member", "soak-team", "soak")
    token = cli(env, "tokens", "create", "--user", "soak", "--scope", "read", "--scope", "write")
    server = subprocess.Popen(
        [sys.executable, "-m", "fusionwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()
    stop = time.monotonic() + args.minutes * 60

    def client(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            i += 1
            try:
                request(base, "/api/v1/assess", token, CASE)
                patient = json.loads(
                    request(base, "/api/v1/patients", token, {"display_name": f"Soak {n}-{i}"})
                )
                request(
                    base, f"/api/v1/patients/{patient['id']}/assessments", token, {"case": CASE}
                )
                request(base, "/api/v1/patients?limit=50", token)
                request(base, f"/api/v1/patients/{patient['id']}", token)
                ok = 5
            except (urllib.error.URLError, OSError, ValueError) as problem:
                with lock:
                    counts["errors"] += 1
                    if counts["errors"] == 1:
                        print(f"first error: {problem}", flush=True)
                ok = 0
            with lock:
                counts["requests"] += ok

    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        print("minute  rss_mb  requests  errors")
        minute = 0
        print(f"{minute:6d}  {rss_mb(server.pid):6.0f}  {0:8d}  {0:6d}", flush=True)
        while time.monotonic() < stop:
            time.sleep(min(60, max(0.0, stop - time.monotonic())))
            minute += 1
            with lock:
                done, errors = counts["requests"], counts["errors"]
            print(f"{minute:6d}  {rss_mb(server.pid):6.0f}  {done:8d}  {errors:6d}", flush=True)
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
