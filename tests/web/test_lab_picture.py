"""What the lab draws, checked against what the server sent (issue 11, "The lab's picture").

Playwright drives Debian's Chromium against a live daphne. The page exposes what its last
timeline drawing put on the canvas (``#lab.labDebug().drawn``: batches, axis labels, event
labels); the tests compare that with the frames, never with pixels.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

DEBUG = "document.getElementById('lab').labDebug()"


def debug(page, path: str = ""):
    return page.evaluate(f"() => {DEBUG}{path}")


def open_lab(page, live_server_url, preset: str) -> None:
    page.goto(f"{live_server_url}/lab/?preset={preset}")
    page.wait_for_selector("#queues .qrow")
    page.wait_for_function(f"() => {DEBUG}.state.lab.preset === '{preset}' && {DEBUG}.frames > 5")


# Every batch entry any frame carried since ``start`` (the test's own record, kept in the page).
RECORD_SEEN = """() => {
    const root = document.getElementById('lab');
    window.__seen = new Set();
    const grab = () => {
        const d = root.labDebug();
        if (d.state && d.state.lab.run === window.__run)
            for (const b of d.state.timeline.batches) window.__seen.add(b.topic + '-' + b.partition + '#' + b.id + '@' + b.created_ms);
        requestAnimationFrame(grab);
    };
    grab();
}"""


def test_a_preset_switch_draws_nothing_of_the_previous_run(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url, "lesson-full-batches")
    page.wait_for_function(
        f"() => {DEBUG}.drawn.batches.filter(b => b.close_reason === 'full').length > 10",
        timeout=30000)
    old_run = debug(page, ".run")
    page.select_option("#preset", "lesson-linger")
    page.wait_for_function(f"() => {DEBUG}.state.lab.preset === 'lesson-linger'")
    run = debug(page, ".state.lab.run")
    assert run != old_run
    page.evaluate(f"() => {{ window.__run = {run}; }}")
    page.evaluate(RECORD_SEEN)
    # the linger run has batches of its own on the canvas
    page.wait_for_function(
        f"() => {DEBUG}.drawn.batches.filter(b => b.close_reason === 'linger').length > 5",
        timeout=30000)
    page.wait_for_timeout(300)
    drawn = debug(page, ".drawn")
    seen = set(page.evaluate("() => Array.from(window.__seen)"))
    keys = [f"{b['topic']}-{b['partition']}#{b['id']}@{b['created_ms']}" for b in drawn["batches"]]
    stale = [k for k in keys if k not in seen]
    assert not stale, f"{len(stale)} drawn batches never came in a frame of this run: {stale[:5]}"
    # 600 records/s with linger.ms=20 never fills a 16 KB batch: no green "full" bars
    assert not [b for b in drawn["batches"] if b["close_reason"] == "full"]
    assert drawn["run"] == run
    page.screenshot(path=str(artifacts_dir / "lab-after-preset-switch.png"))


def test_a_reset_clears_the_timeline_too(page, live_server_url):
    open_lab(page, live_server_url, "lesson-full-batches")
    page.wait_for_function(f"() => {DEBUG}.state.now_ms > 1500", timeout=30000)
    before = debug(page, ".state.lab.run")
    page.click("#btn-reset")
    page.wait_for_function(f"() => {DEBUG}.state.lab.run !== {before}")
    page.wait_for_function(f"() => {DEBUG}.drawn.run !== {before}")
    now = debug(page, ".state.now_ms")
    created = [b["created_ms"] for b in debug(page, ".drawn.batches")]
    # nothing drawn that was created after the present: the old run went further
    assert all(t <= now for t in created), (now, max(created))


def test_axis_labels_differ_and_the_window_starts_at_zero(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url, "kafka-defaults")
    page.select_option("#tl-window", "60000")  # far longer than the run so far
    page.wait_for_function(f"() => {DEBUG}.drawn.end - {DEBUG}.drawn.start === 60000")
    drawn = debug(page, ".drawn")
    assert drawn["start"] >= 0 and drawn["end"] == 60000  # fills from t = 0, never below
    # past 10 s a 200 ms window used to print "18.3 s" on every tick
    page.select_option("#speed", "10.0")
    page.wait_for_function(f"() => {DEBUG}.state.now_ms > 12000", timeout=30000)
    for window in ("20", "100", "500", "2000", "auto"):
        page.select_option("#tl-window", window)
        page.wait_for_timeout(150)
        ticks = debug(page, ".drawn.ticks")
        assert len(ticks) >= 2, (window, ticks)
        assert len(set(ticks)) == len(ticks), (window, ticks)
    page.screenshot(path=str(artifacts_dir / "lab-axis-after-12s.png"))


def test_event_labels_do_not_pile_up_in_a_failover(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url, "lesson-failover")
    page.select_option("#tl-window", "10000")
    page.select_option("#speed", "5.0")
    # the preset stops broker 1 at 2 s and starts it at 8 s: bursts of elections, metadata
    # refreshes and retries, each a line with a label
    page.wait_for_function(f"() => {DEBUG}.state.now_ms > 9000", timeout=60000)
    page.wait_for_function(f"() => {DEBUG}.drawn.labels.length >= 2", timeout=30000)
    labels = debug(page, ".drawn.labels")
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if a["row"] == b["row"]:
                assert a["x1"] <= b["x0"] or b["x1"] <= a["x0"], (a, b)
    assert sum(1 + lab["more"] for lab in labels) > len(labels) or len(labels) >= 2
    page.screenshot(path=str(artifacts_dir / "lab-failover-labels.png"))


def test_the_address_bar_follows_the_acknowledged_preset(page, live_server_url):
    open_lab(page, live_server_url, "kafka-defaults")
    # pick a preset, then have the picker show another one before the ack arrives (what a
    # frame of the old preset used to do): the URL must name the preset the server runs
    page.evaluate("""() => { const sel = document.getElementById('preset');
        sel.value = 'lesson-linger'; sel.dispatchEvent(new Event('change'));
        sel.value = 'kafka-defaults'; }""")
    page.wait_for_function(f"() => {DEBUG}.state.lab.preset === 'lesson-linger'")
    page.wait_for_function("() => location.search.includes('preset=')")
    page.wait_for_timeout(300)
    assert page.evaluate("() => location.search") == "?preset=lesson-linger"
    page.wait_for_function("() => document.getElementById('preset').value === 'lesson-linger'")


def test_records_per_second_now_carries_on_across_a_reconfiguration(page, live_server_url):
    open_lab(page, live_server_url, "kafka-defaults")
    tile = page.locator("#metrics .metric[data-metric='record-send-rate']")
    assert "30 s" in tile.inner_text()  # the warm-up is said where the number shows
    assert "30 s" in tile.get_attribute("title")
    page.wait_for_function(f"() => {DEBUG}.rate && {DEBUG}.rate.now.filter(v => v > 0).length > 10")
    target = debug(page, ".state.app.rate_target")
    n_before = len(debug(page, ".rate.t"))
    page.click(".tab[data-tab=config]")
    page.fill("[name='linger.ms']", "30")
    page.click("#config-apply")
    page.wait_for_selector("#config-status.ok")
    page.wait_for_function(f"() => {DEBUG}.state.producer.generation >= 2")
    changed_at = debug(page, ".state.now_ms")
    page.wait_for_function(
        f"() => {DEBUG}.rate.t.filter(t => t * 1000 > {changed_at} + 1500).length > 5", timeout=30000)
    rate = debug(page, ".rate")
    assert len(rate["t"]) > n_before  # one series: the reconfiguration did not restart it
    after = [v for t, v in zip(rate["t"], rate["now"]) if t * 1000 > changed_at + 1500 and v is not None]
    kafka_after = [v for t, v in zip(rate["t"], rate["kafka"]) if t * 1000 > changed_at + 1500 and v is not None]
    # records keep arriving at about the workload's rate while Kafka's windowed rate warms up
    assert sorted(after)[len(after) // 2] > 0.5 * target, (after, target)
    assert min(kafka_after) < 0.5 * target, kafka_after
    assert "rebuilt" in tile.inner_text()


def test_flush_close_and_the_interceptor_counts_in_the_lab(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url, "lesson-interceptors")
    box = page.locator("#interceptors .icpt")
    box.wait_for()
    assert "CountingInterceptor" in box.inner_text() and "lab-seq" in box.inner_text()
    page.wait_for_function(
        "() => +document.querySelector('#interceptors .n-send').textContent.replace(/[^0-9]/g, '') > 100")
    stats = debug(page, ".state.lab.interceptors[0]")
    assert stats["on_acknowledgement"] <= stats["on_send"]
    page.select_option("#tl-window", "10000")  # the flushed batches stay in view
    page.click("#btn-flush")
    page.wait_for_function(f"() => {DEBUG}.drawn.batches.some(b => b.close_reason === 'flush')")
    page.wait_for_function("() => document.getElementById('producer-notice').textContent.includes('returned after')")
    page.fill("#close-timeout", "300")
    page.click("#btn-close")
    page.wait_for_function(f"() => {DEBUG}.state.producer.closed === true")
    page.wait_for_function("() => document.getElementById('btn-flush').disabled")
    assert "close()" in page.inner_text("#producer-notice")
    page.screenshot(path=str(artifacts_dir / "lab-flush-close.png"))


def test_the_slow_broker_form_says_it_slows_acks_all_elsewhere(page, live_server_url):
    open_lab(page, live_server_url, "kafka-defaults")
    page.click(".tab[data-tab=faults]")
    form = page.locator("#fault-slow")
    assert "acks=all" in form.inner_text() and "follower" in form.inner_text()
    page.select_option("#fault-slow select[name=broker]", "1")
    note = page.locator("#slow-note")
    page.wait_for_function("() => document.getElementById('slow-note').textContent.includes('Broker 1')")
    cluster = debug(page, ".state.cluster.partitions")
    follows = [f"{p['topic']}-{p['partition']}" for p in cluster if p["leader"] != 1 and 1 in p["isr"]]
    assert follows and all(name in note.inner_text() for name in follows)
    assert "acks=all (now)" in note.inner_text()
