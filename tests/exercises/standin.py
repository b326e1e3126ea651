"""Test-only stand-in for ``courseware.sandbox.run``: writes the job's files into a fresh
temporary directory and runs the command with a plain subprocess (no isolation). It lets the
graders' ``score()`` be tested before, and independently of, the sandbox app."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from courseware.exercises.graders.base import SandboxResult
from courseware.sandbox.peer import Peer

CONTENT = Path(__file__).resolve().parents[2] / "courseware" / "content" / "exercises"
REPO = Path(__file__).resolve().parents[2]


def content(slug: str, name: str) -> str:
    return (CONTENT / slug / name).read_text()


def run_job(job, timeout: float = 120) -> SandboxResult:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in job.files.items():
            (Path(tmp) / name).write_text(text)
        argv = [sys.executable if a == "python3" else a for a in job.argv]
        env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
        peer = Peer(job.peer) if job.peer is not None else None
        if peer is not None:  # the trusted side of the run talks to it (sandbox/peer.py)
            env.update(peer.env())
        proc = subprocess.Popen(argv, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, pass_fds=peer.child_fds if peer else ())
        if peer is not None:
            peer.start()
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        finally:
            proc.kill()
            proc.wait()
            if peer is not None:
                peer.finish()
        outputs = {n: (Path(tmp) / n).read_text() for n in job.outputs
                   if (Path(tmp) / n).exists()}
    return SandboxResult(exit_code=proc.returncode, stdout=stdout[-8192:],
                         stderr=stderr[-8192:], outputs=outputs, killed=None, wall_ms=0,
                         isolation="reduced", peer=peer.result if peer else None,
                         peer_error=peer.error if peer else None)


def grade(grader, text: str, variant: dict):
    msg = grader.validate(text, variant)
    if msg:
        return None, msg
    job = grader.sandbox_job(text, variant)
    return grader.score(text, variant, run_job(job) if job else None), None
