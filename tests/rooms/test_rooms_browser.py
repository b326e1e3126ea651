"""Rooms in Chromium: presenter, projector and two followers (one on a 390 px phone).
The presenter stops a broker with a keyboard shortcut and both followers show it (the
latency is printed, not asserted); a follower forks and changes its own copy while the
room goes on; screenshots of the four views go to tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.conftest import start_daphne, stop_process
from tests.rooms.helpers import open_room

WATCH_B2 = """() => new Promise(resolve => {
  const root = document.getElementById('lab');
  const check = () => { const b = root.querySelector('.broker[data-broker="2"]');
    if (b && b.dataset.up === '0') { window.__b2down = Date.now(); return true; } return false; };
  if (check()) return resolve(true);
  new MutationObserver((m, obs) => { if (check()) obs.disconnect(); })
    .observe(root, {subtree: true, childList: true, attributes: true});
  resolve(true);
})"""


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
        for pg in (laptop, phone):
            pg.evaluate(WATCH_B2)
        start = presenter.evaluate("Date.now()")
        presenter.locator("body").press("2")  # shortcut: stop/start broker 2
        for pg in (laptop, phone, projector):
            pg.wait_for_selector('.broker[data-broker="2"][data-up="0"]')
        latencies = [pg.evaluate("window.__b2down") - start for pg in (laptop, phone)]
        print(f"\npresenter stop broker 2 -> follower shows it: {latencies} ms "
              "(wall clock, loaded machine)")
        assert "DOWN" in laptop.inner_text('.broker[data-broker="2"]')
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
        assert pg.inner_text("#scene-notes").strip() not in ("", "(no notes)")
    finally:
        context.close()
