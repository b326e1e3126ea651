"""``python -m producer_core``: run a producer experiment from a terminal.

Examples::

    python -m producer_core --records 200000 -X batch.size=65536 -X linger.ms=20
    python -m producer_core --preset incident --json
    python -m producer_core --config my.properties --data json-orders --keys zipf:100
    python -m producer_core --sweep            # Exercise 1: batch.size x linger.ms, all cores

Configuration uses Kafka's property names (``-X key=value`` or ``--config file.properties``).
The run is deterministic for a seed: only the *wall* time printed at the end varies.
This module (with ``__main__``) is the only place the engine's package reads the wall
clock — to report how fast the simulation ran and to draw the progress bar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

SWEEP_BATCH_KB = (4, 16, 32, 64, 128)
SWEEP_LINGER_MS = (0, 5, 20, 50, 100)
SWEEP_RECORDS = 1_000_000
SWEEP_VALUE_BYTES = 100
# The Exercise 1 benchmark topic: one partition per broker, so a request carries one batch
# and the effect of batch.size is not hidden by spreading over partitions.
SWEEP_TOPIC = "bench"
SWEEP_PARTITIONS = 3
LIGHT_RATE = 200  # records/s for the light-load latency column (well below saturation)
LIGHT_RECORDS = 600

# Summary lines: (metric, label, format)
SUMMARY_METRICS = (
    ("batch-size-avg", "batch size avg (bytes)", "{:,.0f}"),
    ("records-per-request-avg", "records per request", "{:,.1f}"),
    ("compression-rate-avg", "compression rate (compressed/raw)", "{:.3f}"),
    ("record-queue-time-avg", "record queue time avg (ms)", "{:.2f}"),
    ("request-latency-avg", "request latency avg (ms)", "{:.2f}"),
    ("send-latency-p50", "send->ack latency p50 (ms)", "{:.1f}"),
    ("send-latency-p99", "send->ack latency p99 (ms)", "{:.1f}"),
    ("record-retry-total", "records retried", "{:,}"),
    ("record-error-total", "records failed", "{:,}"),
    ("buffer-exhausted-total", "buffer exhausted", "{:,}"),
)


class CliError(Exception):
    """A command-line mistake: printed as ``error: ...`` with exit status 2."""


# ---- arguments ------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m producer_core",
        description="Run a deterministic Kafka producer experiment against a mock cluster.")
    p.add_argument("--preset", help="start from a preset scenario (see --list-presets)")
    p.add_argument("--list-presets", action="store_true", help="list presets and exit")
    p.add_argument("--scenario", metavar="FILE", help="start from a scenario JSON file")
    p.add_argument("-X", dest="props", action="append", default=[], metavar="KEY=VALUE",
                   help="a Kafka producer property, e.g. -X linger.ms=10 (repeatable)")
    p.add_argument("--config", metavar="FILE", help="a Kafka .properties file")
    w = p.add_argument_group("workload")
    w.add_argument("--records", type=int, help="records to send in total (default 100000)")
    w.add_argument("--value-bytes", type=int, help="record value size hint (default 100)")
    w.add_argument("--rate", type=float, help="records/s over all threads (default: flat out)")
    w.add_argument("--threads", type=int, help="application threads (default 1)")
    w.add_argument("--keys", help="none | uniform:N | zipf:N | sequential")
    w.add_argument("--data", help="json-orders | json-users | random | text | fixed")
    w.add_argument("--topic", help="topic to produce to (default orders)")
    c = p.add_argument_group("cluster")
    c.add_argument("--partitions", type=int, help="partitions of the topic (default 6)")
    c.add_argument("--brokers", type=int, help="brokers (default 3)")
    c.add_argument("--replication-factor", type=int, help="replication factor (default 3)")
    c.add_argument("--fault", action="append", default=[], metavar="JSON",
                   help='a fault, e.g. \'{"at_ms": 500, "op": "stop_broker", "broker": 2}\'')
    r = p.add_argument_group("run")
    r.add_argument("--duration-ms", type=int, help="virtual time to run (presets have one)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's, or 0)")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--progress", action="store_true", help="progress bar even without a tty")
    r.add_argument("--trace", action="store_true", help="print every cluster/batch event")
    s = p.add_argument_group("sweep (Exercise 1)")
    s.add_argument("--sweep", action="store_true",
                   help="batch.size 4..128 KB x linger.ms 0..100 with 1M records of 100 B")
    s.add_argument("--sweep-records", type=int, default=SWEEP_RECORDS)
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes for --sweep (default: all cores)")
    return p


def parse_props(items: list[str], config_file: str | None) -> dict[str, str]:
    """``-X key=value`` items (after the properties file, so they win) → dict."""
    props: dict[str, str] = {}
    if config_file:
        try:
            with open(config_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise CliError(f"--config: cannot read {config_file}: {e.strerror}") from None
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line[0] in "#!":
                continue
            sep = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
            if sep < 0:
                raise CliError(f"--config {config_file}:{n}: expected key=value, got {line!r}")
            props[line[:sep].strip()] = line[sep + 1:].strip()
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"-X {item!r}: expected key=value, e.g. -X linger.ms=10")
        props[key.strip()] = value.strip()
    return props


def scenario_from_args(args: argparse.Namespace) -> Any:
    """The Scenario the command line describes (preset or file, then overrides)."""
    from producer_core import presets
    from producer_core.scenario import Scenario, ScenarioError

    if args.preset and args.scenario:
        raise CliError("use --preset or --scenario, not both")
    if args.preset:
        try:
            base = presets.load(args.preset)
        except KeyError as e:
            raise CliError(str(e.args[0])) from None
    elif args.scenario:
        try:
            with open(args.scenario, encoding="utf-8") as f:
                base = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise CliError(f"--scenario {args.scenario}: {e}") from None
    else:
        base = {"id": "cli", "config": {},
                "cluster": {"brokers": 3, "topics": {"orders": 6}},
                "workload": [{"topic": "orders", "records": 100_000, "value_bytes": 100,
                              "data": "json-orders"}],
                "duration_ms": 3_600_000}
    d = json.loads(json.dumps(base))
    d["config"] = {**d.get("config", {}), **parse_props(args.props, args.config)}
    cluster = d.setdefault("cluster", {})
    if args.brokers is not None:
        cluster["brokers"] = args.brokers
    if args.replication_factor is not None:
        cluster["replication_factor"] = args.replication_factor
    wl = d.get("workload") or [{"topic": "orders"}]
    if isinstance(wl, dict):
        wl = [wl]
    d["workload"] = wl
    first = wl[0]
    if args.topic:
        first["topic"] = args.topic
    topics = cluster.setdefault("topics", {"orders": 6})
    if args.partitions is not None:
        topics[first["topic"]] = args.partitions
    topics.setdefault(first["topic"], 6)
    for opt, key in (("records", "records"), ("value_bytes", "value_bytes"), ("rate", "rate"),
                     ("threads", "threads"), ("keys", "keys"), ("data", "data")):
        v = getattr(args, opt)
        if v is not None:
            first[key] = v
    for raw in args.fault:
        try:
            d.setdefault("faults", []).append(json.loads(raw))
        except json.JSONDecodeError as e:
            raise CliError(f"--fault {raw!r}: not JSON ({e})") from None
    if args.duration_ms is not None:
        d["duration_ms"] = args.duration_ms
    if args.seed is not None:
        d["seed"] = args.seed
    try:
        return Scenario.from_dict(d)
    except ScenarioError as e:
        raise CliError(str(e)) from None


# ---- running --------------------------------------------------------------------------------

class Progress:
    """A one-line progress bar on stderr (only when asked or on a terminal)."""

    def __init__(self, enabled: bool, total_ms: int, label: str = "") -> None:
        self.enabled = enabled
        self.total = max(1, total_ms)
        self.label = label
        self._last = 0.0

    def update(self, now_ms: int, extra: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        t = time.monotonic()
        if not force and t - self._last < 0.1:
            return
        self._last = t
        frac = min(1.0, now_ms / self.total)
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r{self.label}[{bar:<30}] {frac * 100:5.1f}%  t={now_ms / 1000:.1f}s "
                         f"{extra}\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run_scenario(scenario: Any, *, seed: int | None = None, progress: Progress | None = None,
                 on_event: Any = None) -> dict:
    """Run a scenario: to ``duration_ms``, or — when every workload has a record count —
    until they finish and ``flush()`` completes.  Returns a result dict (JSON-safe)."""
    wall0 = time.perf_counter()
    sim = scenario.build(seed)
    if on_event is not None:
        sim.events.subscribe(on_event)
    workloads = list(getattr(sim, "workloads", []) or [])
    bounded = bool(workloads) and all(w.spec.records is not None for w in workloads)
    deadline = scenario.duration_ms
    step = max(10, min(1000, deadline // 200))
    sched = sim.scheduler

    def all_sent() -> bool:
        return all(w.done for w in workloads)

    while sim.now_ms < deadline:
        if bounded:
            # Stop at the exact millisecond the last send() returned.
            sched.run_until(min(deadline, sim.now_ms + step), stop=all_sent)
            if all_sent():
                break
        else:
            sim.run_until(min(deadline, sim.now_ms + step))
        if progress:
            sent = sum(w.send_calls for w in workloads)
            progress.update(sim.now_ms, f"{sent:,} records")
    sends_done_ms = sim.now_ms
    if bounded:
        sim.producer.flush()
    wall = time.perf_counter() - wall0
    if progress:
        progress.update(sim.now_ms, "", force=True)
        progress.done()
    return summarize(sim, workloads, wall, sends_done_ms)


def summarize(sim: Any, workloads: list, wall_s: float, sends_done_ms: int) -> dict:
    from producer_core.workload import merge_stats

    metrics = sim.producer.metrics()
    acked = metrics.get("records-acked-total", metrics.get("record-send-total", 0))
    elapsed = max(1, sim.now_ms)
    out_bytes = metrics.get("outgoing-byte-total", 0)
    return {
        "virtual_ms": sim.now_ms,
        "sends_done_ms": sends_done_ms,
        "records_acked": acked,
        "throughput_records_s": round(acked * 1000.0 / elapsed, 1),
        "throughput_mb_s": round(out_bytes / 1000.0 / elapsed, 3),
        "latency_avg_ms": round(metrics.get("send-latency-avg", 0.0), 3),
        "latency_p99_ms": metrics.get("send-latency-p99", 0.0),
        "app": merge_stats([w.stats() for w in workloads]),
        "metrics": metrics,
        "wall_s": round(wall_s, 3),
        "engine_records_per_wall_s": round(sum(w.send_calls for w in workloads) / wall_s)
        if wall_s > 0 else None,
    }


def print_summary(result: dict, scenario: Any, out: Any = None) -> None:
    w = (out or sys.stdout).write
    title = scenario.title or scenario.id or "experiment"
    w(f"{title}\n{'=' * len(title)}\n")
    cfg = {k: v for k, v in scenario.config.items()}
    w(f"config overrides: {cfg or '(Kafka 4.x defaults)'}\n")
    w(f"virtual time     : {result['virtual_ms'] / 1000:.3f} s "
      f"(sends finished at {result['sends_done_ms'] / 1000:.3f} s)\n")
    w(f"records acked    : {result['records_acked']:,}\n")
    w(f"throughput       : {result['throughput_records_s']:,.0f} records/s, "
      f"{result['throughput_mb_s']:.2f} MB/s\n")
    w(f"latency          : avg {result['latency_avg_ms']:.2f} ms, "
      f"p99 {result['latency_p99_ms']:.1f} ms (send -> ack)\n")
    m = result["metrics"]
    for key, label, fmt in SUMMARY_METRICS:
        if key in m:
            w(f"{label:<34}: {fmt.format(m[key])}\n")
    app = result["app"]
    w(f"application      : {app.get('send_calls', 0):,} send() calls, "
      f"{app.get('blocked_sends', 0):,} blocked (p99 {app.get('send_block_ms_p99', 0):.0f} ms, "
      f"max {app.get('send_block_ms_max', 0):,} ms), {app.get('failed_sends', 0):,} failed "
      f"at send, {app.get('delivery_failed', 0):,} failed later\n")
    if app.get("errors"):
        w(f"errors           : {app['errors']}\n")
    w(f"wall time        : {result['wall_s']:.2f} s "
      f"({result['engine_records_per_wall_s'] or 0:,} records per wall second)\n")
    w("\nproducer-metrics\n----------------\n")
    for k in sorted(m):
        v = m[k]
        w(f"  {k:<40} {v:,.3f}\n" if isinstance(v, float) else f"  {k:<40} {v}\n")


# ---- Exercise 1 sweep -----------------------------------------------------------------------

def sweep_cell(args: tuple[int, int, int, int]) -> dict:
    """One cell of the grid: a flat-out run of ``records`` and a light-load run."""
    from producer_core.scenario import Scenario

    batch_kb, linger, records, seed = args
    base = {"seed": seed, "config": {"batch.size": batch_kb * 1024, "linger.ms": linger},
            "cluster": {"brokers": 3, "topics": {SWEEP_TOPIC: SWEEP_PARTITIONS}},
            "duration_ms": 3_600_000}
    heavy = Scenario.from_dict({**base, "workload": [
        {"topic": SWEEP_TOPIC, "records": records, "value_bytes": SWEEP_VALUE_BYTES,
         "data": "random", "track_outcomes": False}]})
    light = Scenario.from_dict({**base, "workload": [
        {"topic": SWEEP_TOPIC, "records": LIGHT_RECORDS, "rate": LIGHT_RATE,
         "value_bytes": SWEEP_VALUE_BYTES, "data": "random"}]})
    h = run_scenario(heavy)
    lt = run_scenario(light)
    return {"batch_kb": batch_kb, "linger_ms": linger, "records": records,
            "virtual_s": h["virtual_ms"] / 1000.0,
            "throughput": h["throughput_records_s"], "mb_s": h["throughput_mb_s"],
            "latency_avg_ms": h["latency_avg_ms"], "latency_p99_ms": h["latency_p99_ms"],
            "light_latency_avg_ms": lt["latency_avg_ms"],
            "batch_size_avg": h["metrics"].get("batch-size-avg", 0.0),
            "wall_s": h["wall_s"] + lt["wall_s"]}


def run_sweep(records: int = SWEEP_RECORDS, jobs: int | None = None, seed: int = 0,
              batch_kb: tuple[int, ...] = SWEEP_BATCH_KB,
              linger_ms: tuple[int, ...] = SWEEP_LINGER_MS, progress: bool = False) -> list[dict]:
    """Run the grid on ``jobs`` processes (all cores by default); cells in grid order."""
    cells = [(b, lg, records, seed) for b in batch_kb for lg in linger_ms]
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1:
        results = []
        for i, c in enumerate(cells):
            results.append(sweep_cell(c))
            if progress:
                sys.stderr.write(f"\rsweep {i + 1}/{len(cells)}\x1b[K")
    else:
        import multiprocessing as mp

        # Big cells first so the last worker is not left with the slowest one.
        order = sorted(range(len(cells)), key=lambda i: (cells[i][0], -cells[i][1]))
        results_by: dict[int, dict] = {}
        with mp.get_context("fork" if hasattr(os, "fork") else "spawn").Pool(jobs) as pool:
            for n, (i, r) in enumerate(zip(order, pool.imap(sweep_cell,
                                                              [cells[i] for i in order]))):
                results_by[i] = r
                if progress:
                    sys.stderr.write(f"\rsweep {n + 1}/{len(cells)}\x1b[K")
        results = [results_by[i] for i in range(len(cells))]
    if progress:
        sys.stderr.write("\n")
    return results


def format_sweep(results: list[dict]) -> str:
    lingers = sorted({r["linger_ms"] for r in results})
    sizes = sorted({r["batch_kb"] for r in results})
    by = {(r["batch_kb"], r["linger_ms"]): r for r in results}
    lines = [(f"Exercise 1: {results[0]['records']:,} records of {SWEEP_VALUE_BYTES} B, "
             f"topic with {SWEEP_PARTITIONS} partitions, 3 brokers, acks=all"), ""]

    def table(title: str, key: str, fmt: str) -> None:
        lines.append(title)
        lines.append("batch.size \\ linger.ms " + "".join(f"{lg:>10}" for lg in lingers))
        for b in sizes:
            lines.append(f"{b:>8} KB             " + "".join(
                f"{fmt.format(by[(b, lg)][key]):>10}" for lg in lingers))
        lines.append("")

    table("Throughput (records/s, flat out)", "throughput", "{:,.0f}")
    table("Average latency send->ack (ms, flat out)", "latency_avg_ms", "{:.1f}")
    table(f"Average latency send->ack (ms, light load: {LIGHT_RATE:,} records/s)",
          "light_latency_avg_ms", "{:.1f}")
    table("Total time to send all records (virtual s)", "virtual_s", "{:.2f}")
    return "\n".join(lines)


# ---- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.list_presets:
            from producer_core import presets

            for pid in presets.names():
                p = presets.load(pid)
                print(f"{pid:<20} {p.get('summary') or p.get('title', '')}")
            return 0
        if args.sweep:
            t0 = time.perf_counter()
            results = run_sweep(args.sweep_records, args.jobs, args.seed or 0,
                                progress=args.progress or sys.stderr.isatty())
            wall = time.perf_counter() - t0
            if args.json:
                print(json.dumps({"cells": results, "wall_s": round(wall, 2),
                                  "jobs": args.jobs}, indent=1))
            else:
                print(format_sweep(results))
                print(f"wall time: {wall:.1f} s on {args.jobs} worker process(es)")
            return 0
        scenario = scenario_from_args(args)
        show = args.progress or (sys.stderr.isatty() and not args.json)
        progress = Progress(show, scenario.duration_ms)
        on_event = (lambda e: print(e.line())) if args.trace else None
        result = run_scenario(scenario, seed=args.seed, progress=progress, on_event=on_event)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # ConfigError, ScenarioError, FaultError, WorkloadError ...
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"scenario": scenario.to_dict(), **result}, default=str))
    else:
        print_summary(result, scenario)
    return 0


def calibrate_main(argv: list[str] | None = None) -> int:
    """``python -m producer_core.timemodel --calibrate``: measure the codecs on this machine
    and print the per-byte constants to paste into ``timemodel.CODEC_CPU_NS_PER_BYTE``."""
    from producer_core import timemodel

    argv = sys.argv[1:] if argv is None else argv
    if "--calibrate" not in argv:
        print("usage: python -m producer_core.timemodel --calibrate", file=sys.stderr)
        return 2
    results = timemodel.calibrate(time.perf_counter)
    print("codec    MB/s     ns/byte  compressed/uncompressed")
    for codec, r in results.items():
        print(f"{codec:<7} {r['mb_s']:>7.1f}  {r['ns_per_byte']:>8.3f}  {r['ratio']:.3f}")
    print("\nCODEC_CPU_NS_PER_BYTE = {")
    print('    "none": 0.0,')
    for codec, r in results.items():
        print(f'    "{codec}": {r["ns_per_byte"]},')
    print("}")
    return 0
