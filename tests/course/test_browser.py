"""The course in Debian's Chromium against a live daphne server: every page opens, reads
well enough to screenshot, and its interactive parts work with htmx.

Screenshots go to tests/artifacts/course-*.png for a human to look at.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PAGES = [
    ("home", "/"),
    ("lesson-1", "/lessons/architecture/"),
    ("lesson-2", "/lessons/batching/"),
    ("lesson-3", "/lessons/compression/"),
    ("lesson-4", "/lessons/buffer-memory/"),
    ("lesson-5", "/lessons/sender-delivery/"),
    ("lesson-6", "/lessons/interceptors-metrics/"),
    ("lesson-7", "/lessons/spring-kafka/"),
    ("incident", "/incident/"),
    ("mistakes", "/mistakes/"),
    ("mistake-blocking", "/mistakes/blocking-send/"),
    ("debug", "/debug/throughput-drop/"),
    ("interview", "/interview/"),
    ("interview-q1", "/interview/interview-batching/"),
    ("quiz", "/quiz/"),
    ("export", "/export/?batch.size=65536&linger.ms=20&compression.type=lz4&buffer.memory=67108864"),
    ("measure", "/compression/measure/?data=json-orders"),
    ("signup", "/signup/"),
]


@pytest.mark.parametrize("name, path", PAGES, ids=[p[0] for p in PAGES])
def test_page_opens_without_errors(page, live_server_url, artifacts_dir, name, path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    resp = page.goto(live_server_url + path, wait_until="domcontentloaded")
    assert resp.status == 200
    assert page.locator("h1").first.is_visible()
    # The course stylesheet applied (not an unstyled page).
    assert page.evaluate("() => getComputedStyle(document.querySelector('.course')).maxWidth") \
        not in ("none", "")
    if page.locator("iframe").count():
        page.locator("iframe").first.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts_dir / f"course-{name}.png"), full_page=True)
    assert not errors, errors


def test_embedded_lab_loads_inside_the_lesson(page, live_server_url, artifacts_dir):
    page.goto(live_server_url + "/lessons/batching/", wait_until="domcontentloaded")
    frame_el = page.locator("iframe").first
    frame_el.scroll_into_view_if_needed()
    # the lesson starts this embed slowed down, so its 5 ms linger can be watched
    assert frame_el.get_attribute("src") == "/lab/embed/lesson-linger/?speed=0.05"
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_load_state("domcontentloaded")
    assert frame.url.endswith("/lab/embed/lesson-linger/?speed=0.05")
    frame.wait_for_function("() => document.body.innerText.includes('Partition queues')")
    frame.wait_for_function("() => /orders-0/.test(document.body.innerText)")  # frames arrive
    page.wait_for_timeout(2500)
    frame_el.screenshot(path=str(artifacts_dir / "course-lesson-embed.png"))


def test_checkpoint_is_checked_in_place_with_htmx(page, live_server_url, artifacts_dir):
    page.goto(live_server_url + "/lessons/architecture/", wait_until="domcontentloaded")
    q = page.locator("#q-arch-thread")
    q.scroll_into_view_if_needed()
    q.locator("input[type=radio]").nth(0).check()
    url_before = page.url
    q.locator("button[type=submit]").click()
    page.wait_for_selector("#q-arch-thread.is-wrong")
    assert page.url == url_before  # swapped in place, no navigation
    assert "Not quite" in page.locator("#q-arch-thread .verdict").inner_text()
    page.locator("#q-arch-thread input[type=radio]").nth(1).check()
    # a first wrong answer gets a hint, not the answer
    assert "Hint:" in page.locator("#q-arch-thread .verdict").inner_text()
    assert "Sender thread" not in page.locator("#q-arch-thread .verdict").inner_text()
    page.locator("#q-arch-thread form:not(.reveal-form) button[type=submit]").click()
    page.wait_for_selector("#q-arch-thread.is-correct")
    page.locator("#q-arch-thread").screenshot(path=str(artifacts_dir / "course-checkpoint.png"))


def test_progress_shows_on_the_home_page(page, live_server_url):
    page.goto(live_server_url + "/lessons/architecture/", wait_until="domcontentloaded")
    page.click("#complete button[type=submit]")
    page.wait_for_selector("#complete .done-badge")
    page.goto(live_server_url + "/", wait_until="domcontentloaded")
    assert re.search(r"1 of 7 lessons done", page.inner_text(".progress-summary"))


def test_measure_form_updates_the_table_with_htmx(page, live_server_url, artifacts_dir):
    page.goto(live_server_url + "/lessons/compression/", wait_until="domcontentloaded")
    box = page.locator(".measure-box")
    box.scroll_into_view_if_needed()
    box.locator("input[value=random]").check()
    box.locator("button[type=submit]").click()
    page.wait_for_selector(".measure-box table.codecs")
    text = box.inner_text()
    assert "zstd" in text and "random bytes" in text
    box.screenshot(path=str(artifacts_dir / "course-measure-inline.png"))


def test_interview_reveal_flow(page, live_server_url, artifacts_dir):
    page.goto(live_server_url + "/interview/interview-memory/", wait_until="domcontentloaded")
    assert page.locator(".reveal").count() == 0
    page.fill("textarea[name=answer]", "A shared pool; send blocks up to max.block.ms.")
    page.click("button[value=reveal]")
    page.wait_for_selector(".reveal")
    assert "Our model answer" in page.inner_text(".reveal")
    page.reload(wait_until="domcontentloaded")
    assert "A shared pool" in page.input_value("textarea[name=answer]")
    page.screenshot(path=str(artifacts_dir / "course-interview-revealed.png"), full_page=True)


def test_debug_answer_is_graded_by_replaying(page, live_server_url, artifacts_dir):
    page.set_default_timeout(120_000)
    page.goto(live_server_url + "/debug/throughput-drop/", wait_until="domcontentloaded")
    page.check("input[value=batch-size]")
    page.fill("textarea[name=fix]", "batch.size=65536")
    page.click("#answer button[type=submit]")
    page.wait_for_selector("#answer .verdict")
    assert "Fixed." in page.inner_text("#answer .verdict")
    page.locator("#answer").screenshot(path=str(artifacts_dir / "course-debug-graded.png"))
