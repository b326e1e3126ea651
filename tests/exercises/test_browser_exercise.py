"""A learner in Debian's Chromium against live daphne + worker: opens an exercise, writes
code in the CodeMirror editor (its doc set through the editor's API, then real keystrokes),
runs it against the sample, submits, watches queued → graded without a reload, reads the
per-goal result and follows "replay my run" into the lab, which opens paused at the moment
that mattered.

Hook for the instructor half (branch ``gradebook``): ``learner_submits(page, url)`` returns
the learner's name and the submission id; the gradebook test can call it with one browser
context and then open the gradebook as an instructor in another.

Screenshots: tests/artifacts/exercise-*.png (desktop and a 390 px phone).
"""

from __future__ import annotations

import re

import pytest

from tests.exercises.standin import content

pytestmark = pytest.mark.browser

SLUG = "metrics-dashboard"  # a code exercise that grades in seconds
GRADE_TIMEOUT_MS = 240_000  # a cap, not a speed target: the machine is shared


def _type_into_editor(page, text: str, typed: str) -> None:
    page.wait_for_selector(".cm-editor .cm-content")
    # The editor's API sets the bulk of the doc; the last line is typed as keystrokes.
    page.evaluate("""(text) => {
        const view = document.getElementById('answer-text').editorView;
        window.ProducerLabEditor.setDoc(view, text);
    }""", text)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(typed)


