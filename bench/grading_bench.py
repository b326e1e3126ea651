"""Grading through the real path: submissions saved and queued by the service a submit view
calls, graded by real ``manage.py worker`` processes on a temporary SQLite database.

``python -m bench grading [--config N] [--code N] [--slug SLUG] [--workers W] [--quick]``

1. ``config``: N (100) config submissions (compression-comparison: reference, wrong and
   starter settings over N learners' variants) queued at once, W (2) workers; total wall
   time from the first submit to the last verdict. Goal ≤ 60 s on this 2-core machine.
2. ``code``: N (20) code submissions (back-pressure's reference, the cheapest code exercise
   to grade), one at a time, each timed from the submit to its stored verdict. Goals
   p50 ≤ 3 s, p95 ≤ 6 s. Where the learner's submit view exists (``exercises:submit``), as a
   form POST to a live daphne (one browser session, its CSRF token, the redirect followed)
   with the workers beside it; otherwise through the services layer's ``submit()`` that
   view calls — the line says which.

Beside each figure: where the time went (queue wait, grading in the worker, the sandbox).
The machine is shared: run it quietly to compare with the goals.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "courseware.settings",
                "DJANGO_DEBUG": "0", "PYTHONUNBUFFERED": "1"})
    env.pop("REDIS_URL", None)
    return env


def _workers(env: dict, n: int, tmp: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        with open(tmp / f"worker-{i}.log", "w") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--verbosity", "0"], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _drive(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.grading_driver", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise SystemExit(f"driver failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


VIA = {"http": "HTTP POST to the submit view on a live daphne",
       "services": "services.submit(), the submit view is not on this branch"}


def _drive_text(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bench.grading_driver", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=True)
    return done.stdout.strip().splitlines()[-1]


def _s(stats: dict | None, key: str = "p50") -> str:
    return "—" if not stats else f"{stats[key]:.2f} s"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench grading")
    parser.add_argument("--config", type=int, default=100, help="config submissions (0: skip)")
    parser.add_argument("--code", type=int, default=20, help="code submissions (0: skip)")
    parser.add_argument("--slug", default="back-pressure", help="the code exercise")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20 config, 5 code submissions")
    args = parser.parse_args(argv)
    if args.quick:
        args.config, args.code = min(args.config, 20), min(args.code, 5)
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp_name:
        tmp = Path(tmp_name)
        env = _env(tmp / "db.sqlite3")
        for step in (["migrate", "--noinput"], ["load_courseware"]):
            subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True,
                           capture_output=True, timeout=600)
        procs = _workers(env, args.workers, tmp)
        try:
            if args.config:
                r = _drive(env, "config", str(args.config))
                ok = r["total_s"] <= 60
                status |= not ok
                print(f"grading config ({r['slug']}): {r['n']} submissions, {args.workers} "
                      f"workers: total {r['total_s']:.1f} s (goal ≤ 60 s) "
                      f"{'ok' if ok else 'MISSED'}; {r['statuses']}; jobs per worker pid "
                      f"{r['workers']} (driver pid {r['driver_pid']}); submit→verdict p50 "
                      f"{_s(r['turnaround_s'])} p95 {_s(r['turnaround_s'], 'p95')}; grading "
                      f"in the worker p50 {_s(r['grading_s'])}", flush=True)
            if args.code:
                via = _drive_text(env, "probe", args.slug)
                server = None
                if via == "http":
                    from tests.conftest import start_daphne, stop_process

                    # daphne on the workers' database (migrated and loaded above)
                    server, url = start_daphne(tmp, migrate=False, worker=False)
                r_args = ["code", str(args.code), args.slug] + ([url] if server else [])
                try:
                    r = _drive(env, *r_args)
                finally:
                    if server is not None:
                        stop_process(server)
                ok = r["p50_s"] <= 3 and r["p95_s"] <= 6
                status |= not ok
                print(f"grading code ({r['slug']}, via {VIA[r['via']]}): {r['n']} "
                      f"submissions one at a time: submit→result p50 {r['p50_s']:.2f} s "
                      f"(goal ≤ 3 s), p95 {r['p95_s']:.2f} s (goal ≤ 6 s), max "
                      f"{r['max_s']:.2f} s {'ok' if ok else 'MISSED'}; {r['statuses']}; "
                      f"queue wait p50 {_s(r['queued_s'])}, grading p50 {_s(r['grading_s'])} "
                      f"of which sandbox p50 {_s(r['sandbox_s'])}", flush=True)
        finally:
            _stop(procs)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
