"""The Redis channel layer under a burst: more commands in flight at once than the pool
has connections wait for one, instead of failing with "Too many connections" (redis-py 8's
own pool fails the 101st; a class of 300 joining a room at once is such a burst)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import pytest

from courseware.channel_layer import RedisChannelLayer
from tests.conftest import free_port, in_thread, stop_process

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server not installed (.ci/run installs it)")


@pytest.fixture
def redis_url():
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield f"redis://127.0.0.1:{port}/0"
    stop_process(proc)


def _burst(layer_class, redis_url: str, n: int = 300) -> tuple[list, set]:
    """``n`` group sends at once through a layer whose pool has 4 connections: the sends
    that failed, and the messages that arrived (on a thread of its own: a browser test may
    keep an event loop running on this one)."""

    async def burst() -> tuple[list, set]:
        layer = layer_class(hosts=[{"address": redis_url, "max_connections": 4}],
                            capacity=1000)
        channel = await layer.new_channel()
        await layer.group_add("burst", channel)
        sent = await asyncio.gather(*(layer.group_send("burst", {"type": "x", "i": i})
                                      for i in range(n)), return_exceptions=True)
        failed = [s for s in sent if isinstance(s, BaseException)]
        got = set()
        for _ in range(n - len(failed)):
            got.add((await layer.receive(channel))["i"])
        await layer.flush()
        return failed, got

    return in_thread(asyncio.run, burst())


def test_a_burst_larger_than_the_pool_waits_for_connections(redis_url):
    failed, got = _burst(RedisChannelLayer, redis_url)
    assert failed == [] and got == set(range(300))


def test_channels_redis_own_pool_fails_the_same_burst(redis_url):
    # what the subclass is for: the stock layer with the same pool size loses messages
    from channels_redis.core import RedisChannelLayer as Stock

    failed, got = _burst(Stock, redis_url)
    assert failed and all("Too many connections" in str(f) for f in failed), failed[:3]
    assert len(got) == 300 - len(failed)
