"""``python -m producer_core.check``: many seeds, a clean count, a replayable failure."""

from __future__ import annotations

import json

from producer_core import check, invariants


def test_a_few_seeds_run_clean_in_one_process():
    result = check.check_range(0, 3, jobs=1)
    assert result["checked"] == 3
    assert result["clean"] == 3, result["failures"]


def test_parallel_run_checks_every_seed():
    result = check.check_range(10, 4, jobs=2)
    assert result["checked"] == 4
    assert result["clean"] + len(result["failed"]) == 4


def strict_checker(seed: int) -> list[str]:
    """The real invariant check, except that seed 7 crashes (as an engine bug would)."""
    if seed == 7:
        raise RuntimeError(f"engine exploded on {seed}")
    return invariants.check_seed(seed)


def test_a_crashing_run_is_reported_not_raised():
    seed, violations = check.run_seed(7, strict_checker)
    assert seed == 7 and "engine exploded on 7" in violations[0]
    result = check.check_range(6, 3, stop_on_first=True, checker=strict_checker)
    assert result["checked"] == 2 and result["failed"] == [7]


def test_report_names_the_first_failure_and_the_replay_command():
    result = check.check_range(5, 4, checker=strict_checker)
    text = check.report(result, 5)
    assert text.startswith(f"{result['clean']} of 4 seeds ran clean (seeds 5..8)")
    assert "first failing seed 7" in text and "engine exploded on 7" in text
    assert "replay: python -m producer_core.check --seed 7 --verbose" in text


def test_main_prints_the_clean_count(capsys):
    assert check.main(["--seeds", "2", "--jobs", "1"]) == 0
    assert "2 of 2 seeds ran clean" in capsys.readouterr().out


def test_single_seed_replay_prints_the_scenario(capsys):
    assert check.main(["--seed", "1", "--verbose"]) == 0
    out = capsys.readouterr().out
    scenario = json.loads(out[:out.rindex("}") + 1])
    assert scenario == invariants.random_scenario(1)
    assert "seed 1: clean" in out
