"""A job's simulations are freed when it ends, whatever the worker's collector settings."""

from __future__ import annotations

import gc

import pytest

from courseware.jobs.kinds import job_kind
from courseware.jobs.services import submit
from courseware.jobs.tasks import run_job
from producer_core.scenario import Scenario
from producer_core.simulation import Simulation


@job_kind("tests.a_run")
def _a_run(params: dict, progress) -> dict:
    sim = Scenario.preset("lesson-flow").build()
    sim.run_until(500)  # a running simulation is one big reference cycle
    return {"now_ms": sim.clock.now_ms}


def _simulations() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Simulation)


@pytest.mark.django_db
def test_a_finished_jobs_simulation_is_collected_before_the_next_job():
    was_enabled = gc.isenabled()
    gc.collect()
    before = _simulations()
    gc.disable()  # the worker's collector seldom reaches the old generation; here: never
    try:
        job = submit("tests.a_run", {})
        assert run_job.func(str(job.id)) == "done"
        job.refresh_from_db()
        assert job.result == {"now_ms": 500}
        assert _simulations() == before
    finally:
        if was_enabled:
            gc.enable()
