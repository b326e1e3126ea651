"""Engine-computed quiz answers and the debug-this grader (both re-run the engine)."""

from __future__ import annotations

import pytest

from courseware.course.models import DebugSubmission, Question
from courseware.course.services import computed, content, debugging


def _q(slug: str) -> dict:
    return next(q for q in content.quiz_questions() if q["slug"] == slug)


def test_every_quiz_question_is_answered_by_the_engine_and_checked(client, course):
    for q in Question.objects.filter(kind="computed"):
        want = computed.answer(q.compute, q.params)
        assert want > 0
        r = client.post(f"/questions/{q.slug}/answer/", {"answer": f"{want:g}"},
                        HTTP_HX_REQUEST="true")
        assert "Correct." in r.content.decode(), q.slug
        wrong = want + 1 if q.tolerance == 0 else want * (1 + 3 * q.tolerance)
        r = client.post(f"/questions/{q.slug}/answer/", {"answer": f"{wrong:g}"},
                        HTTP_HX_REQUEST="true")
        assert "Not quite." in r.content.decode(), q.slug


def test_answers_follow_the_question_parameters_not_a_table():
    base = _q("quiz-requests-burst")["params"]
    more = dict(base, records=base["records"] * 5)
    assert computed.answer("produce_requests", more) > computed.answer("produce_requests", base)
    keyless = dict(base)
    keyed = dict(base, keys="distinct")
    # Keys spread records over all partitions; the sticky partitioner fills one at a time.
    assert computed.answer("batches", keyed) > computed.answer("batches", keyless)
    rnd = dict(_q("quiz-compression-rate")["params"], data="random")
    assert computed.answer("compression_rate", rnd) > 0.97
    assert computed.answer("compression_rate", _q("quiz-compression-rate")["params"]) < 0.5


def test_batch_count_matches_the_batches_stored_on_the_brokers():
    params = _q("quiz-batches-keyed")["params"]
    sim, st = computed._burst(params)
    on_disk = sum(len(sim.cluster.log("t", p)) for p in range(params["partitions"]))
    assert st.batches_created == on_disk == computed.answer("batches", params)


def test_linger_question_counts_linger_closes():
    params = _q("quiz-linger-closes")["params"]
    closes = computed.answer("linger_closes", params)
    batches = computed.answer("batches", {k: v for k, v in params.items() if k != "interval_ms"})
    assert closes > 10
    assert closes != batches  # spreading records over time changes the batching


def test_unknown_computation_is_named():
    with pytest.raises(KeyError, match="unknown computation 'nope'"):
        computed.answer("nope", {})


@pytest.fixture(scope="module")
def page():
    return content.find(content.debug_scenarios(), "throughput-drop")


def test_debug_scenario_really_drops_to_about_a_tenth(page):
    healthy = debugging._baseline(page.extra["healthy"], page.extra["measure_ms"])
    degraded = debugging._baseline(page.extra["degraded"], page.extra["measure_ms"])
    assert healthy.throughput > 90_000
    assert degraded.throughput < 0.2 * healthy.throughput
    assert not degraded.errors and not healthy.errors            # "no errors anywhere"
    assert degraded.metrics["request-latency-avg"] < 2 * healthy.metrics["request-latency-avg"]


def test_right_causes_and_fix_pass(page):
    g = debugging.grade(page, ["batch-size", "in-flight"], "batch.size=65536\n")
    assert not g.error
    assert g.recovered and g.causes_ok and g.passed
    assert g.fix == {"batch.size": "65536"}


def test_fix_that_does_not_restore_throughput_fails(page):
    g = debugging.grade(page, ["batch-size"], "linger.ms=10")
    assert not g.recovered and not g.passed
    assert "needs to reach" in g.summary


def test_wrong_cause_fails_even_when_the_fix_works(page):
    g = debugging.grade(page, ["batch-size", "broker-disk"], "batch.size=32768")
    assert g.recovered and not g.causes_ok and not g.passed
    assert any(f.startswith("Not a cause") for f in g.feedback)


def test_invalid_fix_is_a_clear_error(page):
    assert "batch.size" in debugging.grade(page, ["batch-size"], "batch.size=-5").error
    assert "line 1" in debugging.grade(page, ["batch-size"], "make it faster").error


def test_debug_view_saves_the_submission_and_returns_the_partial(client, course):
    from courseware.jobs.models import Job
    from courseware.jobs.tasks import run_job

    r = client.post("/debug/throughput-drop/", {"causes": ["batch-size"],
                                                 "fix": "batch.size=65536"},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<section id="answer"') and "Queued" in body
    assert "Fixed." not in body and not DebugSubmission.objects.exists()
    job = Job.objects.get()
    assert job.kind == "course.debug_grade" and f"?job={job.id}" in body
    run_job.func(str(job.id))  # what the worker does with the queued task
    Job.objects.filter(pk=job.pk).update(status="queued")
    run_job.func(str(job.id))  # a second run (a re-queued job) stores nothing twice
    r = client.get(f"/debug/throughput-drop/?job={job.id}", HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "Fixed." in body and "hx-trigger" not in body
    sub = DebugSubmission.objects.get()
    assert sub.passed and sub.fix == {"batch.size": "65536"}
    r = client.post("/debug/throughput-drop/", {"fix": "batch.size=65536"})
    assert r.status_code == 422 and "Name at least one cause" in r.content.decode()
    r = client.post("/debug/throughput-drop/", {"causes": ["batch-size"], "fix": "batch.size=-5"})
    assert r.status_code == 422 and "batch.size" in r.content.decode()
    assert Job.objects.count() == 1  # refused input makes no job


def test_incident_replay_with_the_fix_keeps_the_api_up(client, course):
    from courseware.course.services import replay
    from courseware.jobs.models import Job
    from courseware.jobs.tasks import run_job

    bad = replay.replay("linger.ms=-3")
    assert "linger.ms" in bad.error and not bad.passed
    r = client.post("/incident/", {"fix": "linger.ms=-3"})
    assert r.status_code == 422 and "linger.ms" in r.content.decode()
    assert not Job.objects.exists()  # bad settings are refused at once, no job
    r = client.post("/incident/", {"fix": "max.block.ms=1000\ndelivery.timeout.ms=30000\n"
                                          "request.timeout.ms=10000"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<section id="replay"')
    job = Job.objects.get()
    assert job.kind == "course.incident_replay" and job.status == "queued"
    assert "Queued" in body and f"?job={job.id}" in body and "The API survives." not in body
    run_job.func(str(job.id))  # what the worker does with the queued task
    r = client.get(f"/incident/?job={job.id}", HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "The API survives." in body and "hx-trigger" not in body
    assert "8 of 8" in body          # the original run, for comparison
    other = type(client)()           # another learner cannot read this replay
    assert other.get(f"/incident/?job={job.id}").status_code == 404


def test_a_buffer_still_filling_before_the_outage_ends_counts_as_postponed():
    from courseware.course.services import replay
    from courseware.course.services.engine import RunStats

    st = RunStats(duration_ms=65_000)
    mib = 2**20
    st.pool_used = {t: (t // 1000) * mib for t in range(1000, 65_000, 1000)}  # +1 MiB/s
    st.snapshot = {"pool": {"available": 60 * mib}}
    full = replay.projected_full_ms(st)
    assert full == pytest.approx(64_000 + 60_000, abs=1_000)   # 60 MiB more at 1 MiB/s
    assert full < replay.outage_end_ms()                       # so it would still run out
    st.pool_used = {t: 40 * mib for t in range(1000, 65_000, 1000)}  # flat: expiry keeps up
    assert replay.projected_full_ms(st) is None
