"""Shared fixtures: a live daphne server, a Playwright page on Debian's Chromium, artifacts.

* ``live_server_url`` (session): a real ``daphne`` subprocess on 127.0.0.1 and a free port,
  against a temporary SQLite database (``DATABASE_URL``) migrated and loaded with
  ``manage.py load_courseware``; killed at the end of the session.
* ``browser`` (session) and ``page`` (per test): Playwright driving ``/usr/bin/chromium``
  with the flags from TESTING.md.  Without a browser the test is skipped — unless
  ``REQUIRE_BROWSER=1`` (CI), which turns that into a failure.
* ``artifacts_dir``: ``tests/artifacts/`` (git-ignored) for screenshots.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(db_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{db_path}",
        "DJANGO_SETTINGS_MODULE": "courseware.settings",
        "DJANGO_DEBUG": "0",  # like `make run` (static files from collectstatic)
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)
    return env


def start_daphne(tmp: Path, *, extra_env: dict[str, str] | None = None,
                 timeout_s: float = 60.0, migrate: bool = True,
                 worker: bool | None = None) -> tuple[subprocess.Popen, str]:
    """Migrate a fresh SQLite DB in ``tmp``, load the courseware, start daphne and, beside it
    on the same DB, a ``manage.py worker`` (as ``make run`` does); (proc, url).

    ``migrate=False`` starts another server on the same database (scale-out tests) and by
    default no second worker.  The worker is ``proc.worker``; ``stop_process`` stops both.
    """
    env = _server_env(tmp / "db.sqlite3")
    env.update(extra_env or {})
    manage = [sys.executable, str(ROOT / "manage.py")]
    for args in (["migrate", "--noinput"], ["load_courseware"]) if migrate else ():
        done = subprocess.run(manage + args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    port = free_port()
    log_path = tmp / f"daphne-{port}.log"
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "courseware.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.worker = None
    if migrate if worker is None else worker:
        with open(tmp / f"worker-{port}.log", "w") as log:
            proc.worker = subprocess.Popen(
                manage + ["worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # its own group: stopping it stops its children
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            stop_process(proc)
            raise RuntimeError(f"daphne exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/lab/", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:  # not listening yet
            pass
        if time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError(f"daphne did not answer:\n{log_path.read_text()}")
        time.sleep(0.2)
    return proc, url


def stop_process(proc: subprocess.Popen) -> None:
    worker = getattr(proc, "worker", None)
    if worker is not None and worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server_url(tmp_path_factory):
    """Base URL of a real daphne serving the whole app (session-scoped)."""
    tmp = tmp_path_factory.mktemp("live")
    proc, url = start_daphne(tmp)
    try:
        yield url
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = ROOT / "tests" / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _no_browser(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but no browser: {reason}")
    pytest.skip(f"no browser: {reason}")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _no_browser(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        _no_browser(f"playwright not importable: {exc}")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch failure means "no browser"
        pw.stop()
        _no_browser(f"chromium did not start: {exc}")
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies, so its own labs) at 1280×800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    try:
        yield pg
    finally:
        context.close()


def in_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a thread of its own: code that calls ``asyncio.run`` (the
    benches, raw-socket clients) cannot run where Playwright's sync API keeps an event loop
    running on the main thread, as it does once a browser test ran in this session."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()