def learner_submits(page, url: str, artifacts_dir=None) -> dict:
    """Open the exercise, write the reference solution in the editor, submit, wait for the
    grade. Returns {"submission": id, "learner": anon name, "text": what was submitted}."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    resp = page.goto(f"{url}/exercises/{SLUG}/", wait_until="domcontentloaded")
    assert resp.status == 200
    assert page.locator("h1").inner_text().strip()
    # the learner's own numbers are on the page
    assert page.locator("table.variant tr").count() >= 5
    # hints are hidden until asked for
    first_hint = page.locator(".hints details").first
    assert first_hint.get_attribute("open") is None
    first_hint.locator("summary").click()
    assert first_hint.get_attribute("open") is not None

    marker = "# typed in the browser"
    _type_into_editor(page, content(SLUG, "reference.py").rstrip("\n"), marker)
    # The textarea (the form field) follows the editor.
    field = page.evaluate("() => document.getElementById('answer-text').value")
    assert marker in field and "class Collector" in field

    # Run against the sample: output, not a grade.
    page.locator("#run-btn").click()
    page.wait_for_selector("#run .job, #run p", timeout=15000)
    page.wait_for_function(
        "() => document.querySelector('#run') && !document.querySelector('#run .job')"
        " && document.querySelector('#run').innerText.includes('report')",
        timeout=GRADE_TIMEOUT_MS)
    assert "finished" in page.locator("#run").inner_text()
    assert page.locator("#attempts strong").first.inner_text() == "0"

    page.locator("#submit-btn").click()
    # progress shows without a reload: the badge first says queued or running
    badge = page.locator("#result .badge").first
    badge.wait_for(timeout=15000)
    seen = {badge.inner_text().strip().lower()}
    assert seen & {"queued", "running", "graded"}
    page.wait_for_selector("#result .verdict[data-status]", timeout=GRADE_TIMEOUT_MS)
    status = page.locator("#result .verdict").get_attribute("data-status")
    assert status == "graded", page.locator("#result").inner_text()
    assert page.locator("#result .score strong").inner_text() == "1.00"
    rows = page.locator("#result table.goals-result tbody tr")
    assert rows.count() == 5
    assert page.locator("#result tr.fail").count() == 0
    # the learner's dashboard beside the engine's metrics from the graded run
    assert page.locator("#result table.dashboard tbody tr").count() >= 5
    # attempts and best score updated in place (out-of-band swap), explanation after a reload
    page.wait_for_function(
        "() => document.querySelector('#attempts strong').textContent.trim() === '1'")
    assert page.locator("#attempts .solved").is_visible()
    assert not errors, errors
    href = page.locator("#replay-link").get_attribute("href")
    submission = int(re.search(r"replay=(\d+)", href).group(1))
    if artifacts_dir is not None:
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector(".cm-editor")
        assert "Java" in page.locator("#explanation").inner_text()
        page.screenshot(path=str(artifacts_dir / "exercise-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#result").screenshot(path=str(artifacts_dir / "exercise-phone-result.png"))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.set_viewport_size({"width": 1280, "height": 900})
    return {"submission": submission, "text": field}


def test_learner_writes_submits_and_replays(browser, live_server_url, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        done = learner_submits(page, live_server_url, artifacts_dir)
        page.locator("#replay-link").click()
        page.wait_for_url(re.compile(r"/lab/\?replay=\d+"))
        note = page.locator("#replay-note")
        assert note.is_visible()
        at_ms = int(note.get_attribute("data-at-ms"))
        assert at_ms > 0
        # the lab's first frame is the replayed run, paused at the moment that mattered
        page.wait_for_function("() => document.getElementById('lab').dataset.now !== undefined",
                               timeout=30000)
        page.wait_for_function("(t) => +document.getElementById('lab').dataset.now >= t",
                               arg=at_ms, timeout=30000)
        assert page.locator("#eff").inner_text().strip() == "paused"
        assert int(page.evaluate("() => +document.getElementById('lab').dataset.now")) == at_ms
        page.screenshot(path=str(artifacts_dir / "exercise-replay-lab.png"))
        assert done["submission"] > 0
        _your_dashboard_follows_the_replay(page, at_ms, artifacts_dir)
        # Instructor half: the gradebook helper's test takes it from here (see module doc).
    finally:
        context.close()


def _your_dashboard_follows_the_replay(page, at_ms: int, artifacts_dir) -> None:
    """Beside the lab's metrics panel: the learner's dashboard reading of the graded run at
    the replay's virtual instant, which moves on as the replay plays."""
    panel = page.locator("#your-dashboard")
    assert panel.is_visible()
    metrics_box, panel_box = page.locator("section.metrics").bounding_box(), panel.bounding_box()
    assert panel_box["x"] >= metrics_box["x"] + metrics_box["width"] - 1  # beside, not below
    page.wait_for_function("() => document.getElementById('your-dashboard').dataset.atMs")
    first = int(panel.get_attribute("data-at-ms"))
    assert at_ms - 1100 < first <= at_ms  # the last reading the replay's clock has passed
    rows = page.locator("#dash-rows tr")
    assert rows.count() >= 7  # 2 topics, batch size, buffer, 3 percentiles (+ error types)
    assert page.locator("#dash-rows td.ok").count() == rows.count()  # the reference: all in
    assert "records_per_s · orders" in page.locator("#dash-rows").inner_text()
    assert f"Reading at {first / 1000:g} s" in page.locator("#dash-when").inner_text()
    engine_before = page.locator("#dash-rows tr").first.locator("td.num").nth(1).inner_text()
    page.locator("#btn-pause").click()  # play on
    page.wait_for_function(
        "(t) => +document.getElementById('your-dashboard').dataset.atMs >= t + 2000",
        arg=first, timeout=60000)
    page.locator("#btn-pause").click()  # and pause, to look at it
    # read in one go (a frame still in flight may move the panel on): the reading shown, its
    # engine figures on screen and the ones the graded run recorded at that instant. A steady
    # 500 records/s can read "498.3" at both instants, so the figures are compared with the
    # page's data, not with the earlier text.
    now = page.evaluate("""() => {
        const panel = document.getElementById('your-dashboard');
        const at = +panel.dataset.atMs;
        const data = JSON.parse(document.getElementById('your-dashboard-data').textContent);
        const reading = data.readings.find(r => r.at_ms === at);
        const fmt = (x) => typeof x === 'number'
            ? x.toLocaleString('en', {maximumFractionDigits: Math.abs(x) >= 100 ? 1 : 3})
            : String(x);
        return {
            at: at,
            when: document.getElementById('dash-when').textContent,
            expected: reading.rows.filter(r => r.figure !== 'error').map(r => fmt(r.engine)),
            shown: Array.from(document.querySelectorAll('#dash-rows tr'))
                .map(tr => tr.querySelectorAll('td.num'))
                .filter(tds => tds.length === 2).map(tds => tds[1].textContent),
        };
    }""")
    assert now["at"] >= first + 2000
    assert f"Reading at {now['at'] / 1000:g} s" in now["when"]
    assert len(now["shown"]) >= 7 and now["shown"] == now["expected"]
    assert engine_before  # the first reading showed a figure too
    page.locator("section.metrics").scroll_into_view_if_needed()
    if artifacts_dir is not None:
        page.locator(".metrics-beside").screenshot(
            path=str(artifacts_dir / "exercise-replay-your-dashboard.png"))


