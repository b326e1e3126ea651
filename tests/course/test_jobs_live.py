"""Heavy course work runs in the worker process, never in daphne (a live daphne + worker)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.parse
import urllib.request

from tests.conftest import start_daphne, stop_process


def _opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _post(opener, jar, url: str, path: str, data: dict) -> tuple[str, str]:
    page = opener.open(url + path, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
    req = urllib.request.Request(url + path, data=body, headers={"Referer": url + path})
    with opener.open(req, timeout=30) as resp:  # follows the redirect to ?job=<id>
        return resp.geturl(), resp.read().decode()


def _wait_done(opener, url: str, job_id: str, timeout_s: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        state = json.loads(opener.open(f"{url}/jobs/{job_id}/", timeout=30).read())
        if state["status"] in ("done", "failed"):
            return state
        assert time.monotonic() < deadline, f"the job never finished: {state}"
        time.sleep(0.5)


def test_incident_replay_and_debug_grading_run_in_the_worker_not_in_daphne(tmp_path):
    proc, url = start_daphne(tmp_path)
    try:
        assert proc.worker is not None and proc.worker.poll() is None
        opener, jar = _opener()
        where, body = _post(opener, jar, url, "/incident/",
                            {"fix": "max.block.ms=1000\ndelivery.timeout.ms=30000\n"
                                    "request.timeout.ms=10000"})
        job_id = urllib.parse.parse_qs(urllib.parse.urlparse(where).query)["job"][0]
        assert "Refresh to see the result" in body or "The API survives." in body
        state = _wait_done(opener, url, job_id)
        assert state["status"] == "done", state
        assert state["result"]["passed"] is True
        assert state["result"]["pid"] == proc.worker.pid != proc.pid
        page = opener.open(f"{url}/incident/?job={job_id}", timeout=30).read().decode()
        assert "The API survives." in page and "8 of 8" in page
        where, _ = _post(opener, jar, url, "/debug/throughput-drop/",
                         {"causes": "batch-size", "fix": "batch.size=65536"})
        job_id = urllib.parse.parse_qs(urllib.parse.urlparse(where).query)["job"][0]
        state = _wait_done(opener, url, job_id)
        assert state["status"] == "done" and state["result"]["passed"] is True, state
        assert state["result"]["pid"] == proc.worker.pid != proc.pid
        page = opener.open(f"{url}/debug/throughput-drop/?job={job_id}",
                           timeout=30).read().decode()
        assert "Fixed." in page
    finally:
        stop_process(proc)
    assert proc.worker.poll() is not None  # the worker was stopped with daphne
