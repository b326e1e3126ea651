"""Issue 7's load test: ``python -m bench classroom [--quick] [--learners 30] [--only N]``.

An independent load client against one daphne subprocess (and its worker), with real
sessions and real WebSockets: each learner is a cookie jar that loads the page over HTTP like
a browser (``bench.wsclient.Browser``), reads the socket the page names (``data-ws``) or the
embedded labs it contains (``<iframe>``), and opens it with its session cookie and the page's
Origin.  Nothing is measured inside the server; the client counts what arrives.

1. N learners (default 30) on the default preset: frames/s per learner, effective speed
   (virtual ms per wall ms, from the frames' ``now_ms``), command acknowledgements p50/p95
   (each learner changes ``linger.ms`` every 2 s and times its ``ack``);
2. every embedded lab of the debug-this and common-mistake pages starts, with 1 and with 10
   learners on the page at once;
3. each 100,000 records/s preset, alone: effective speed;
4. while four incident replays run in the worker: another learner's lab speed and page-load
   p95.

Targets are printed beside the numbers.  The client runs on the same machine as the server
(the bench says how much CPU daphne got); on a shared machine every number is under load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.wsclient import Browser, cpu_seconds, percentile, rss_kib

TARGETS = {"fps": 18.0, "speed": 0.95, "ack_p95_ms": 150.0, "replay_speed": 0.9,
           "page_p95_ms": 100.0}
_NOW_DELTA = re.compile(r'"now_ms":\{"=":(\d+)\}')
_NOW_FULL = re.compile(r'"now_ms":(\d+)')
_REF = re.compile(r'"ref":\s*"(c[0-9]+)"')


class Learner:
    """One browser tab on one lab: counts frames, follows virtual time, times acks."""

    def __init__(self, browser: Browser, ws_path: str) -> None:
        self.browser, self.ws_path = browser, ws_path
        self.frames = 0
        self.now_ms: int | None = None
        self.first = asyncio.get_running_loop().create_future()
        self.waiting: dict[str, tuple[float, asyncio.Future]] = {}
        self.ws = None
        self.task = None
        self.error: str | None = None

    async def start(self) -> None:
        self.ws = await self.browser.open_lab(self.ws_path)
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                text = await self.ws.recv()
                if text.startswith('{"type":"delta"'):
                    m = _NOW_DELTA.search(text, 0, 400)
                elif text.startswith(('{"type":"frame"', '{"ref":')) and '"full":true' in text[:80]:
                    m = _NOW_FULL.search(text)
                else:
                    if text.startswith('{"type":"error"') and not self.first.done():
                        self.error = text[:300]
                        self.first.set_result(False)
                    m = _REF.search(text)
                    if m and m.group(1) in self.waiting:
                        sent, fut = self.waiting.pop(m.group(1))
                        if not fut.done():
                            fut.set_result((time.perf_counter() - sent) * 1000)
                    continue
                self.frames += 1
                if m:
                    self.now_ms = int(m.group(1))
                if not self.first.done():
                    self.first.set_result(True)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            if not self.first.done():
                self.error = repr(exc)
                self.first.set_result(False)

    async def command(self, msg: dict, ref: str, timeout: float = 10.0) -> float | None:
        fut = asyncio.get_running_loop().create_future()
        self.waiting[ref] = (time.perf_counter(), fut)
        await self.ws.send({**msg, "ref": ref})
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None

    def stop(self) -> None:
        if self.task:
            self.task.cancel()
        if self.ws:
            self.ws.close()


async def open_learners(base: str, n: int, page: str = "/lab/") -> list[Learner]:
    learners = []
    for _ in range(n):
        browser = Browser(base)
        status, body, _ = await asyncio.to_thread(browser.get, page)
        assert status == 200, (page, status)
        learner = Learner(browser, Browser.ws_path(body))
        await learner.start()
        learners.append(learner)
    return learners


async def measure(learners: list[Learner], seconds: float, pid: int,
                  commands: bool = True) -> dict:
    """Frames/s, effective speed and ack latencies over ``seconds`` of wall time."""
    started = await asyncio.gather(*(asyncio.wait_for(x.first, 120) for x in learners))
    await asyncio.sleep(3.0)  # warm up: every lab running, first commands out of the way
    f0 = [x.frames for x in learners]
    v0 = [x.now_ms or 0 for x in learners]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    acks: list[float | None] = []

    async def chatter(k: int, x: Learner) -> None:
        await asyncio.sleep(2.0 * k / max(1, len(learners)))  # staggered, as people are
        i = 0
        while time.perf_counter() - t0 < seconds - 2.0:
            i += 1
            acks.append(await x.command({"type": "config", "set": {"linger.ms": 5 + i % 2}},
                                        f"c{k * 100000 + i}"))
            await asyncio.sleep(2.0)

    jobs = [chatter(k, x) for k, x in enumerate(learners)] if commands else []
    await asyncio.gather(asyncio.sleep(seconds), *jobs)
    wall = time.perf_counter() - t0
    fps = [(x.frames - f) / wall for x, f in zip(learners, f0)]
    speeds = [((x.now_ms or 0) - v) / (wall * 1000) for x, v in zip(learners, v0)]
    done = [a for a in acks if a is not None]
    return {"learners": len(learners), "started": sum(started),
            "fps_median": statistics.median(fps), "fps_min": min(fps),
            "speed_median": statistics.median(speeds), "speed_min": min(speeds),
            "acks": len(acks), "acks_lost": len(acks) - len(done),
            "ack_p50_ms": percentile(done, 50), "ack_p95_ms": percentile(done, 95),
            "daphne_cpu": (cpu_seconds(pid) - cpu0) / wall, "rss_mib": rss_kib(pid) / 1024}


def close(learners: list[Learner]) -> None:
    for x in learners:
        x.stop()


async def embedded_pages(base: str, pages: list[str], n: int) -> list[dict]:
    """Each page loaded by ``n`` learners at once; does every embedded lab start?"""
    out = []
    for page in pages:
        browsers = [Browser(base) for _ in range(n)]
        labs = []
        for b in browsers:
            _, body, _ = await asyncio.to_thread(b.get, page)
            for src in Browser.embeds(body):
                _, embed, _ = await asyncio.to_thread(b.get, src)
                labs.append(Learner(b, Browser.ws_path(embed)))
        t0 = time.perf_counter()
        await asyncio.gather(*(x.start() for x in labs))
        ok = await asyncio.gather(*(asyncio.wait_for(x.first, 120) for x in labs),
                                  return_exceptions=True)
        out.append({"page": page, "learners": n, "labs": len(labs),
                    "started": sum(1 for r in ok if r is True),
                    "all_started_s": time.perf_counter() - t0,
                    "errors": [x.error for x in labs if x.error][:2]})
        close(labs)
        await asyncio.sleep(1.0)
    return out


def heavy_presets() -> list[str]:
    from producer_core import presets

    return [p for p in presets.names()
            if sum(int(w.get("rate") or 0) for w in presets.load(p).get("workload") or [])
            >= 100_000]


async def replays_and_another_learner(base: str, pid: int, seconds: float) -> dict:
    """Four incident replays queued for the worker; meanwhile a learner's lab and page loads."""
    fix = {"fix": "max.block.ms=1000\ndelivery.timeout.ms=30000\nrequest.timeout.ms=10000"}
    posters = [Browser(base) for _ in range(4)]
    jobs = []
    for b in posters:
        _status, where, _ = await asyncio.to_thread(b.post, "/incident/", fix)
        job = re.search(r"job=([0-9a-f-]{36})", where)
        jobs.append((b, job.group(1) if job else None))
    learner = (await open_learners(base, 1))[0]
    pages, loads = Browser(base), []
    stop = time.perf_counter() + seconds + 3.0

    async def load_pages() -> None:
        while time.perf_counter() < stop:
            for path in ("/lab/", "/", "/incident/"):
                _, _, took = await asyncio.to_thread(pages.get, path)
                loads.append(took * 1000)
            await asyncio.sleep(0.2)

    loader = asyncio.get_running_loop().create_task(load_pages())
    r = await measure([learner], seconds, pid, commands=False)
    await loader
    states = []
    for b, job in jobs:
        if job:
            _, body, _ = await asyncio.to_thread(b.get, f"/jobs/{job}/")
            states.append(re.search(r'"status":\s*"(\w+)"', body).group(1))
    close([learner])
    return {"speed": r["speed_median"], "fps": r["fps_median"],
            "page_p50_ms": percentile(loads, 50), "page_p95_ms": percentile(loads, 95),
            "page_loads": len(loads), "jobs": states}


