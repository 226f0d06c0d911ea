"""Soak test: mixed traffic against a real server for N minutes, printing its memory each minute.

Run with ``uv run python benchmarks/soak.py [--minutes 30] [--clients 4]``. It starts
``fusionwatch serve`` (one worker) on a free loopback port with a throw-away SQLite file, creates
an account, a team and a token, then keeps ``--clients`` threads busy with a mix of requests
(stateless assessment, patient creation, stored assessment, list pages, and every tenth round the
anonymous self-check's PDF) and prints once a minute the server's resident memory (VmRSS), that
of its PDF processes (children), and the requests and errors so far. Memory that keeps climbing
minute after minute is a leak; a plateau is a cache.
"""

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = json.loads((ROOT / "examples" / "referral-smoker-mechanical-pain.json").read_text())
PASSWORD = "a-long-soak-test-password"
SELF_CHECK = {
    **dict.fromkeys(
        (
            "emergency.new_weakness",
            "emergency.bladder_bowel_loss",
            "emergency.saddle_numbness",
            "emergency.fever_chills_worse_pain",
            "emergency.draining_wound",
            "emergency.unbearable_pain_neuro",
        ),
        "no",
    ),
    "surgery.months_since": "8",
    "surgery.region": "lumbar",
    "signs.mechanical_pain": "yes",
    "signs.focal_pain": "yes",
    "pain.axial": "7",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_rss_mb(pid: int) -> float:
    """Resident memory of the direct children (the PDF processes), 0 if none."""
    total = 0.0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):  # it ended in between
            total += rss_mb(int(child))
    return total


def self_check_pdf(base: str) -> None:
    """Fill in the anonymous self-check and download its PDF summary, as a browser would."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise ValueError("no form token on /login")
    body = urllib.parse.urlencode({"csrf_token": match.group(1), **SELF_CHECK}).encode()
    if not opener.open(base + "/check-summary.pdf", body, timeout=60).read().startswith(b"%PDF"):
        raise ValueError("the self-check summary is not a PDF")


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
                if i % 10 == 0:
                    self_check_pdf(base)
                    ok += 1
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
        print("minute  rss_mb  pdf_mb  requests  errors")
        minute = 0
        print(f"{minute:6d}  {rss_mb(server.pid):6.0f}  {0:6.0f}  {0:8d}  {0:6d}", flush=True)
        while time.monotonic() < stop:
            time.sleep(min(60, max(0.0, stop - time.monotonic())))
            minute += 1
            with lock:
                done, errors = counts["requests"], counts["errors"]
            memory = f"{rss_mb(server.pid):6.0f}  {children_rss_mb(server.pid):6.0f}"
            print(f"{minute:6d}  {memory}  {done:8d}  {errors:6d}", flush=True)
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
