"""``python -m bench fuzz [--quick] [--ws N] [--http N]``: issue 8's abuse run against a live
daphne (tests/conftest.py ``start_daphne``, DEBUG off like ``make run``).

WebSocket: N random messages (default 10,000) of every command type with wrong types, huge
ints, NaN/Infinity, deep nesting, long strings and unknown fields, each with a ``ref``; HTTP:
N requests (default 2,000) to the site's pages with random query strings.  Meanwhile another
learner watches their own lab.  Prints: answered/sent, sockets closed by the server, HTTP 5xx,
tracebacks in the daphne log, that learner's longest frame gap, daphne's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from random import Random

from bench.live_bench import WSClient, new_session_cookie

TYPES = ["ping", "resync", "pause", "resume", "step", "speed", "reset", "preset", "config",
         "workload", "fault", "nope"]
FIELDS = ["value", "count", "seed", "id", "set", "unset", "rate", "value_bytes", "threads",
          "keys", "data", "topic", "op", "broker", "extra_ms", "have", "zzz"]
PAGES = ["/", "/lab/", "/lab/embed/default/", "/export/", "/incident/", "/debug/", "/quiz/",
         "/accounts/login/", "/no/such/page/", "/lab/validate/"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def junk(rng: Random, depth: int = 0):
    pick = rng.randrange(11)
    if pick == 0:
        return 10 ** rng.randrange(20, 400) * rng.choice((1, -1))
    if pick == 1:
        return rng.choice((float("nan"), float("inf"), float("-inf"), 1e308, -0.0))
    if pick == 2:
        return rng.choice((True, False, None))
    if pick == 3:
        return "x" * rng.choice((0, 1, 65, 300, 5000))
    if pick == 4 and depth < 3:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    if pick == 5 and depth < 3:
        return {rng.choice(FIELDS + ["linger.ms", "value.serializer"]): junk(rng, depth + 1)}
    if pick == 6:
        nest: object = 1
        for _ in range(rng.choice((10, 100, 500))):
            nest = [nest]
        return nest
    if pick == 7:
        return rng.choice(("NaN", "Infinity", "os.system", "shutil.rmtree", "-1", "1e400"))
    return rng.randrange(-5, 2000)


def fuzz_message(rng: Random, ref: int) -> dict:
    msg: dict = {"type": rng.choice(TYPES), "ref": ref}
    for _ in range(rng.randrange(3)):
        msg[rng.choice(FIELDS)] = junk(rng)
    return msg


async def watcher(port: int, cookie: str, stop: asyncio.Event) -> dict:
    ws = await WSClient.connect("127.0.0.1", port, "/ws/lab/main/", cookie)
    last, worst, frames = time.perf_counter(), 0.0, 0
    while not stop.is_set():
        try:
            text = await asyncio.wait_for(ws.recv(), 5)
        except TimeoutError:
            text = ""
        now = time.perf_counter()
        if '"type": "frame"' in text or '"type": "delta"' in text or '"type":"delta"' in text \
                or '"type":"frame"' in text:
            worst, last, frames = max(worst, now - last), now, frames + 1
    ws.close()
    return {"worst_gap_s": worst, "frames": frames}


async def ws_fuzz(port: int, cookie: str, total: int, sockets: int, seed: int) -> dict:
    rng = Random(seed)
    answered, closed = 0, 0
    per = total // sockets

    async def one(k: int) -> None:
        nonlocal answered, closed
        ws = await WSClient.connect("127.0.0.1", port, "/ws/lab/main/", cookie)
        want = set(range(k * per, (k + 1) * per))
        sent = []
        for ref in sorted(want):
            try:
                await ws.send(fuzz_message(rng, ref))
            except (ValueError, RecursionError):  # not encodable here: answer a ping
                await ws.send({"type": "ping", "ref": ref})
            sent.append(ref)
        deadline = time.monotonic() + 60
        got = set()
        while got != want and time.monotonic() < deadline:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            except TimeoutError:
                break
            except ConnectionError:
                closed += 1
                break
            if msg.get("type") in ("ack", "error", "pong", "frame") and msg.get("ref") in want:
                got.add(msg["ref"])
        answered += len(got)
        ws.close()

    await asyncio.gather(*(one(k) for k in range(sockets)))
    return {"sent": per * sockets, "answered": answered, "closed_by_server": closed}


def http_fuzz(base: str, total: int, seed: int) -> dict:
    rng = Random(seed)
    codes: dict[int, int] = {}
    for _ in range(total):
        params = {rng.choice(["linger.ms", "batch.size", "interceptor.classes", "text",
                              "preset", "bootstrap.servers", "x"]): str(junk(rng))[:3000]
                  for _ in range(rng.randrange(4))}
        url = base + rng.choice(PAGES) + "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                code = resp.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except OSError:
            code = 0  # connection dropped
        codes[code] = codes.get(code, 0) + 1
    return codes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench fuzz")
    ap.add_argument("--quick", action="store_true", help="1,000 WS + 200 HTTP (< 1 min)")
    ap.add_argument("--ws", type=int, default=10_000)
    ap.add_argument("--http", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args(argv)
    n_ws, n_http = (1_000, 200) if args.quick else (args.ws, args.http)
    from tests.conftest import start_daphne

    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_daphne(Path(tmp))
        port = int(base.rsplit(":", 1)[1])
        try:
            result = asyncio.run(_run(base, port, proc.pid, n_ws, n_http, args.seed))
        finally:
            proc.terminate()
            proc.wait(10)
        log = next(Path(tmp).glob("daphne-*.log")).read_text()
    result["tracebacks_in_log"] = log.count("Traceback")
    if "Traceback" in log:
        at = log.index("Traceback")
        print(log[at:at + 3000])
    print(json.dumps(result, indent=2))
    bad = (result["http_codes"].get("500", 0) or result["tracebacks_in_log"]
           or result["ws"]["closed_by_server"] or result["ws"]["answered"] < result["ws"]["sent"])
    print("FAIL" if bad else "OK", "(measured on a shared machine: numbers are under load)")
    return 1 if bad else 0


async def _run(base: str, port: int, pid: int, n_ws: int, n_http: int, seed: int) -> dict:
    other = new_session_cookie(base)
    mine = new_session_cookie(base)
    stop = asyncio.Event()
    watch = asyncio.create_task(watcher(port, other, stop))
    await asyncio.sleep(2)
    rss_start = rss_kib(pid)
    ws = await ws_fuzz(port, mine, n_ws, 4, seed)
    rss_mid = rss_kib(pid)
    codes = await asyncio.to_thread(http_fuzz, base, n_http, seed)
    rss_end = rss_kib(pid)
    stop.set()
    seen = await watch
    return {"ws": ws, "http_codes": {str(k): v for k, v in sorted(codes.items())},
            "other_learner": seen, "rss_kib": {"after_warmup": rss_start, "after_ws": rss_mid,
                                               "after_http": rss_end}}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
