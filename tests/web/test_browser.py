"""The lab in Debian's Chromium against a live daphne server (Playwright).

Each test reads the lab the way a learner does — what is on the page — and checks it against
the state the page received (``#lab.labDebug()``), then saves a screenshot to
tests/artifacts/ for a human to look at.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def state(page, path: str = ""):
    return page.evaluate(f"() => document.getElementById('lab').labDebug().state{path}")


def open_lab(page, live_server_url, query="?preset=kafka-defaults"):
    page.goto(f"{live_server_url}/lab/{query}")
    page.wait_for_selector("#queues .qrow")
    page.wait_for_function("() => document.getElementById('lab').labDebug().frames > 5")


def apply_config(page, key: str, value: str) -> None:
    page.click(".tab[data-tab=config]")
    page.fill(f"[name='{key}']", value)
    page.click("#config-apply")
    page.wait_for_selector("#config-status.ok")


def test_the_lab_renders_queues_buffer_pool_and_timeline(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url)
    parts = state(page, ".partitions")
    assert page.locator("#queues .qrow").count() == len(parts) > 0
    first = parts[0]
    assert f"{first['topic']}-{first['partition']}" in page.inner_text("#queues")
    pool = page.inner_text("#pool")
    assert "available" in pool and "free list" in pool and "threads waiting" in pool
    assert "32.0 MiB" in pool or "32 MiB" in pool  # buffer.memory's default, with its number
    # the timeline has batches, and the page draws them: the canvas is not blank
    page.wait_for_function(
        "() => document.getElementById('lab').labDebug().state.timeline.batches.length > 3")
    painted = page.evaluate("""() => {
        const c = document.getElementById('timeline'), ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i+2] < 200) n++;
        return n; }""")
    assert painted > 500
    assert page.locator("#sender .irow").count() == len(state(page, ".inflight"))
    assert page.locator("#brokers .broker").count() == len(state(page, ".cluster.brokers"))
    assert page.locator("#metrics .metric").count() >= 10
    assert "send latency p50 / p95 / p99" in page.inner_text("#metrics")
    assert "KIP-1030" in page.inner_text("#config-form")
    page.screenshot(path=str(artifacts_dir / "lab-1280x800.png"))
    page.screenshot(path=str(artifacts_dir / "lab-full.png"), full_page=True)


def _linger_spans(page, since_ms):
    return page.evaluate(f"""() => document.getElementById('lab').labDebug().state.timeline.batches
        .filter(b => b.created_ms >= {since_ms} && b.closed_ms !== null && b.close_reason === 'linger')
        .map(b => b.closed_ms - b.created_ms)""")


def test_changing_linger_ms_changes_what_the_timeline_shows(page, live_server_url,
                                                            artifacts_dir):
    open_lab(page, live_server_url)
    page.wait_for_function(
        "() => document.getElementById('lab').labDebug().state.timeline.batches"
        ".filter(b => b.close_reason === 'linger').length > 3")
    before = _linger_spans(page, 0)
    assert before and max(before) <= 10  # linger.ms=5: batches close 5 ms after creation
    # 5000 records/s over six partitions fill a 16 KB batch in about 50 ms, so with
    # linger.ms=25 batches now wait 25 ms for company before they close on linger
    apply_config(page, "linger.ms", "25")
    changed_at = state(page, ".now_ms")
    page.wait_for_function(f"""() => document.getElementById('lab').labDebug().state.timeline.batches
        .filter(b => b.created_ms >= {changed_at} && b.close_reason === 'linger').length >= 5""",
                           timeout=30000)
    after = _linger_spans(page, changed_at)
    assert min(after) >= 25, after
    assert state(page, ".config['linger.ms']") == 25
    page.locator(".cfg-field[data-key='linger.ms'] .changed").wait_for(state="visible")
    page.wait_for_timeout(400)
    page.screenshot(path=str(artifacts_dir / "lab-linger-25.png"))


def test_inline_validation_names_the_rule(page, live_server_url):
    open_lab(page, live_server_url)
    page.fill("[name='linger.ms']", "-3")
    msg = page.locator("#cfg-linger-ms-msg .field-error")
    msg.wait_for()
    assert "linger.ms" in msg.inner_text() and "-3" in msg.inner_text()
    page.fill("[name='linger.ms']", "20")
    page.locator("#cfg-linger-ms-msg .field-ok").wait_for()


def test_stopping_a_leader_broker_shows_the_failover(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url)
    page.select_option("#speed", "5.0")
    cluster = state(page, ".cluster")
    leader = cluster["partitions"][0]["leader"]
    led = [(p["topic"], p["partition"]) for p in cluster["partitions"] if p["leader"] == leader]
    page.click(f"#brokers .broker[data-broker='{leader}'] button")
    card = page.locator(f"#brokers .broker[data-broker='{leader}']")
    page.wait_for_function(
        f"() => document.querySelector(\"#brokers .broker[data-broker='{leader}']\").dataset.up === '0'")
    assert "DOWN" in card.inner_text()
    # the controller elects new leaders from the ISR; the table shows them
    page.wait_for_function(f"""() => {{
        const ps = document.getElementById('lab').labDebug().state.cluster.partitions;
        return ps.filter(p => p.leader === {leader}).length === 0 &&
               ps.every(p => p.leader !== null); }}""", timeout=30000)
    now = state(page, ".cluster.partitions")
    for topic, partition in led:
        p = next(x for x in now if x["topic"] == topic and x["partition"] == partition)
        assert p["leader"] != leader and leader not in p["isr"]
    page.click(".leaders-box summary")  # the partition table: leader, ISR, epoch
    for topic, partition in led:
        p = next(x for x in now if x["topic"] == topic and x["partition"] == partition)
        row = page.locator("#leaders tr", has_text=f"{topic}-{partition}").first
        page.wait_for_function(
            f"() => document.querySelector('#leaders').innerText.includes('{topic}-{partition}')")
        cells = row.locator("td").all_inner_texts()
        assert cells[1] != f"b{leader}" and str(leader) not in cells[2].split(","), cells
        assert int(cells[3]) >= 1  # a new leader epoch
        qrow = page.inner_text(f"#queues .qrow[data-tp='{topic}-{partition}']")
        assert f"leader b{leader}" not in qrow
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "lab-failover.png"))


def test_step_mode_advances_one_event_at_a_time(page, live_server_url, artifacts_dir):
    open_lab(page, live_server_url)
    page.locator("body").press(".")
    page.wait_for_function("() => { const l = document.getElementById('lab').labDebug().state.lab;"
                           " return l.paused && l.last_step; }")
    # the page draws on the next animation frame: wait for the button, then read
    page.wait_for_function("() => document.getElementById('btn-pause').textContent === 'Resume'")
    page.wait_for_selector("#banner:not([hidden])")
    first = state(page, ".lab.last_step")
    assert first["events"] >= 1 and first["engine_steps"] >= 1
    banner = page.inner_text("#banner")
    assert "Step:" in banner and first["recent"][-1]["text"].split()[1] in banner
    page.locator("body").press(".")
    page.wait_for_function(f"""() => {{ const s = document.getElementById('lab').labDebug().state.lab.last_step;
        return s && s.from_ms === {first['to_ms']} && JSON.stringify(s) !== '{_js(first)}'; }}""")
    second = state(page, ".lab.last_step")
    assert second["from_ms"] == first["to_ms"] and second["to_ms"] >= first["to_ms"]
    # paused: virtual time stays put between steps
    t = state(page, ".now_ms")
    page.wait_for_timeout(500)
    assert state(page, ".now_ms") == t
    page.screenshot(path=str(artifacts_dir / "lab-step.png"))
    page.locator("body").press(" ")
    page.wait_for_function("() => !document.getElementById('lab').labDebug().state.lab.paused")


def _js(value) -> str:
    import json

    return json.dumps(value).replace("\\", "\\\\").replace("'", "\\'")


def test_keyboard_help_and_slow_motion(page, live_server_url):
    open_lab(page, live_server_url)
    page.locator("body").press("?")
    assert page.locator("#help").is_visible()
    assert "no transactions" in page.inner_text("#help")
    page.keyboard.press("Escape")
    speed = state(page, ".lab.speed")
    page.locator("body").press("[")
    page.wait_for_function(f"() => document.getElementById('lab').labDebug().state.lab.speed < {speed}")
    page.locator("body").press("]")
    page.wait_for_function(f"() => document.getElementById('lab').labDebug().state.lab.speed === {speed}")


def test_the_embedded_lab_streams_its_preset(page, live_server_url, artifacts_dir):
    page.set_viewport_size({"width": 900, "height": 640})
    page.goto(f"{live_server_url}/lab/embed/incident/")
    page.wait_for_selector("#queues .qrow")
    page.wait_for_function("() => document.getElementById('lab').labDebug().frames > 5")
    assert state(page, ".lab.preset") == "incident"
    assert page.locator("#timeline").is_visible()
    page.screenshot(path=str(artifacts_dir / "embed-incident.png"))


def test_the_lab_notices_frames_stopping_and_reconnects(page, tmp_path, artifacts_dir):
    """A socket that stays open while nothing arrives (the server stopped: SIGSTOP) is
    dropped after a few seconds; the page says it is reconnecting, and once the server runs
    again the new socket brings a full frame and frames flow."""
    import os
    import signal

    from tests.conftest import start_daphne, stop_process

    proc, url = start_daphne(tmp_path, worker=False)
    try:
        open_lab(page, url)
        frames = page.evaluate("() => document.getElementById('lab').labDebug().frames")
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            page.wait_for_function(
                "() => /no frames for \\d+ s/.test(document.getElementById('conn').textContent)",
                timeout=30000)
            assert "reconnecting" in page.inner_text("#conn")
            page.screenshot(path=str(artifacts_dir / "lab-reconnecting.png"))
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        page.wait_for_function("() => document.getElementById('conn').textContent === 'live'",
                               timeout=60000)
        page.wait_for_function(
            f"() => document.getElementById('lab').labDebug().frames > {frames + 5}",
            timeout=30000)
        assert page.locator("#queues .qrow").count() > 0
    finally:
        stop_process(proc)
