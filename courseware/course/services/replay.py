"""Replaying the production incident with the learner's own fix.

The learner writes producer settings; we apply them to the ``incident`` preset and run it
in virtual time up to the moment the original run had every application thread blocked.
The fix passes when no ``send()`` blocked for longer than ``MAX_ACCEPTABLE_BLOCK_MS``, no
thread is stuck at that moment — what the API's callers would notice — and buffer use is not
still climbing fast enough to run out before the outage ends (a bigger buffer alone often
only postpones the incident; the trend of the last 15 s tells).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import FixError, RunStats, cached_run, fix_warnings, parse_fix

PRESET = "incident"
REPLAY_MS = 65_000
MAX_ACCEPTABLE_BLOCK_MS = 2_000
TREND_MS = 15_000


@dataclass
class Replay:
    passed: bool = False
    fix: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    summary: str = ""
    error: str = ""
    warnings: list = field(default_factory=list)  # keys of the fix Kafka would ignore


def outage_end_ms() -> int:
    """When the preset's fault script stops hurting (last fault, including its duration)."""
    from producer_core import presets

    faults = presets.load(PRESET).get("faults", [])
    return max((f["at_ms"] + int(f.get("duration_ms", 0)) for f in faults), default=0)


def projected_full_ms(st: RunStats) -> int | None:
    """When the buffer would be full if use kept growing as in the last ``TREND_MS``."""
    times = sorted(st.pool_used)
    if not times:
        return None
    end = times[-1]
    start = max((t for t in times if t <= end - TREND_MS), default=times[0])
    slope = (st.pool_used[end] - st.pool_used[start]) / max(1, end - start)  # bytes per ms
    if slope <= 0:
        return None
    return int(end + st.snapshot["pool"]["available"] / slope)


def _row(st: RunStats) -> dict:
    app, pool = st.snapshot["app"], st.snapshot["pool"]
    times = sorted(st.pool_used)
    trend = 0.0
    if times:
        start = max((t for t in times if t <= times[-1] - TREND_MS), default=times[0])
        trend = (st.pool_used[times[-1]] - st.pool_used[start]) / max(1, times[-1] - start)
    return {"full_at": projected_full_ms(st),
            "trend_mib_s": trend * 1000 / 2**20,
            "blocked_now": app["blocked_threads"], "threads": app["threads"],
            "block_max": st.longest_block_ms, "exhausted": app["buffer_exhausted"],
            "failed": app["delivery_failed"] + app["failed_sends"], "acked": app["acked"],
            "available_mib": pool["available"] / 2**20}


def _baseline() -> dict:
    return _row(cached_run(PRESET, REPLAY_MS))


def replay(fix_text: str) -> Replay:
    """Parse, validate, replay; never raises for bad input (the error is in ``.error``)."""
    from producer_core.errors import ConfigError
    from producer_core.scenario import ScenarioError

    out = Replay()
    try:
        fix = parse_fix(fix_text, PRESET)
    except FixError as exc:
        out.error = str(exc)
        return out
    try:
        st = cached_run(PRESET, REPLAY_MS, config_overrides=fix)
    except (ScenarioError, ConfigError, ValueError) as exc:
        # ValueError too: a config can pass from_dict yet fail when the producer starts
        # (batch.size larger than buffer.memory's allocation bound) — a 422, never a 500.
        out.error = f"that setting would not start a producer: {str(exc)[:300]}"
        return out
    out.fix = fix
    out.warnings = fix_warnings(fix)
    before, after = _baseline(), _row(st)
    end_of_outage = outage_end_ms()
    postponed = after["full_at"] is not None and after["full_at"] < end_of_outage
    out.passed = (after["block_max"] <= MAX_ACCEPTABLE_BLOCK_MS and after["blocked_now"] == 0
                  and not postponed)
    out.rows = [
        ("threads blocked in send() at 65 s", f"{before['blocked_now']} of {before['threads']}",
         f"{after['blocked_now']} of {after['threads']}"),
        ("longest send() block", f"{before['block_max']:,} ms", f"{after['block_max']:,} ms"),
        ("buffer available at 65 s", f"{before['available_mib']:.1f} MiB",
         f"{after['available_mib']:.1f} MiB"),
        ("buffer use over the last 15 s", f"{before['trend_mib_s']:+.1f} MiB/s",
         f"{after['trend_mib_s']:+.1f} MiB/s"),
        ("sends failed: buffer exhausted", str(before["exhausted"]), str(after["exhausted"])),
        ("records failed in total", f"{before['failed']:,}", f"{after['failed']:,}"),
        ("records acknowledged", f"{before['acked']:,}", f"{after['acked']:,}"),
    ]
    if postponed and after["blocked_now"] == 0:
        out.summary = (f"Postponed, not fixed: nothing blocks yet at {REPLAY_MS // 1000} s, but "
                       f"buffer use is still climbing and would run out at about "
                       f"{after['full_at'] // 1000} s — the metadata stays stale until "
                       f"{end_of_outage // 1000} s.")
    elif out.passed:
        out.summary = ("The outage still happens, but no request thread waited more than "
                       f"{MAX_ACCEPTABLE_BLOCK_MS // 1000} s in send(): the API stays up.")
        if after["failed"]:
            out.summary += (" Some records for the broken partitions failed instead — your "
                            "callbacks see them and can dead-letter or retry them later.")
    else:
        out.summary = (f"Threads still block: the longest send() took {after['block_max']:,} ms "
                       f"and {after['blocked_now']} thread(s) are stuck at 65 s.")
    return out
