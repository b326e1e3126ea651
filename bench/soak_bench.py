"""``python -m bench soak [--minutes 60] [--accel 10] [--one-lab] [--quick]``: bounded memory.

Issue 7: one learner (one browser session, like a browser) goes through every page and every
lab again and again for ``--minutes`` of *use*, accelerated ``--accel`` times: pages are read
in a fraction of a second, every lab a page embeds is opened, driven (speed, config changes,
faults, steps, workload changes, a reset, a preset switch) and left, as a learner clicking
through quickly would, and labs run at up to 10× speed.  An hour at ``--accel 10`` takes six
minutes.  Issue 8 (``--one-lab``): one lab, the default preset at 10× virtual speed, with a
command every second, for an hour of virtual time.

daphne's RSS is sampled every few seconds and printed as a curve; after warm-up (the first
pass over every page and lab) it must stay flat: growth under ``FLAT_MIB``.
``tests/web/test_soak_live.py`` runs a short version and asserts that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from random import Random

from bench.wsclient import Browser, WSClient, rss_kib

FLAT_MIB = 32
INDEXES = ("/", "/mistakes/", "/debug/", "/interview/")
PAGES = ("/", "/lab/", "/quiz/", "/incident/", "/export/", "/mistakes/", "/debug/",
         "/interview/", "/room/")


class Curve:
    def __init__(self, pid: int) -> None:
        self.pid, self.t0, self.points = pid, time.monotonic(), []
        self.warm_at: float | None = None

    def sample(self) -> None:
        self.points.append((time.monotonic() - self.t0, rss_kib(self.pid) / 1024))

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass

    def warm(self) -> None:
        self.sample()
        self.warm_at = self.points[-1][0]

    def summary(self) -> dict:
        warm = next(m for t, m in self.points if t >= (self.warm_at or 0))
        after = [m for t, m in self.points if t >= (self.warm_at or 0)]
        return {"start_mib": round(self.points[0][1], 1), "after_warmup_mib": round(warm, 1),
                "max_after_warmup_mib": round(max(after), 1), "end_mib": round(after[-1], 1),
                "growth_after_warmup_mib": round(max(after) - warm, 1)}

    def text(self, width: int = 24) -> str:
        step = max(1, len(self.points) // width)
        return " ".join(f"{t:.0f}s:{m:.0f}" for t, m in self.points[::step])


def site_pages(browser: Browser) -> list[str]:
    """Every course page the site links from its indexes, plus the fixed ones."""
    found = set(PAGES)
    for index in INDEXES:
        _, body, _ = browser.get(index)
        found |= set(re.findall(r'href="(/(?:lessons|mistakes|debug|interview)/[a-z0-9-]+/)"',
                                body))
    return sorted(found)


async def drive(ws: WSClient, rng: Random, seconds: float, accel: float) -> dict:
    """Use one lab for ``seconds`` of wall time: what a learner does, ``accel`` times faster."""
    answered, sent, frames = 0, 0, 0
    ref = 0

    async def read() -> None:
        nonlocal answered, frames
        while True:
            text = await ws.recv()
            if text.startswith(('{"type":"delta"', '{"type":"frame"')):
                frames += 1
            elif '"ref"' in text:
                answered += 1

    reader = asyncio.get_running_loop().create_task(read())
    t0 = time.monotonic()
    while not frames and time.monotonic() - t0 < 60:  # the lab is built: now use it
        await asyncio.sleep(0.05)
    actions = [
        {"type": "speed", "value": 10.0}, {"type": "speed", "value": 0.1},
        {"type": "speed", "value": 1.0},
        {"type": "config", "set": {"linger.ms": 20}}, {"type": "config", "set": {"batch.size": 65536}},
        {"type": "config", "set": {"compression.type": "lz4"}}, {"type": "config", "unset": ["linger.ms"]},
        {"type": "fault", "op": "stop_broker", "broker": 1},
        {"type": "fault", "op": "start_broker", "broker": 1},
        {"type": "fault", "op": "slow_broker", "broker": 2, "extra_ms": 200},
        {"type": "pause"}, {"type": "step", "count": 20}, {"type": "resume"},
        {"type": "workload", "rate": 1000}, {"type": "reset"}, {"type": "resync"},
    ]
    stop = time.monotonic() + seconds
    try:
        await ws.send({"type": "speed", "value": 10.0, "ref": ref})
        sent += 1
        while time.monotonic() < stop:
            await asyncio.sleep(max(0.05, 2.0 / accel))
            ref += 1
            await ws.send({**rng.choice(actions), "ref": ref})
            sent += 1
        t0 = time.monotonic()
        while answered < sent and time.monotonic() - t0 < 15:  # every answer, then leave
            await asyncio.sleep(0.05)
    except ConnectionError:
        pass
    reader.cancel()
    ws.close()
    return {"sent": sent, "answered": answered, "frames": frames}


async def learner_soak(base: str, pid: int, minutes: float, accel: float,
                       seed: int = 7, min_passes: int = 1, rest_s: float = 0.0) -> dict:
    """One learner through every page and lab, again and again.  With ``rest_s``, the
    learner steps away after each pass for that long (daphne reaps the labs nobody
    watches) and the RSS at rest is recorded: what the process comes back to once the
    learner's labs are gone, which must not grow from pass to pass."""
    rng, browser = Random(seed), Browser(base)
    pages = await asyncio.to_thread(site_pages, browser)
    curve, stop = Curve(pid), asyncio.Event()
    sampler = asyncio.get_running_loop().create_task(curve.run(stop, 2.0))
    deadline = time.monotonic() + minutes * 60 / accel
    passes, loads, labs, answered, sent, statuses = 0, 0, 0, 0, 0, {}
    rested: list[float] = []
    while time.monotonic() < deadline or passes < min_passes:
        for page in pages:
            status, body, _ = await asyncio.to_thread(browser.get, page)
            statuses[status] = statuses.get(status, 0) + 1
            loads += 1
            targets = [Browser.ws_path(body)] if page == "/lab/" else []
            for src in Browser.embeds(body):
                _, embed, _ = await asyncio.to_thread(browser.get, src)
                targets.append(Browser.ws_path(embed))
            for ws_path in filter(None, targets):
                ws = await browser.open_lab(ws_path)
                r = await drive(ws, rng, max(1.0, 20.0 / accel), accel)
                labs += 1
                answered += r["answered"]
                sent += r["sent"]
            if passes >= min_passes and time.monotonic() > deadline:
                break
        passes += 1
        if passes == 1:
            curve.warm()  # every page and lab seen once: the process is warm
            print(f"  warm after one pass: {len(pages)} pages, {labs} labs, "
                  f"RSS {curve.points[-1][1]:.0f} MiB", flush=True)
        if rest_s:
            await asyncio.sleep(rest_s)
            rested.append(round(rss_kib(pid) / 1024, 1))
            print(f"  pass {passes}: RSS at rest {rested[-1]:.0f} MiB", flush=True)
    stop.set()
    await sampler
    curve.sample()
    rss = curve.summary()
    if rested:
        rss["at_rest_mib"] = rested
        # once warm: the allocator reaches its working size over the first two passes
        warm = rested[min(REST_WARM_PASSES, len(rested)) - 1]
        rss["rest_growth_mib"] = round(max(rested[REST_WARM_PASSES:] or [warm]) - warm, 1)
    return {"passes": passes, "pages": len(pages), "page_loads": loads, "labs_driven": labs,
            "commands": sent, "answered": answered, "http": statuses,
            "rss": rss, "curve": curve.text(), "points": curve.points}


