"""``python -m bench fuzz [--quick] [--ws N] [--http N]``: issue 8's abuse run against a live
daphne and its worker (tests/conftest.py ``start_daphne``, DEBUG off like ``make run``, the
default limits).

WebSocket: N messages (default 10,000) of every command type with wrong types, huge ints,
NaN/Infinity, deep nesting, long and oversized strings and unknown fields, each with a
``ref``, from several learners (a session each, paced near their budget) and one flooding
learner (as fast as the socket goes).  HTTP: N requests (default 2,000) — GETs with junk
query strings (up to 60 KB) to the site's pages and form POSTs with junk fields and a real
CSRF token.  Meanwhile another learner watches their own lab.

Prints, beside the targets: answered/sent, sockets closed by the server (with the message
that preceded the close), HTTP 5xx and dropped connections, tracebacks in the daphne log, the
other learner's longest frame gap, and daphne's RSS: the curve, and at rest (the fuzzers'
sockets closed, their labs reaped) before and after the fuzz, which must be flat — while the
fuzz runs, RSS steps up whenever a fuzzed config makes one of the labs heavy, bounded by the
labs' caps.  ``tests/web/test_fuzz_live.py`` runs ``run()`` and asserts the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from random import Random

from bench.soak_bench import REST_IDLE_SECONDS, REST_S
from bench.wsclient import Browser, WSClient, rss_kib

TYPES = ["ping", "resync", "pause", "resume", "step", "speed", "reset", "preset", "config",
         "workload", "fault", "nope"]
FIELDS = ["value", "count", "seed", "id", "set", "unset", "rate", "value_bytes", "threads",
          "keys", "data", "topic", "op", "broker", "extra_ms", "have", "zzz", "partitions",
          "pattern", "error", "duration_ms", "partition"]
# Plausible values, so that valid commands (and their costs) are fuzzed too.  Light presets
# and rates only: a heavy lab's memory is bounded by its buffer.memory (records wait in the
# accumulator: ~120 MiB for a full 32 MiB pool), so how many labs the dice make heavy at once
# would decide RSS, not leaks; ``bench soak`` drives every preset, heavy ones included.
GOOD = {"value": [0.01, 0.5, 1, 10], "count": [1, 10, 1000], "seed": [1, 7],
        "id": ["lesson-flow", "kafka-defaults", "low-latency", "lesson-linger"],
        "rate": [100, 2000], "value_bytes": [10, 300, 4096, 16384],
        "data": ["text", "random", "json-users"], "keys": ["zipf:100", "uniform:100000"],
        "topic": ["orders", "other", "x"], "op": ["stop_broker", "slow_broker", "fail_next"],
        "broker": [1, 2, 9], "set": [{"linger.ms": 50}, {"batch.size": 2147483647},
                                     {"value.serializer": "shutil.rmtree"}]}
PAGES = ["/", "/lab/", "/lab/embed/kafka-defaults/", "/lab/embed/lesson-flow/", "/export/",
         "/incident/", "/debug/", "/debug/throughput-drop/", "/quiz/", "/lessons/",
         "/mistakes/", "/compression/", "/accounts/login/", "/no/such/page/", "/lab/validate/",
         "/jobs/00000000-0000-0000-0000-000000000000/", "/room/"]
POSTS = ["/lab/validate/", "/debug/throughput-drop/", "/incident/"]
PARAMS = ["linger.ms", "batch.size", "interceptor.classes", "value.serializer", "text",
          "preset", "bootstrap.servers", "x", "data", "fix", "causes", "job", "code"]
TARGETS = {"answered": "= sent", "closed_by_server": "0", "http_5xx": "0",
           "http_dropped": "0", "tracebacks": "0", "other_gap_s": "< 1.0",
           "other_gap_loop_cpu_s": "< 1.0",
           "rss_growth_after_warmup_mib": "(shown)",
           "rss_growth_at_rest_mib": "< 32 (flat)"}
RSS_FLAT_MIB = 32


def junk(rng: Random, depth: int = 0):
    pick = rng.randrange(12)
    if pick == 0:
        return 10 ** rng.randrange(20, 400) * rng.choice((1, -1))
    if pick == 1:
        return rng.choice((float("nan"), float("inf"), float("-inf"), 1e308, -0.0))
    if pick == 2:
        return rng.choice((True, False, None))
    if pick == 3:
        return "x" * rng.choice((0, 1, 65, 300, 5000, 9000))
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
        return rng.choice(("NaN", "Infinity", "os.system", "shutil.rmtree", "-1", "1e400",
                           "builtins.exec", "subprocess.Popen"))
    return rng.randrange(-5, 2000)


def fuzz_message(rng: Random, ref: int) -> dict:
    msg: dict = {"type": rng.choice(TYPES), "ref": ref}
    for _ in range(rng.randrange(3)):
        name = rng.choice(FIELDS)
        # half the time a plausible value, so valid commands (and their costs) are fuzzed too
        msg[name] = rng.choice(GOOD[name]) if name in GOOD and rng.random() < 0.5 \
            else junk(rng)
    return msg


def _encode(msg: dict) -> str:
    try:
        return json.dumps(msg)
    except (ValueError, RecursionError):
        return json.dumps({"type": "ping", "ref": msg["ref"]})


class Sampler:
    """daphne's RSS every half second: the curve the report prints."""

    def __init__(self, pid: int) -> None:
        self.pid, self.t0, self.samples = pid, time.monotonic(), []
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic() - self.t0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.samples.append((time.monotonic() - self.t0, rss_kib(self.pid)))
            await asyncio.sleep(0.5)

    def at(self, t: float) -> int:
        return min(self.samples, key=lambda s: abs(s[0] - t))[1]


