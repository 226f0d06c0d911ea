"""Benchmark: POST /api/v1/assess under concurrent load on loopback, measured with wrk.

Run with ``make bench-web`` (or ``uv run python benchmarks/bench_web.py [--workers N]``). It starts
``fusionwatch serve`` on a free port with a throw-away SQLite file, checks one request by hand,
then runs wrk (from Debian's packages) with a Lua script that posts an example case, and prints
requests per second, p50/p90/p99 latency, errors, and whether the issue's targets are met:
>= 1,000 requests/s with p99 <= 50 ms on this 2-core machine. The server and wrk share the cores.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "referral-smoker-mechanical-pain.json"
TARGET_RPS, TARGET_P99_MS = 1000.0, 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FUSIONWATCH_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}"}
    command = [sys.executable, "-m", "fusionwatch", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 30 s")


def check_once(url: str, body: bytes) -> str:
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.loads(response.read())["triage"]["level"])


def run_wrk(url: str, body: bytes, args: argparse.Namespace, folder: Path) -> str:
    script = folder / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s"]
    result = subprocess.run(
        [*command, "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def report(output: str, args: argparse.Namespace) -> None:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    pcts = {p: milliseconds(v) for p, v in re.findall(r"\s(50|90|99)%\s+(\S+)", output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    print(f"wrk: {args.threads} threads, {args.connections} connections, {args.seconds} s")
    print(f"server: fusionwatch serve --workers {args.workers} (uvicorn, uvloop, httptools)")
    print(
        f"requests/s     {rps:10.0f}   (target >= {TARGET_RPS:.0f}: "
        f"{'met' if rps >= TARGET_RPS else 'NOT met'})"
    )
    print(f"latency p50    {pcts['50']:10.2f} ms")
    print(f"latency p90    {pcts['90']:10.2f} ms")
    print(
        f"latency p99    {pcts['99']:10.2f} ms (target <= {TARGET_P99_MS:.0f} ms: "
        f"{'met' if pcts['99'] <= TARGET_P99_MS else 'NOT met'})"
    )
    print(f"non-2xx        {int(errors.group(1)) if errors else 0:10d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench-web does this)")
    body = CASE.read_bytes()
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/assess?as_of=2026-11-23"
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(port, args.workers, Path(folder))
        try:
            print(f"one request by hand: triage = {check_once(url, body)}")
            check_once(url, body)
            report(run_wrk(url, body, args, Path(folder)), args)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
