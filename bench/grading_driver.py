"""The submitting side of ``bench grading``, run as its own process on the bench's database
(``DATABASE_URL``): saves and queues submissions through the service a submit view calls and
waits for the worker processes to grade them. Prints one JSON line.

    python -m bench.grading_driver config N      # N config submissions at once
    python -m bench.grading_driver code N SLUG   # N code submissions, one at a time
    python -m bench.grading_driver code N SLUG URL   # the same, POSTed to the submit view
    python -m bench.grading_driver probe SLUG    # "http" if the submit view exists here
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

POLL_S = 0.02


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseware.settings")
    django.setup()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def _texts(slug: str) -> dict[str, str]:
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "courseware" / "content" / "exercises" / slug
    return {p.stem: p.read_text() for p in folder.iterdir()
            if p.stem in ("reference", "wrong", "starter")}


def _wait(ids: list[int], timeout_s: float) -> None:
    from courseware.exercises.models import Submission

    deadline = time.monotonic() + timeout_s
    while Submission.objects.filter(pk__in=ids, verdict__isnull=True).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"not graded within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def _summary(ids: list[int]) -> dict:
    from courseware.exercises.models import Submission

    subs = list(Submission.objects.filter(pk__in=ids).select_related("job"))
    statuses: dict[str, int] = {}
    workers: dict[str, int] = {}
    turnaround, queued, grading, sandbox = [], [], [], []
    for s in subs:
        statuses[s.status] = statuses.get(s.status, 0) + 1
        job = s.job
        if job is not None:
            pid = job.worker.split(":")[1] if job.worker.count(":") == 2 else "?"
            workers[pid] = workers.get(pid, 0) + 1
            if job.finished_at:
                turnaround.append((job.finished_at - s.created).total_seconds())
            if job.started_at:
                queued.append((job.started_at - s.created).total_seconds())
        t = (s.verdict or {}).get("timing") or {}
        if "grading_ms" in t:
            grading.append(t["grading_ms"] / 1000)
        if "sandbox_ms" in t:
            sandbox.append(t["sandbox_ms"] / 1000)

    def stats(v: list[float]) -> dict | None:
        return {"p50": statistics.median(v), "p95": _pct(v, 95), "max": max(v)} if v else None

    return {"statuses": statuses, "workers": workers, "turnaround_s": stats(turnaround),
            "queued_s": stats(queued), "grading_s": stats(grading), "sandbox_s": stats(sandbox),
            "driver_pid": os.getpid()}


def config(n: int, slug: str = "compression-comparison") -> dict:
    from courseware.exercises.services.grading import submit

    texts = list(_texts(slug).values())
    warm = [submit(slug, f"warm{i}", texts[0]).pk for i in range(4)]  # both workers start up
    _wait(warm, 300)
    started = time.perf_counter()
    ids = [submit(slug, f"learner{i:03d}", texts[i % len(texts)]).pk for i in range(n)]
    submitted = time.perf_counter() - started
    _wait(ids, 600)
    total = time.perf_counter() - started
    return {"phase": "config", "slug": slug, "n": n, "total_s": total,
            "submit_s": submitted, **_summary(ids)}


def probe(slug: str) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("exercises:submit", args=[slug])
    except NoReverseMatch:
        return "services"
    return "http"


class HttpLearner:
    """One browser: a cookie jar, the exercise page's CSRF token, form POSTs to submit."""

    def __init__(self, base: str, slug: str) -> None:
        import http.cookiejar
        import urllib.request

        self.base, self.slug = base, slug
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self._token()

    def _token(self) -> str:
        import re

        with self.opener.open(f"{self.base}/exercises/{self.slug}/", timeout=60) as resp:
            html = resp.read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def submit(self, text: str) -> int:
        import urllib.parse
        import urllib.request

        data = urllib.parse.urlencode({"text": text, "csrfmiddlewaretoken": self.token}).encode()
        req = urllib.request.Request(f"{self.base}/exercises/{self.slug}/submit/", data=data,
                                     headers={"Referer": f"{self.base}/exercises/{self.slug}/"})
        with self.opener.open(req, timeout=60) as resp:  # follows the redirect, as a browser
            final = resp.geturl()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(final).query)
        return int(query["submission"][0])


def code(n: int, slug: str, base: str = "") -> dict:
    from courseware.exercises.services.grading import submit

    reference = _texts(slug)["reference"]
    if base:
        learner = HttpLearner(base, slug)
        send = learner.submit
    else:
        counter = iter(range(10**6))

        def send(text: str) -> int:
            return submit(slug, f"coder{next(counter):03d}", text).pk
    _wait([send(reference)], 300)  # the worker's first grading imports and warms up
    latencies, ids = [], []
    for _ in range(n):
        started = time.perf_counter()
        pk = send(reference)
        _wait([pk], 300)
        latencies.append(time.perf_counter() - started)
        ids.append(pk)
    return {"phase": "code", "slug": slug, "n": n, "via": "http" if base else "services",
            "p50_s": statistics.median(latencies), "p95_s": _pct(latencies, 95),
            "max_s": max(latencies), **_summary(ids)}


def main(argv: list[str]) -> int:
    _setup()
    if argv[0] == "probe":
        print(probe(argv[1]))
        return 0
    if argv[0] == "config":
        out = config(int(argv[1]))
    else:
        out = code(int(argv[1]), argv[2], *argv[3:4])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
