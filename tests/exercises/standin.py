"""Test-only stand-in for ``courseware.sandbox.run``: writes the job's files into a fresh
temporary directory and runs the command with a plain subprocess (no isolation). It lets the
graders' ``score()`` be tested before, and independently of, the sandbox app."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from courseware.exercises.graders.base import SandboxResult

CONTENT = Path(__file__).resolve().parents[2] / "courseware" / "content" / "exercises"
REPO = Path(__file__).resolve().parents[2]


def content(slug: str, name: str) -> str:
    return (CONTENT / slug / name).read_text()


def run_job(job, timeout: float = 120) -> SandboxResult:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in job.files.items():
            (Path(tmp) / name).write_text(text)
        argv = [sys.executable if a == "python3" else a for a in job.argv]
        p = subprocess.run(argv, check=False, cwd=tmp, capture_output=True, text=True, timeout=timeout,
                           env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        outputs = {n: (Path(tmp) / n).read_text() for n in job.outputs
                   if (Path(tmp) / n).exists()}
    return SandboxResult(exit_code=p.returncode, stdout=p.stdout[-8192:],
                         stderr=p.stderr[-8192:], outputs=outputs, killed=None, wall_ms=0,
                         isolation="reduced")


def grade(grader, text: str, variant: dict):
    msg = grader.validate(text, variant)
    if msg:
        return None, msg
    job = grader.sandbox_job(text, variant)
    return grader.score(text, variant, run_job(job) if job else None), None
