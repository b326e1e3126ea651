"""The lab and a lesson at phone width (390 px) and on a desktop (1280 px): nothing wider
than the screen, the controls one tap away, a lesson's embedded lab sized to its content.
Screenshots go to tests/artifacts/ (phone-*.png, desktop-*.png) for a human to look at."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    try:
        yield pg
    finally:
        context.close()


def _wait_lab(page):
    page.wait_for_selector("#queues .qrow")
    page.wait_for_function("() => document.getElementById('lab').labDebug().frames > 5")


def _overflowing(page) -> list[str]:
    """Elements that stick out to the right of the viewport (not inside a scroller)."""
    return page.evaluate("""() => { const W = document.documentElement.clientWidth, out = [];
        const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
            const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
            return false; };
        document.querySelectorAll('body *').forEach(e => { const r = e.getBoundingClientRect();
            if (r.width && r.right > W + 1 && !scrolls(e)) out.push(e.tagName + '#' + e.id + '.' + e.className); });
        return out; }""")


def test_the_lab_fits_a_phone_and_the_config_is_one_tap_away(phone, live_server_url, artifacts_dir):
    phone.goto(f"{live_server_url}/lab/?preset=lesson-linger")
    _wait_lab(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not _overflowing(phone)
    for el in phone.locator(".toolbar button, .toolbar select, .toolbar a").all():  # nothing clipped
        box = el.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, el.inner_text()
    phone.wait_for_timeout(600)
    phone.screenshot(path=str(artifacts_dir / "phone-lab.png"))
    phone.screenshot(path=str(artifacts_dir / "phone-lab-full.png"), full_page=True)
    jump = phone.locator(".lab-jump")
    assert jump.is_visible()
    jump.locator("a[data-tab=config]").click()
    phone.wait_for_function("""() => { const r = document.querySelector('#config-form').getBoundingClientRect();
        return r.top >= 0 && r.top < innerHeight / 2; }""")
    assert phone.locator("[name='linger.ms']").is_visible()
    phone.screenshot(path=str(artifacts_dir / "phone-lab-config.png"))
    jump.locator("a[data-tab=faults]").click()
    phone.locator("#fault-slow").wait_for(state="visible")
    jump.locator("a[href='#h-timeline']").click()
    phone.wait_for_function("() => document.getElementById('h-timeline').getBoundingClientRect().top < innerHeight / 2")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(artifacts_dir / "phone-lab-timeline.png"))


def test_a_lessons_embedded_lab_is_sized_to_its_content(phone, live_server_url, artifacts_dir):
    phone.goto(f"{live_server_url}/lessons/batching/")
    frame_el = phone.locator("iframe").first
    frame_el.scroll_into_view_if_needed()
    phone.wait_for_function("() => document.querySelector('.lab-embed iframe').dataset.sized === '1'",
                            timeout=30000)
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_function("() => document.getElementById('lab').labDebug().frames > 5")
    phone.wait_for_timeout(500)
    inner = frame.evaluate("""() => ({ h: document.documentElement.getBoundingClientRect().height,
        w: document.documentElement.scrollWidth,
        tl: document.getElementById('timeline').getBoundingClientRect().bottom })""")
    height = frame_el.bounding_box()["height"]
    assert inner["tl"] <= height            # the timeline is inside the frame, not cut off
    assert abs(height - inner["h"]) <= 4    # sized to its content, no fixed 460 px
    assert inner["w"] <= frame_el.bounding_box()["width"] + 1
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not _overflowing(phone)
    frame_el.screenshot(path=str(artifacts_dir / "phone-lesson-embed.png"))
    phone.screenshot(path=str(artifacts_dir / "phone-lesson.png"))


def test_desktop_screenshots_of_the_lab_and_a_lesson(page, live_server_url, artifacts_dir):
    page.goto(f"{live_server_url}/lab/?preset=lesson-linger")
    _wait_lab(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    assert not page.locator(".lab-jump").is_visible()  # the desktop shows the controls beside
    page.wait_for_timeout(600)
    page.screenshot(path=str(artifacts_dir / "desktop-lab.png"))
    page.goto(f"{live_server_url}/lessons/batching/")
    frame_el = page.locator("iframe").first
    frame_el.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('.lab-embed iframe').dataset.sized === '1'",
                           timeout=30000)
    frame = frame_el.element_handle().content_frame()
    tl = frame.evaluate("() => document.getElementById('timeline').getBoundingClientRect().bottom")
    assert tl <= frame_el.bounding_box()["height"]
    page.wait_for_timeout(800)
    frame_el.screenshot(path=str(artifacts_dir / "desktop-lesson-embed.png"))
