"""Issue 11 in Chromium: the lab shows Kafka's "would ignore" warning for an unknown key and
draws a topic the broker auto-created (Playwright against a live daphne)."""

from __future__ import annotations

import pytest

from tests.web.test_browser import open_lab, state

pytestmark = pytest.mark.browser


def test_an_unknown_key_is_applied_with_a_visible_warning(page, live_server_url,
                                                         artifacts_dir):
    open_lab(page, live_server_url)
    page.click(".tab[data-tab=config]")
    page.fill("#cfg-extra-key", "linger.msec")
    page.fill("#cfg-extra-value", "50")
    page.click("#config-apply")
    page.wait_for_selector("#config-status.warn")
    assert "Kafka would ignore `linger.msec` — did you mean `linger.ms`?" in \
        page.inner_text("#config-status")
    page.wait_for_selector("#config-notes .warning")
    assert "did you mean `linger.ms`" in page.inner_text("#config-notes .warning")
    assert state(page, ".config['linger.ms']") == 5  # ignored, as Kafka ignores it
    page.screenshot(path=str(artifacts_dir / "lab-unknown-key.png"))


def test_a_new_topic_without_partitions_is_auto_created_and_drawn(page, live_server_url,
                                                                 artifacts_dir):
    open_lab(page, live_server_url)
    page.click(".tab[data-tab=workload]")
    page.fill("#workload-form [name=topic]", "ordres")
    page.fill("#workload-form [name=partitions]", "")
    page.click("#workload-form button[type=submit]")
    page.wait_for_selector("#workload-status.ok")
    page.wait_for_function("() => document.getElementById('queues').innerText"
                           ".includes('ordres-0')", timeout=20000)
    topics = {p["topic"] for p in state(page, ".partitions")}
    assert "ordres" in topics
    assert not page.locator("#queues :text('ordres-1')").count()
    page.click(".tab[data-tab=events]")
    page.wait_for_function("() => document.body.innerText.includes('auto-created')",
                           timeout=20000)
    page.screenshot(path=str(artifacts_dir / "lab-auto-created-topic.png"))