async def one_lab_soak(base: str, pid: int, minutes: float, accel: float) -> dict:
    """One lab, the default preset at ``accel``× virtual speed, a command every second."""
    browser = Browser(base)
    ws = await browser.open_lab("/ws/lab/main/")
    curve, stop = Curve(pid), asyncio.Event()
    sampler = asyncio.get_running_loop().create_task(curve.run(stop, 5.0))
    latest = {"now_ms": 0}

    async def read() -> None:
        while True:
            text = await ws.recv()
            m = re.search(r'"now_ms":\{"=":(\d+)\}', text[:400]) or \
                re.search(r'"now_ms":(\d+)', text) if text.startswith('{"type":"') else None
            if m:
                latest["now_ms"] = int(m.group(1))

    reader = asyncio.get_running_loop().create_task(read())
    await ws.send({"type": "speed", "value": accel, "ref": 0})
    t0, k = time.monotonic(), 0
    wall = minutes * 60 / accel
    warmed = False
    while time.monotonic() - t0 < wall:
        await asyncio.sleep(1.0)
        k += 1
        await ws.send({"type": "config", "set": {"linger.ms": 5 + k % 3}, "ref": k})
        if not warmed and time.monotonic() - t0 > min(60.0, wall / 4):
            curve.warm()
            warmed = True
    stop.set()
    await sampler
    curve.sample()
    reader.cancel()
    ws.close()
    return {"virtual_minutes": latest["now_ms"] / 60000, "wall_minutes": wall / 60,
            "rss": curve.summary(), "curve": curve.text(), "points": curve.points}