def _mark(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


async def _run(base: str, pid: int, args) -> int:
    n, seconds = args.learners, args.seconds
    parts = set(args.only or (1, 2, 3, 4))
    print(f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"client and server share it)")
    if 1 in parts:
        await _learners_on_default(base, pid, n, seconds)
    if 2 in parts:
        await _embedded(base, args.quick)
    if 3 in parts:
        await _heavy_alone(base, pid, seconds)
    if 4 in parts:
        await _replays(base, pid, seconds)
    print("(numbers from a shared machine are under load: re-measure on a quiet one)")
    return 0


def engine_floor(preset: str, virtual_s: float = 2.0, repeat: int = 3) -> float:
    """Cores one lab of ``preset`` needs at 1× for its engine alone: the records a run of
    it sends, sent by a plain ``send()`` loop at the same virtual instants, then
    ``flush()`` (``bench live-cost``'s "plain" side: the same batches, requests and broker
    work, without threads, frames or sockets), CPU per virtual second; the least of
    ``repeat`` runs."""
    from bench.live_cost_bench import capture, plain_paced

    records = capture(preset, int(virtual_s * 1000))
    return min(plain_paced(preset, records) for _ in range(repeat)) / virtual_s


async def _learners_on_default(base: str, pid: int, n: int, seconds: float) -> None:
    from courseware.lab.session import DEFAULT_PRESET

    print(f"== 1. {n} learners on the default preset, {seconds:g} s")
    floor = engine_floor(DEFAULT_PRESET)
    print(f"  the engine alone (a plain send() loop, bench live-cost) needs {100 * floor:.0f}% of "
          f"a core per lab at 1x: {n} labs need {n * floor:.2f} cores before any frame, "
          f"socket or client; this machine has {os.cpu_count()}")
    learners = await open_learners(base, n)
    r = await measure(learners, seconds, pid)
    close(learners)
    print(f"  started {r['started']}/{r['learners']}; frames/s per learner median "
          f"{r['fps_median']:.1f}, min {r['fps_min']:.1f} (target >= {TARGETS['fps']:g}) "
          f"{_mark(r['fps_min'] >= TARGETS['fps'])}")
    print(f"  effective speed median {r['speed_median']:.2f}x, min {r['speed_min']:.2f}x "
          f"(target >= {TARGETS['speed']:g}x) {_mark(r['speed_min'] >= TARGETS['speed'])}")
    print(f"  command ack p50 {r['ack_p50_ms']:.0f} ms, p95 {r['ack_p95_ms']:.0f} ms (target "
          f"p95 <= {TARGETS['ack_p95_ms']:g} ms, goal 50) of {r['acks']} acks, "
          f"{r['acks_lost']} unanswered in 10 s {_mark(r['ack_p95_ms'] <= TARGETS['ack_p95_ms'])}")
    print(f"  daphne used {100 * r['daphne_cpu']:.0f}% of a core; RSS {r['rss_mib']:.0f} MiB")
    await asyncio.sleep(2.0)


async def _embedded(base: str, quick: bool) -> None:
    print("== 2. every embedded lab of the debug-this and common-mistake pages starts")
    home = Browser(base)
    pages = []
    for index in ("/debug/", "/mistakes/"):
        _, body, _ = await asyncio.to_thread(home.get, index)
        pages += sorted(set(re.findall(rf'href="({index}[a-z0-9-]+/)"', body)))
    if quick:
        pages = pages[:2]
    for k in (1, 10):
        for row in await embedded_pages(base, pages, k):
            print(f"  {row['page']:<32} {k:>2} learner(s): {row['started']}/{row['labs']} labs "
                  f"started (all within {row['all_started_s']:.1f} s) "
                  f"{_mark(row['started'] == row['labs'])} {row['errors'] or ''}")


async def _heavy_alone(base: str, pid: int, seconds: float) -> None:
    print("== 3. each 100,000 records/s preset alone")
    for preset in heavy_presets():
        x = await open_learners(base, 1, f"/lab/?preset={preset}")
        r = await measure(x, min(seconds, 10.0), pid, commands=False)
        close(x)
        print(f"  {preset:<30} effective speed {r['speed_median']:.2f}x (target >= "
              f"{TARGETS['speed']:g}x) {_mark(r['speed_median'] >= TARGETS['speed'])}; "
              f"{r['fps_median']:.1f} frames/s; daphne {100 * r['daphne_cpu']:.0f}% of a core")
        await asyncio.sleep(1.0)


async def _replays(base: str, pid: int, seconds: float) -> None:
    print("== 4. while four incident replays run in the worker")
    r = await replays_and_another_learner(base, pid, min(seconds, 15.0))
    print(f"  another learner's lab: {r['speed']:.2f}x (target >= {TARGETS['replay_speed']:g}x) "
          f"{_mark(r['speed'] >= TARGETS['replay_speed'])}, {r['fps']:.1f} frames/s")
    print(f"  page loads: p50 {r['page_p50_ms']:.0f} ms, p95 {r['page_p95_ms']:.0f} ms (target "
          f"< {TARGETS['page_p95_ms']:g} ms) {_mark(r['page_p95_ms'] < TARGETS['page_p95_ms'])} "
          f"over {r['page_loads']} loads; the replay jobs then: {r['jobs']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench classroom", description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--quick", action="store_true", help="10 learners, 8 s, two pages")
    ap.add_argument("--only", type=int, action="append", choices=(1, 2, 3, 4), default=None,
                    help="run only this part (repeatable); default: all four")
    args = ap.parse_args(argv)
    if args.quick:
        args.learners, args.seconds = min(args.learners, 10), min(args.seconds, 8.0)
    from tests.conftest import start_daphne, stop_process

    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_daphne(Path(tmp))
        try:
            return asyncio.run(_run(base, proc.pid, args))
        finally:
            stop_process(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
