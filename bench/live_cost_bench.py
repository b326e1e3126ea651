"""What a live lab costs per record, beside what the same records cost sent by a plain loop.

    .venv/bin/python -m bench live-cost                 # every preset, 5 virtual seconds each
    .venv/bin/python -m bench live-cost --quick         # 1 virtual second each
    .venv/bin/python -m bench live-cost --preset kafka-defaults --seconds 10
    .venv/bin/python -m bench live-cost --repeat 1      # one run per side (faster, noisier)

For every preset (``producer_core/presets``), in one run, CPU time (``time.process_time``:
steadier than the wall clock on a shared machine) per record of:

* **live** — the real ``courseware.lab.session.LabSession`` driven in-process at 1× as the
  lab's runner drives it: every 50 ms frame period the session advances in slices of
  ``registry.SLICE_MS`` of CPU until it reached the pacer's target, then builds its delta
  frame (snapshot, diff, JSON) and the frame goes through an in-memory channel layer
  (send + receive).  The wall clock is simulated (50 ms per frame), so a slow machine
  measures the same work instead of falling behind;
* **plain, same instants** — the same records (keys, values, sizes, captured from a batch
  run of the same seed) sent with ``producer.send(topic, value, key)`` at the virtual
  instants the workload sent them (``run_until(t)`` between), then ``flush()``: the same
  batches, requests and broker work, without threads, events, callbacks or frames;
* **plain, burst** — the same records sent by one ``send()`` loop at t=0, then ``flush()``
  (fewer, fuller batches: a different run, shown for reference).

Both sides run in this one process with the collector as daphne sets it
(``courseware.collector``).  The ratios are live ÷ plain.  Presets with a fault script are
marked: the target (ratio ≤ 2) is for presets without faults.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FRAME_PERIOD_MS = 50.0  # 20 frames per second (LAB_FRAME_HZ's default)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")
    import django

    django.setup()
    from courseware import collector

    collector.tune()  # the collector as daphne sets it, for both sides of every row


def capture(preset: str, until_ms: int) -> list[tuple]:
    """The records a batch run of ``preset`` sends up to ``until_ms``: (t, topic, key, value)."""
    from producer_core.scenario import Scenario

    sim = Scenario.preset(preset).build()
    records: list[tuple] = []
    clock = sim.clock

    def observe(fut, kb, vb) -> None:
        records.append((clock.now_ms, fut.topic, kb, vb))

    sim.send_observers.append(observe)
    sim.run_until(until_ms)
    return records


def _bare_scenario(preset: str):
    """The preset's cluster, config and faults without its workload."""
    from producer_core.scenario import Scenario

    d = Scenario.preset(preset).to_dict()
    d["workload"] = []
    return Scenario.from_dict(d)


def plain_paced(preset: str, records: list[tuple]) -> float:
    sim = _bare_scenario(preset).build()
    send, run_until, clock = sim.producer.send, sim.run_until, sim.clock
    t0 = time.process_time()
    for t, topic, key, value in records:
        if t > clock._now_ms:  # (a send blocked on metadata may have driven time past t)
            run_until(t)
        send(topic, value, key)
    sim.producer.flush()
    return time.process_time() - t0


def plain_burst(preset: str, records: list[tuple]) -> float:
    sim = _bare_scenario(preset).build()
    send = sim.producer.send
    t0 = time.process_time()
    for _t, topic, key, value in records:
        send(topic, value, key)
    sim.producer.flush()
    return time.process_time() - t0


async def _live(preset: str, until_ms: int) -> dict:
    from channels.layers import InMemoryChannelLayer

    from courseware.lab.registry import SLICE_MS
    from courseware.lab.session import LabSession

    session = LabSession(f"bench.{preset}", preset=preset)
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    session.full_frame()
    wall = session.pacer._wall0
    frames = 0
    frame_cpu = 0.0
    t0 = time.process_time()
    while session.now_ms < until_ms:
        wall += FRAME_PERIOD_MS
        while not session.advance(SLICE_MS, now=wall):
            pass
        f0 = time.process_time()
        text = session.delta_frame()
        if text is not None:
            await layer.send(channel, {"type": "lab.frame", "text": text})
            await layer.receive(channel)
            frames += 1
        frame_cpu += time.process_time() - f0
    cpu = time.process_time() - t0
    sim = session.sim
    return {"cpu": cpu, "records": sum(w.send_calls for w in sim.workloads),
            "frames": frames, "frame_cpu": frame_cpu, "faults": bool(session.scenario.get("faults")),
            "rate": sum(float(w.get("rate") or 0) for w in session.scenario.get("workload", []))}