#: With ``--rest``: daphne reaps labs unwatched this long, so a resting learner's are gone
#: after it plus the reaper's period (5 s) — ``REST_S`` in all.
REST_IDLE_SECONDS = 3
REST_S = 11.0
REST_WARM_PASSES = 2  # at rest, growth is counted from the end of the second pass


def run(minutes: float = 60, accel: float = 10, one_lab: bool = False,
        tmp: Path | None = None, min_passes: int = 1, env: dict | None = None,
        rest: bool = False) -> dict:
    from tests.conftest import start_daphne, stop_process

    env = dict(env or {})
    if rest:
        env.setdefault("LAB_IDLE_SECONDS", str(REST_IDLE_SECONDS))
    with tempfile.TemporaryDirectory() as scratch:
        proc, base = start_daphne(Path(tmp or scratch), extra_env=env)
        try:
            if one_lab:
                result = asyncio.run(one_lab_soak(base, proc.pid, minutes, accel))
            else:
                result = asyncio.run(learner_soak(base, proc.pid, minutes, accel,
                                                  min_passes=min_passes,
                                                  rest_s=REST_S if rest else 0.0))
        finally:
            stop_process(proc)
    result["flat"] = result["rss"]["growth_after_warmup_mib"] < FLAT_MIB
    if "rest_growth_mib" in result["rss"]:
        result["flat_at_rest"] = result["rss"]["rest_growth_mib"] < FLAT_MIB
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench soak", description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="minutes of (accelerated) use")
    ap.add_argument("--accel", type=float, default=10.0, help="how many times faster than a person")
    ap.add_argument("--one-lab", action="store_true", help="issue 8: one lab for an hour")
    ap.add_argument("--quick", action="store_true", help="10 minutes of use at 20x (30 s)")
    ap.add_argument("--rest", action="store_true",
                    help=f"step away {REST_S:g} s after each pass (labs reaped after "
                         f"{REST_IDLE_SECONDS} s unwatched) and record the RSS at rest")
    args = ap.parse_args(argv)
    if args.quick:
        args.minutes, args.accel = 10.0, 20.0
    what = "one lab" if args.one_lab else "one learner through every page and lab"
    print(f"soak: {what}, {args.minutes:g} minutes of use at {args.accel:g}x "
          f"({args.minutes / args.accel:.1f} minutes of wall time)", flush=True)
    r = run(args.minutes, args.accel, args.one_lab, rest=args.rest)
    print(json.dumps({k: v for k, v in r.items() if k not in ("points", "curve")}, indent=1))
    print("  RSS curve (wall s since start : MiB):", r["curve"])
    if "flat_at_rest" in r:
        # the curve includes the learner's live labs, bounded by their buffer.memory: shown
        print(f"  growth after warm-up {r['rss']['growth_after_warmup_mib']:.1f} MiB (the "
              f"labs' working set, shown)")
        print(f"  RSS at rest after each pass {r['rss']['at_rest_mib']} MiB: growth once warm "
              f"{r['rss']['rest_growth_mib']:.1f} MiB (target < {FLAT_MIB} MiB: flat) "
              f"{'ok' if r['flat_at_rest'] else 'NOT FLAT'}")
        return 0 if r["flat_at_rest"] else 1
    print(f"  growth after warm-up {r['rss']['growth_after_warmup_mib']:.1f} MiB (target < "
          f"{FLAT_MIB} MiB: flat) {'ok' if r['flat'] else 'NOT FLAT'}")
    return 0 if r["flat"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
