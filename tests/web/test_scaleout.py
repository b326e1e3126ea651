"""Two daphne processes sharing channels_redis: a lab runs in the process that created it,
and a browser connected to the other process watches and commands the same lab through
the channel layer (docs/PROTOCOL.md, "Several daphne processes")."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.live_bench import WSClient, new_session_cookie
from courseware.lab.delta import apply
from tests.conftest import free_port, start_daphne, stop_process

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scaleout")
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = []
    try:
        time.sleep(0.3)
        env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        a, url_a = start_daphne(tmp, extra_env=env)
        procs.append(a)
        # the second process shares the database (sessions) and the channel layer
        b, url_b = start_daphne(tmp, extra_env=env, migrate=False)
        procs.append(b)
        yield url_a, url_b
    finally:
        for p in procs:
            stop_process(p)
        stop_process(redis)


async def _frames(ws, state, seq, pred, limit=400):
    for _ in range(limit):
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == "frame":
            state, seq = msg["state"], msg["seq"]
        elif msg["type"] == "delta" and state is not None and msg["seq"] == seq + 1:
            state, seq = apply(state, msg["op"]), msg["seq"]
        if state is not None and pred(state, msg):
            return state, seq, msg
    raise AssertionError("condition never met")


def test_a_browser_on_another_process_reaches_the_lab_through_the_channel_layer(two_servers):
    # A thread of its own: Playwright's session browser may own this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _two_tabs(*two_servers)).result(timeout=120)


async def _two_tabs(url_a: str, url_b: str) -> None:
    """A learner with two tabs, each served by a different process."""
    cookie = new_session_cookie(url_a)  # one learner, one lab
    port_a, port_b = int(url_a.rsplit(":", 1)[1]), int(url_b.rsplit(":", 1)[1])
    on_a = await WSClient.connect("127.0.0.1", port_a, "/ws/lab/main/", cookie)
    state_a, seq_a, _ = await _frames(on_a, None, -1, lambda s, m: True)
    # the same learner's second tab lands on process B: it finds the owner on A
    on_b = await WSClient.connect("127.0.0.1", port_b, "/ws/lab/main/", cookie)
    state_b, seq_b, _ = await _frames(on_b, None, -1, lambda s, m: True)
    assert state_b["lab"]["id"] == state_a["lab"]["id"] == "main"
    assert abs(state_b["now_ms"] - state_a["now_ms"]) < 2000  # one lab, not two
    # a command typed on B reaches the lab on A; both see it in their frames
    await on_b.send({"type": "config", "set": {"linger.ms": 77}, "ref": "b1"})
    state_b, seq_b, msg = await _frames(on_b, state_b, seq_b,
                                        lambda s, m: m.get("type") == "ack")
    assert msg["ref"] == "b1"
    await _frames(on_b, state_b, seq_b, lambda s, m: s["config"]["linger.ms"] == 77)
    await _frames(on_a, state_a, seq_a, lambda s, m: s["config"]["linger.ms"] == 77)
    on_a.close()
    on_b.close()