def _run_async(coro):
    """``asyncio.run`` — in a thread of its own when this thread already runs a loop
    (e.g. under a test runner that drives a browser)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def measure(preset: str, seconds: float, repeat: int = 3) -> dict:
    """Each side ``repeat`` times, the least CPU of each kept (``timeit``'s rule: on a
    shared machine the noise only ever adds; the runs are deterministic, so every repeat
    does the same work)."""
    until = int(round(seconds * 1000 / FRAME_PERIOD_MS) * FRAME_PERIOD_MS)
    records = capture(preset, until)
    n = max(1, len(records))
    live, paced, burst = None, float("inf"), float("inf")
    for _ in range(max(1, repeat)):
        run = _run_async(_live(preset, until))
        if live is None or run["cpu"] < live["cpu"]:
            live = run
        paced = min(paced, plain_paced(preset, records))
        burst = min(burst, plain_burst(preset, records))
    live_us = live["cpu"] / max(1, live["records"]) * 1e6
    paced_us = paced / n * 1e6
    burst_us = burst / n * 1e6
    return {"preset": preset, "faults": live["faults"], "rate": live["rate"],
            "records": live["records"], "captured": len(records),
            "live_us": live_us, "frame_ms": live["frame_cpu"] / max(1, live["frames"]) * 1e3,
            "paced_us": paced_us, "burst_us": burst_us,
            "ratio_paced": live_us / paced_us if paced_us else float("inf"),
            "ratio_burst": live_us / burst_us if burst_us else float("inf")}


def print_row(r: dict) -> None:
    mark = "faults" if r["faults"] else ("ok" if r["ratio_paced"] <= 2 else "OVER")
    same = "" if r["records"] == r["captured"] else f" (captured {r['captured']})"
    print(f"{r['preset']:34s} {r['rate']:>8,.0f} {r['records']:>9,}{same} "
          f"{r['live_us']:>8.1f} {r['frame_ms']:>7.2f} {r['paced_us']:>8.1f} "
          f"{r['ratio_paced']:>6.2f} {r['burst_us']:>8.1f} {r['ratio_burst']:>6.2f}  {mark}",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench live-cost", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 virtual second per preset")
    ap.add_argument("--seconds", type=float, default=None,
                    help="virtual seconds per preset (default 5, --quick 1)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each side per preset, the least CPU kept (default 3)")
    ap.add_argument("--preset", action="append", default=None,
                    help="only this preset (repeatable)")
    args = ap.parse_args(argv)
    _setup_django()
    from producer_core import presets

    names = args.preset or sorted(presets.names())
    seconds = args.seconds if args.seconds is not None else (1.0 if args.quick else 5.0)
    print(f"CPU µs per record (process_time), {seconds:g} virtual s per preset at 1x, "
          f"frames every {FRAME_PERIOD_MS:g} ms; each side the least of {args.repeat} runs")
    print(f"{'preset':34s} {'rec/s':>8} {'records':>9} {'live':>8} {'frame':>7} "
          f"{'plain=t':>8} {'ratio':>6} {'burst':>8} {'ratio':>6}")
    print(f"{'':34s} {'':>8} {'':>9} {'µs/rec':>8} {'ms':>7} {'µs/rec':>8} {'':>6} "
          f"{'µs/rec':>8} {'':>6}")
    over = 0
    for name in names:
        r = measure(name, seconds, args.repeat)
        print_row(r)
        if not r["faults"] and r["ratio_paced"] > 2:
            over += 1
    print(f"presets without faults over a ratio of 2 (vs the same-instant plain loop): {over}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
