"""The five exercises end to end: ``manage.py grade`` → variant → the real sandbox → the
trusted grader → the stored verdict, as an instructor's script would call it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "courseware" / "content" / "exercises"
EXT = {"compression-comparison": "json"}
SLUGS = ["batching-benchmark", "compression-comparison", "back-pressure", "metrics-dashboard",
         "health-check"]


@pytest.fixture(scope="module")
def db_env(tmp_path_factory):
    import os

    db = tmp_path_factory.mktemp("grade") / "db.sqlite3"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}", DJANGO_SETTINGS_MODULE="courseware.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    return env


def _grade(env, slug: str, which: str, learner: str = "ada") -> dict:
    path = CONTENT / slug / f"{which}.{EXT.get(slug, 'py')}"
    done = subprocess.run([sys.executable, "manage.py", "grade", slug, str(path), "--learner",
                           learner, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_gets_full_credit_and_the_wrong_one_does_not(db_env, slug):
    ref = _grade(db_env, slug, "reference")
    assert ref["status"] == "graded" and ref["score"] == 1.0, ref
    assert {g["name"] for g in ref["goals"]} and all(g["passed"] for g in ref["goals"])
    wrong = _grade(db_env, slug, "wrong")
    assert wrong["status"] == "graded" and wrong["score"] < 1.0, wrong
    assert any(not g["passed"] and g["message"] for g in wrong["goals"])


def test_an_invalid_submission_is_invalid(db_env, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def check_health(:\n")
    out = subprocess.run([sys.executable, "manage.py", "grade", "health-check", str(broken),
                          "--json"], cwd=ROOT, env=db_env, capture_output=True, text=True,
                         timeout=300, check=False)
    verdict = json.loads(out.stdout.strip().splitlines()[-1])
    assert verdict["status"] == "invalid" and verdict["message"]
