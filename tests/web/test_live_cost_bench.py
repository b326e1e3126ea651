"""bench live-cost keeps running: one preset in --quick mode prints its table row.

Only the output's shape is checked — speed targets are the bench's business, not a test's.
"""

from __future__ import annotations

import re

from bench import live_cost_bench


def test_live_cost_bench_prints_a_row_per_preset(capsys):
    assert live_cost_bench.main(["--quick", "--seconds", "0.5", "--preset", "lesson-flow"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("lesson-flow ")]
    assert len(rows) == 1, out
    numbers = re.findall(r"\d[\d,]*\.?\d*", rows[0])
    # rate, records, live µs, frame ms, plain µs, ratio, burst µs, ratio
    assert len(numbers) >= 8, rows[0]
    assert int(numbers[1].replace(",", "")) > 0  # it sent records
    assert "presets without faults over a ratio of 2" in out
