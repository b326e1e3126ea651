"""Two sandboxes at once: a hostile program fills its process budget and kills every process
it can find while another learner's program is graded — the victim grades normally.

Each run holds its own slot uid (``runner.slot_uid``); with one uid shared by every run (what
the sandbox did before), the same attack starves the victim, which the control test shows.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from courseware.exercises import graders
from courseware.exercises.services.grading import grade_submission, submit
from courseware.sandbox import Limits, SandboxJob, isolation_available, run, runner

pytestmark = [pytest.mark.django_db]

LIMITS = Limits(cpu_s=5, wall_s=20, memory_mb=256, processes=16, file_size_mb=4,
                open_files=32, output_kb=16)
HOLD_S = 6

ATTACKER = f"""
import os, signal, time
kids = []
try:
    while True:                      # take every process the limit allows, and keep them
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
except OSError:
    pass
mine = set(kids) | {{os.getpid()}}
print("holding", len(kids), flush=True)
end = time.time() + {HOLD_S}
killed = 0
while time.time() < end:             # kill whatever else it can see or guess
    for pid in range(2, 4096):
        if pid not in mine:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    time.sleep(0.05)
print("signalled", killed, flush=True)
"""

VICTIM_HARNESS = """
import json, threading, solution
out = []
threads = [threading.Thread(target=lambda: out.append(solution.answer())) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
json.dump({"answers": out}, open("result.json", "w"))
"""


@dataclass
class ThreadedGrader:
    """A small code exercise whose harness uses threads, as a real producer program may."""

    slug: str = "test-threads"
    kind: str = "code"

    def variant(self, seed: int) -> dict:
        return {}

    def validate(self, text: str, variant: dict) -> str | None:
        return None

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        return SandboxJob(files={"solution.py": text, "harness.py": VICTIM_HARNESS},
                          argv=["python3", "harness.py"], limits=LIMITS)

    def score(self, text, variant, run) -> dict:
        answers = json.loads(run.outputs.get("result.json", "{}")).get("answers")
        ok = answers == [42] * 4
        return {"status": "graded", "message": "ok" if ok else f"answers {answers!r}",
                "goals": [{"name": "answers", "passed": ok, "points": float(ok),
                           "max_points": 1.0, "message": ""}]}


@pytest.fixture
def threaded_grader():
    graders.EXTRA["test-threads"] = ThreadedGrader()
    yield
    graders.EXTRA.pop("test-threads")


def _sandbox_processes() -> Counter:
    """Processes on this host per sandbox uid (the slots' and the shared one), by real uid."""
    uids = set(range(runner.SLOT_UID_BASE, runner.SLOT_UID_BASE + runner.SLOTS)) | {runner.NOBODY}
    count: Counter = Counter()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("Uid:"):
                        uid = int(line.split()[1])
                        if uid in uids:
                            count[uid] += 1
                        break
            except OSError:
                continue
    return count


def _attack_then_grade_victim() -> tuple[dict, object, int]:
    """Start the attacker, wait until one uid holds its processes, then grade the victim."""
    box: dict = {}
    attacker = threading.Thread(target=lambda: box.setdefault("r", run(SandboxJob(
        files={"attack.py": ATTACKER}, argv=["python3", "attack.py"], limits=LIMITS))))
    before = _sandbox_processes()
    attacker.start()
    deadline = time.monotonic() + 60
    while True:
        grown = _sandbox_processes() - before
        held = [uid for uid, n in grown.items() if n >= LIMITS.processes - 4]
        if held:
            break
        assert attacker.is_alive() and time.monotonic() < deadline, "the attacker never held"
        time.sleep(0.05)
    sub = submit("test-threads", "victim", "def answer():\n    return 42\n", queue=False)
    verdict = grade_submission(sub.pk)
    still_attacking = attacker.is_alive()
    attacker.join()
    assert still_attacking, "the victim ran after the attack, not during it"
    return verdict, box["r"], held[0]


@pytest.mark.skipif(not isolation_available() or os.geteuid() != 0,
                    reason="slot uids apply to bwrap started as root")
def test_the_victim_grades_normally_beside_a_hostile_program(threaded_grader):
    verdict, attack, uid = _attack_then_grade_victim()
    assert "holding" in attack.stdout and attack.isolation == "bwrap"
    assert verdict["status"] == "graded" and verdict["score"] == 1.0, verdict
    assert _sandbox_processes()[uid] == 0  # nothing of the attacker is left


@pytest.mark.skipif(not isolation_available() or os.geteuid() != 0,
                    reason="slot uids apply to bwrap started as root")
def test_control_with_one_shared_uid_the_same_attack_starves_the_victim(threaded_grader,
                                                                         monkeypatch):
    @contextmanager
    def shared_uid():
        yield runner.NOBODY

    monkeypatch.setattr(runner, "slot_uid", shared_uid)
    verdict, _, _ = _attack_then_grade_victim()
    assert verdict["status"] == "error" or verdict["score"] < 1.0, verdict


@pytest.mark.skipif(os.geteuid() != 0, reason="slot uids are taken as root")
def test_concurrent_runs_hold_different_uids():
    with runner.slot_uid() as first, runner.slot_uid() as second:
        assert first != second
        assert {first, second} <= set(range(runner.SLOT_UID_BASE,
                                             runner.SLOT_UID_BASE + runner.SLOTS))
    with runner.slot_uid() as again:
        assert again == first  # released when the run ended
