"""Benchmark: the API's latency when quiet, and under a concurrent PDF and sign-in flood.

Run with ``make bench-flood`` (or ``uv run python benchmarks/bench_flood.py [--workers 1]
[--pdf-clients 4] [--login-clients 20] [--seconds 10] [--rounds 3]``). It starts
``fusionwatch serve`` on a free loopback port with a throw-away SQLite file, makes an account, a
team, a token and one patient with an assessment, then ``--rounds`` times, in turn:

1. quiet: a probe reads ``GET /api/v1/patients/{id}`` back to back for ``--seconds``;
2. flood: the probe again, while ``--pdf-clients`` threads download the self-check's PDF
   summary (anonymous, no sign-in) and ``--login-clients`` threads post wrong passwords to the
   sign-in form (each costs an argon2 check, 64 MiB).

The probe runs in a process of its own (in the flood's process it would wait for the GIL of the
24 client threads, and time them rather than the server), and quiet and flood phases alternate
so that both see the same background load of this shared machine. It prints p50/p90/p99 of each
phase and of all quiet and all flood phases together, the flood's own throughput, the server's
memory, the load average, and whether the issue's target holds: p99 under the flood within 2x of
the quiet p99. Everything runs on this machine's cores, clients and server alike.
"""

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from soak import CASE, PASSWORD, SELF_CHECK, cli, free_port, request, rss_mb, wait_for

TARGET_RATIO = 2.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def browser(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """An opener with a cookie jar, and the form token the site set in it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if match is None:
        raise SystemExit("no form token on /login")
    return opener, match.group(1)


class Flood:
    """Threads that keep the server busy until stopped; counts what they got done."""

    def __init__(self, base: str, pdfs: int, logins: int) -> None:
        self.base, self.stop = base, threading.Event()
        self.done = {"pdf": 0, "login": 0, "errors": 0}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._pdf) for _ in range(pdfs)]
        self.threads += [threading.Thread(target=self._login) for _ in range(logins)]

    def _count(self, key: str) -> None:
        with self.lock:
            self.done[key] += 1

    def _loop(self, key: str, send: object) -> None:
        while not self.stop.is_set():
            try:
                send()  # type: ignore[operator]
                self._count(key)
            except urllib.error.HTTPError as answer:
                # A refused sign-in is a 401: the flood's expected answer.
                self._count(key if answer.code == 401 else "errors")
            except OSError:
                self._count("errors")

    def _pdf(self) -> None:
        opener, token = browser(self.base)
        body = urllib.parse.urlencode({"csrf_token": token, **SELF_CHECK}).encode()
        self._loop(
            "pdf", lambda: opener.open(self.base + "/check-summary.pdf", body, timeout=60).read()
        )

    def _login(self) -> None:
        opener, token = browser(self.base)
        form = {"csrf_token": token, "username": "flood", "password": "not-the-password!"}
        body = urllib.parse.urlencode(form).encode()
        self._loop("login", lambda: opener.open(self.base + "/login", body, timeout=60).read())

    def __enter__(self) -> "Flood":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def probe(base: str, path: str, token: str, seconds: float) -> tuple[list[float], int]:
    """Back-to-back requests for ``seconds``: latencies in ms, and the number of errors."""
    latencies, errors = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            request(base, path, token)
            latencies.append((time.perf_counter() - started) * 1000)
        except OSError:
            errors += 1
    return latencies, errors


def probe_apart(base: str, path: str, token: str, seconds: float) -> tuple[list[float], int]:
    """The probe in a process of its own, so that it never waits for the GIL of the flood's
    client threads (it would then time the load generator, not the server)."""
    command = [sys.executable, __file__, "--probe", base, path, token, str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    answer = json.loads(done.stdout)
    return answer["latencies"], answer["errors"]


def line(name: str, latencies: list[float], errors: int) -> str:
    return (
        f"{name:<8} n={len(latencies):6d}  p50={statistics.median(latencies):7.1f} ms  "
        f"p90={percentile(latencies, 90):7.1f} ms  p99={percentile(latencies, 99):7.1f} ms  "
        f"max={max(latencies):7.1f} ms  errors={errors}"
    )


def main() -> None:  # noqa: PLR0915  (one script, read top to bottom)
    if sys.argv[1:2] == ["--probe"]:
        base, path, token, seconds = sys.argv[2:6]
        latencies, errors = probe(base, path, token, float(seconds))
        print(json.dumps({"latencies": latencies, "errors": errors}))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pdf-clients", type=int, default=4)
    parser.add_argument("--login-clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="quiet and flood phases, in turn")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-flood-"))
    env = {**os.environ, "FUSIONWATCH_DATABASE_URL": f"sqlite:///{folder / 'flood.sqlite3'}"}
    for user in ("bench", "flood"):
        cli({**env, "FUSIONWATCH_NEW_PASSWORD": PASSWORD}, "users", "add", user)
    cli(env, "teams", "create", "bench-team")
    cli(env, "teams", "add-member", "bench-team", "bench")
    token = cli(env, "tokens", "create", "--user", "bench", "--scope", "read", "--scope", "write")
    port = free_port()
    command = [sys.executable, "-m", "fusionwatch", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(args.workers)], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base)
        patient = json.loads(request(base, "/api/v1/patients", token, {"display_name": "Bench"}))
        path = f"/api/v1/patients/{patient['id']}"
        request(base, path + "/assessments", token, {"case": CASE})
        probe(base, path, token, 3)  # warm up
        print(
            f"server: {args.workers} worker(s); probe: GET {path} from a process of its own; "
            f"{args.rounds} rounds of {args.seconds:g} s quiet, then {args.seconds:g} s flood"
        )
        quiet: list[float] = []
        loud: list[float] = []
        errors = {"quiet": 0, "flood": 0}
        done = {"pdf": 0, "login": 0, "errors": 0}
        rss_before = rss_during = rss_mb(server.pid)
        for n in range(1, args.rounds + 1):
            latencies, failed = probe_apart(base, path, token, args.seconds)
            print(line(f"quiet {n}", latencies, failed), flush=True)
            quiet, errors["quiet"] = quiet + latencies, errors["quiet"] + failed
            with Flood(base, args.pdf_clients, args.login_clients) as flood:
                time.sleep(2)  # let the flood build up
                latencies, failed = probe_apart(base, path, token, args.seconds)
                rss_during = max(rss_during, rss_mb(server.pid))
            print(line(f"flood {n}", latencies, failed), flush=True)
            loud, errors["flood"] = loud + latencies, errors["flood"] + failed
            done = {key: done[key] + flood.done[key] for key in done}
        print(line("quiet", quiet, errors["quiet"]))
        print(line("flood", loud, errors["flood"]))
        print(
            f"flood: {args.pdf_clients} PDF clients got {done['pdf']} PDFs, "
            f"{args.login_clients} sign-in clients got {done['login']} answers, "
            f"{done['errors']} errors; server memory {rss_before:.0f} -> "
            f"{rss_during:.0f} MB (first worker process)"
        )
        ratio = percentile(loud, 99) / percentile(quiet, 99)
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"p99 flood/quiet = {ratio:.2f} (target <= {TARGET_RATIO:g}): {verdict}")
        print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