def test_phone_layout_reads(browser, live_server_url, artifacts_dir):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(f"{live_server_url}/exercises/{SLUG}/", wait_until="domcontentloaded")
        page.wait_for_selector(".cm-editor")
        # nothing wider than the screen
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390, overflow
        page.screenshot(path=str(artifacts_dir / "exercise-phone.png"), full_page=True)
        page.locator("#work").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "exercise-phone-editor.png"))
        page.goto(f"{live_server_url}/exercises/", wait_until="domcontentloaded")
        assert page.locator(".exercise-list li").count() == 5
    finally:
        context.close()


def test_batching_sweep_plots_and_codec_csv(browser, live_server_url, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        page.goto(f"{live_server_url}/exercises/compression-comparison/",
                  wait_until="domcontentloaded")
        page.locator("#sweep-btn").click()
        page.wait_for_selector("#csv-link", timeout=GRADE_TIMEOUT_MS)
        rows = page.locator("#sweep table.metrics tbody tr")
        assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == \
            ["none", "gzip", "snappy", "lz4", "zstd"]
        with page.expect_download() as dl:
            page.locator("#csv-link").click()
        with open(dl.value.path()) as f:
            csv_text = f.read()
        assert csv_text.splitlines()[0].startswith("codec,compression_ratio")
        assert len(csv_text.splitlines()) == 6

        page.goto(f"{live_server_url}/exercises/batching-benchmark/",
                  wait_until="domcontentloaded")
        page.locator("#sweep-btn").click()
        page.wait_for_selector("#sweep progress", timeout=15000)
        page.wait_for_selector("#sweep .charts canvas", timeout=GRADE_TIMEOUT_MS)
        assert page.locator("#sweep .charts .uplot").count() == 2
        # 5 linger.ms lines on the throughput plot (plus the x series in the legend)
        assert page.locator('[data-chart="throughput"] .u-legend .u-series').count() == 6
        page.locator("#sweep").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "exercise-sweep.png"), full_page=True)
    finally:
        context.close()


def test_without_javascript_the_plain_form_still_submits(browser, live_server_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        page.goto(f"{live_server_url}/exercises/health-check/", wait_until="domcontentloaded")
        assert page.locator(".cm-editor").count() == 0  # no editor: the textarea itself
        page.locator("#answer-text").fill("def check_health(history:\n")
        page.locator("#submit-btn").click()
        page.wait_for_url(re.compile(r"\?submission=\d+"))
        # no polling without JS: the page offers a refresh link until the grade is there
        for _ in range(120):
            if page.locator("#result .verdict").count():
                break
            page.wait_for_timeout(1000)
            page.goto(page.url.split("#")[0], wait_until="domcontentloaded")
        verdict = page.locator("#result .verdict")
        assert verdict.get_attribute("data-status") == "invalid"
        assert "Syntax error" in verdict.inner_text()
        assert "not counted as an attempt" in verdict.inner_text()
        assert page.locator("#attempts strong").first.inner_text() == "0"
    finally:
        context.close()