def loop_cpu_s(pid: int) -> float:
    """CPU seconds of a process's main thread (daphne's event loop runs there)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _watch_process(base: str, out, started, stop, pid: int | None = None) -> None:
    """The other learner runs in its own process: the fuzzers' and the HTTP threads' CPU in
    this one must not delay its reads (that would be the client's gap, not the server's)."""
    async def go() -> dict:
        flag = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watcher(Browser(base), flag, started,
                                                              pid))
        while not stop.is_set():
            await asyncio.sleep(0.2)
        flag.set()
        return await task
    out.put(asyncio.run(go()))


async def watcher(browser: Browser, stop: asyncio.Event, started, pid: int | None = None) -> dict:
    """Another learner on their own lab: the longest gap between two frames, in wall time and
    in the CPU time daphne's event loop used meanwhile.  On a machine shared with other work
    a long wall gap with little loop CPU is the OS's doing; a long CPU gap is the server's
    (work that blocked the loop)."""
    ws = await browser.open_lab("/ws/lab/main/")
    last, worst, frames, slow, t0 = None, 0.0, 0, [], time.time()
    cpu_last, cpu_worst = None, 0.0
    pinged = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - pinged > 20:  # as lab.js does: a silent viewer is dropped at 90 s
            pinged = time.monotonic()
            await ws.send({"type": "ping"})
        try:
            text = await asyncio.wait_for(ws.recv(), 1)
        except TimeoutError:
            text = ""
        now = time.perf_counter()
        if text.startswith(('{"type":"delta"', '{"type":"frame"', '{"type": "frame"')):
            if last is not None:
                worst = max(worst, now - last)
                if now - last > 0.5:
                    slow.append((round(time.time() - t0, 1), round(now - last, 2)))
            last, frames = now, frames + 1
            if pid is not None:
                cpu = loop_cpu_s(pid)
                if cpu_last is not None:
                    cpu_worst = max(cpu_worst, cpu - cpu_last)
                cpu_last = cpu
            started.set()
        elif last is not None:
            worst = max(worst, now - last)
    ws.close()
    return {"worst_gap_s": round(worst, 3), "worst_gap_loop_cpu_s": round(cpu_worst, 3),
            "frames": frames, "gaps_over_half_s": slow[:20], "load_avg": os.getloadavg()}


async def fuzz_socket(ws: WSClient, refs: range, rng: Random, per_s: float | None) -> dict:
    """Send one message per ref (paced at ``per_s``, or as fast as possible) and collect the
    answer to each."""
    got: dict = {}
    last_sent: dict = {"text": ""}
    closed: list = []

    async def read() -> None:
        while True:
            try:
                msg = json.loads(await ws.recv())
            except ConnectionError:
                closed.append({"code": ws.close_code, "after": last_sent["text"][:300]})
                return
            except Exception as exc:  # noqa: BLE001 - a broken stream is a failure too
                closed.append({"code": None, "error": repr(exc)[:200],
                               "after": last_sent["text"][:300]})
                return
            if msg.get("type") in ("ack", "error", "pong", "frame") and msg.get("ref") in refs:
                got[msg["ref"]] = got.get(msg["ref"], 0) + 1

    reader = asyncio.get_running_loop().create_task(read())
    t0 = time.monotonic()
    for k, ref in enumerate(refs):
        text = _encode(fuzz_message(rng, ref))
        last_sent["text"] = text
        try:
            await ws.send_text(text)
        except ConnectionError:
            break
        if per_s:
            delay = t0 + (k + 1) / per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    # wait while answers keep coming; 20 s without any is a lost answer, not a slow one
    seen, quiet_since = len(got), time.monotonic()
    while len(got) < len(refs) and not closed and time.monotonic() - quiet_since < 20:
        await asyncio.sleep(0.1)
        if len(got) != seen:
            seen, quiet_since = len(got), time.monotonic()
    reader.cancel()
    ws.close()
    return {"sent": len(refs), "answered": len(got),
            "answered_twice": sum(1 for n in got.values() if n > 1),
            "unanswered": sorted(set(refs) - set(got))[:10], "closed": closed}


async def ws_fuzz(browsers: list[Browser], total: int, seed: int, per_s: float = 18.0) -> dict:
    """The first browsers (sessions) paced at ``per_s`` each (their budget is 20/s) share 80%
    of the messages; the last one floods the other 20% as fast as it can."""
    rng = Random(seed)
    learners = len(browsers) - 1
    flood_n = total // 5
    paced_n = (total - flood_n) // learners
    jobs, start = [], 0
    for i, b in enumerate(browsers):
        n = flood_n if i == learners else paced_n
        path = "/ws/lab/main/?preset=lesson-flow" if i % 2 else "/ws/lab/embed-lesson-flow/"
        ws = await b.open_lab(path)
        jobs.append(fuzz_socket(ws, range(start, start + n), Random(rng.random()),
                                None if i == learners else per_s))
        start += n
    results = await asyncio.gather(*jobs)
    return {"sent": sum(r["sent"] for r in results),
            "answered": sum(r["answered"] for r in results),
            "answered_twice": sum(r["answered_twice"] for r in results),
            "unanswered_examples": [u for r in results for u in r["unanswered"]][:10],
            "closed_by_server": [c for r in results for c in r["closed"]]}


def _http_one(browser: Browser, rng: Random) -> int:
    if rng.random() < 0.15:
        path = rng.choice(POSTS)
        data = {rng.choice(PARAMS): str(junk(rng))[:3000] for _ in range(rng.randrange(1, 4))}
        code, _, _ = browser.post(path, data)
        return code
    params = {rng.choice(PARAMS): str(junk(rng))[:3000] for _ in range(rng.randrange(4))}
    if rng.random() < 0.02:
        params["x"] = "y" * 60_000  # a 60 KB query string
    query = urllib.parse.urlencode(params)
    try:
        code, _, _ = browser.get(rng.choice(PAGES) + ("?" + query if query else ""))
    except OSError:
        code = 0  # the connection dropped
    return code


def http_fuzz(base: str, total: int, seed: int, threads: int = 4) -> dict:
    codes: dict[int, int] = {}

    def worker(k: int) -> None:
        rng, browser = Random(seed * 100 + k), Browser(base)
        for _ in range(total // threads):
            try:
                code = _http_one(browser, rng)
            except OSError:
                code = 0
            codes[code] = codes.get(code, 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return {str(k): v for k, v in sorted(codes.items())}


async def _run(base: str, pid: int, n_ws: int, n_http: int, seed: int) -> dict:
    sampler, stop = Sampler(pid), asyncio.Event()
    sampling = asyncio.get_running_loop().create_task(sampler.run(stop))
    ctx = mp.get_context("spawn")
    out, started, stopped = ctx.Queue(), ctx.Event(), ctx.Event()
    watch = ctx.Process(target=_watch_process, args=(base, out, started, stopped, pid),
                        daemon=True)
    watch.start()
    await asyncio.to_thread(started.wait, 60)
    # The same learners throughout: warm-up builds their labs and every preset the fuzz may
    # switch to and loads every page — half the fuzz, with another seed (a twentieth, as
    # it was first, also missed rarer messages: it found an allocation error that broke a
    # lab's step).  RSS after it still steps up whenever a fuzzed config makes one of the
    # eleven labs heavy (up to 100,000 records/s into small batches fills a pool of up to
    # buffer.memory); ``python -m bench soak --rest`` measures flatness where that is
    # controlled.
    browsers = [Browser(base) for _ in range(11)]
    await ws_fuzz(browsers, max(200, n_ws // 2), seed + 1)
    await asyncio.to_thread(http_fuzz, base, max(100, n_http // 4), seed + 1)
    # At rest (the fuzzers' sockets closed, daphne has reaped their labs): what the process
    # comes back to, before and after the fuzz, must be the same — nothing the fuzz did
    # stays behind.
    await asyncio.sleep(REST_S)
    rest_before = rss_kib(pid)
    sampler.mark("warm")
    ws = await ws_fuzz(browsers, n_ws, seed)
    sampler.mark("ws")
    codes = await asyncio.to_thread(http_fuzz, base, n_http, seed)
    sampler.mark("http")
    await asyncio.sleep(REST_S)
    rest_after = rss_kib(pid)
    stop.set()
    stopped.set()
    seen = await asyncio.to_thread(out.get, True, 30)
    watch.join(10)
    await sampling
    warm = sampler.at(sampler.marks["warm"])
    after = [kib for t, kib in sampler.samples if t >= sampler.marks["warm"]]
    return {"ws": ws, "http_codes": codes, "other_learner": seen,
            "rss_mib": {"after_warmup": round(warm / 1024, 1),
                        "max_after_warmup": round(max(after) / 1024, 1),
                        "end": round(after[-1] / 1024, 1),
                        "growth_after_warmup": round((max(after) - warm) / 1024, 1),
                        "at_rest": [round(rest_before / 1024, 1), round(rest_after / 1024, 1)],
                        "growth_at_rest": round((rest_after - rest_before) / 1024, 1)},
            "rss_curve_mib": [(round(t, 1), round(kib / 1024, 1))
                              for t, kib in sampler.samples[::4]],
            "marks_s": {k: round(v, 1) for k, v in sampler.marks.items()}}


def run(n_ws: int = 10_000, n_http: int = 2_000, seed: int = 8,
        tmp: Path | None = None, env: dict | None = None) -> dict:
    """The whole run against a fresh daphne + worker; returns the figures (and ``ok``)."""
    from tests.conftest import start_daphne, stop_process

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(tmp or scratch)
        # labs nobody watches are reaped within seconds, so the fuzz can measure at rest
        env = {"LAB_IDLE_SECONDS": str(REST_IDLE_SECONDS), **(env or {})}
        proc, base = start_daphne(tmp, extra_env=env)
        t0 = time.monotonic()
        try:
            result = asyncio.run(_run(base, proc.pid, n_ws, n_http, seed))
        finally:
            stop_process(proc)
        result["seconds"] = round(time.monotonic() - t0, 1)
        log = next(tmp.glob("daphne-*.log")).read_text(errors="replace")
    result["tracebacks"] = log.count("Traceback")
    result["first_traceback"] = log[log.index("Traceback"):][:3000] if "Traceback" in log else ""
    codes = result["http_codes"]
    result["failures"] = [name for name, bad in (
        ("answered", result["ws"]["answered"] < result["ws"]["sent"]
         or result["ws"]["answered_twice"]),
        ("closed_by_server", bool(result["ws"]["closed_by_server"])),
        ("http_5xx", any(k.startswith("5") for k in codes)),
        ("http_dropped", bool(codes.get("0"))),
        ("tracebacks", bool(result["tracebacks"])),
        ("other_gap_s", result["other_learner"]["worst_gap_s"] >= 1.0),
        ("other_gap_loop_cpu_s", result["other_learner"]["worst_gap_loop_cpu_s"] >= 1.0),
        ("rss_growth_at_rest_mib",
         result["rss_mib"]["growth_at_rest"] >= RSS_FLAT_MIB)) if bad]
    result["ok"] = not result["failures"]
    return result


def report(r: dict) -> None:
    ws, codes = r["ws"], r["http_codes"]
    five = sum(v for k, v in codes.items() if k.startswith("5"))
    rows = [
        ("answered", f"{ws['answered']:,}/{ws['sent']:,} (twice: {ws['answered_twice']})"),
        ("closed_by_server", str(len(ws["closed_by_server"]))),
        ("http_5xx", f"{five} of {sum(codes.values()):,} requests {codes}"),
        ("http_dropped", str(codes.get("0", 0))),
        ("tracebacks", str(r["tracebacks"])),
        ("other_gap_s", (f"{r['other_learner']['worst_gap_s']:.2f} "
                        f"({r['other_learner']['frames']} frames; load average "
                        f"{r['other_learner']['load_avg'][0]:.1f})")),
        ("other_gap_loop_cpu_s", f"{r['other_learner']['worst_gap_loop_cpu_s']:.2f}"),
        ("rss_growth_after_warmup_mib", (f"{r['rss_mib']['growth_after_warmup']:.1f} "
                                        f"({r['rss_mib']})")),
        ("rss_growth_at_rest_mib", (f"{r['rss_mib']['growth_at_rest']:.1f} "
                                   f"(at rest before and after: {r['rss_mib']['at_rest']})")),
    ]
    for name, value in rows:
        flag = "FAIL" if name in r["failures"] else "ok"
        print(f"  {name:<30} {value:<60} target {TARGETS[name]:<12} {flag}")
    if ws["unanswered_examples"]:
        print("  unanswered refs:", ws["unanswered_examples"])
    for close in ws["closed_by_server"][:5]:
        print("  closed:", close)
    if r["other_learner"].get("gaps_over_half_s"):
        print("  the other learner's gaps > 0.5 s (s since start, gap s):",
              r["other_learner"]["gaps_over_half_s"])
    print("  RSS curve (s, MiB):", " ".join(f"{t:g}:{m:g}" for t, m in r["rss_curve_mib"]))
    print("  phases (s):", r["marks_s"], f"total {r['seconds']} s")
    if r["first_traceback"]:
        print(r["first_traceback"])
    print("OK" if r["ok"] else "FAIL", "(measured on a shared machine: timings are under load)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench fuzz")
    ap.add_argument("--quick", action="store_true", help="1,000 WS + 200 HTTP")
    ap.add_argument("--ws", type=int, default=10_000)
    ap.add_argument("--http", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args(argv)
    n_ws, n_http = (1_000, 200) if args.quick else (args.ws, args.http)
    result = run(n_ws, n_http, args.seed)
    report(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
