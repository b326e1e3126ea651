"""An instructor signs in with Chromium and finds a submission the worker graded.

A live daphne and a ``manage.py worker`` on a temporary database; the submissions are saved
and queued by the service a submit view calls, and graded by that worker process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, _server_env, start_daphne, stop_process

pytestmark = pytest.mark.browser

SEED = r'''
import json, sys
from django.contrib.auth.models import Group, User
from courseware.exercises.services.grading import submit
u = User.objects.create_user("teacher", password="teach-pass-1")
u.groups.add(Group.objects.get(name="instructors"))
User.objects.create_user("pupil", password="pupil-pass-1")
ref = open("courseware/content/exercises/compression-comparison/reference.json").read()
bad = '{"compression.type": "brotli"}'
ids = [submit("compression-comparison", "grace", t).pk for t in (bad, ref)]
print(json.dumps(ids))
'''
WAIT = r'''
from courseware.exercises.models import Submission
print(Submission.objects.filter(status__in=("queued", "running")).count())
'''


def _manage(env: dict, code: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradebook-live")
    proc, url = start_daphne(tmp)
    env = _server_env(tmp / "db.sqlite3")
    try:
        ids = json.loads(_manage(env, SEED))
        deadline = time.monotonic() + 240
        while _manage(env, WAIT) != "0":  # the worker grades them
            assert time.monotonic() < deadline, "the worker did not grade the submissions"
            time.sleep(1)
        yield url, ids
    finally:
        stop_process(proc)


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/gradebook/")
    page.wait_for_selector("input[name=password]")  # anonymous: sent to the sign-in page
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_an_instructor_sees_the_graded_submission_and_opens_it(page, server, artifacts_dir):
    url, (_invalid, graded_id) = server
    sign_in(page, url, "teacher", "teach-pass-1")
    page.wait_for_selector("table.gb-table")
    assert page.url.endswith("/gradebook/")
    cell = page.locator('td[data-learner="grace"][data-exercise="compression-comparison"]')
    assert cell.get_attribute("data-attempts") == "1"  # the invalid one is not an attempt
    assert "100 %" in cell.inner_text() and "1 invalid" in cell.inner_text()
    page.screenshot(path=str(artifacts_dir / "gradebook-table.png"), full_page=True)
    cell.locator("a").click()
    page.wait_for_selector("#score")
    assert page.url.endswith(f"/gradebook/submissions/{graded_id}/")
    assert page.inner_text("#status") == "graded" and page.inner_text("#score") == "100 %"
    assert "compression.type" in page.inner_text(".gb-code")
    assert page.locator(".gb-goals tr.pass").count() >= 2
    assert f"replay={graded_id}" in page.get_attribute("#replay", "href")
    page.screenshot(path=str(artifacts_dir / "gradebook-detail.png"), full_page=True)


def test_a_learner_is_refused_politely(page, server):
    url, _ = server
    sign_in(page, url, "pupil", "pupil-pass-1")
    page.wait_for_selector("h1")
    assert "for instructors" in page.inner_text("h1")
