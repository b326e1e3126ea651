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
from tests.conftest import free_port, stop_process

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


async def _burst(layer, n: int) -> tuple[list, set]:
    channel = await layer.new_channel()
    await layer.group_add("burst", channel)
    sent = await asyncio.gather(*(layer.group_send("burst", {"type": "x", "i": i})
                                  for i in range(n)), return_exceptions=True)
    got = {(await layer.receive(channel))["i"] for _ in range(n)}
    return [s for s in sent if isinstance(s, BaseException)], got


async def test_a_burst_larger_than_the_pool_waits_for_connections(redis_url):
    layer = RedisChannelLayer(hosts=[{"address": redis_url, "max_connections": 4}],
                              capacity=1000)
    failed, got = await _burst(layer, 300)
    assert failed == [] and got == set(range(300))
    await layer.flush()


async def test_channels_redis_own_pool_fails_the_same_burst(redis_url):
    # what the subclass is for: the stock layer with the same pool size loses messages
    from channels_redis.core import RedisChannelLayer as Stock

    layer = Stock(hosts=[{"address": redis_url, "max_connections": 4}], capacity=1000)
    channel = await layer.new_channel()
    await layer.group_add("burst", channel)
    sent = await asyncio.gather(*(layer.group_send("burst", {"type": "x", "i": i})
                                  for i in range(300)), return_exceptions=True)
    assert any("Too many connections" in str(s) for s in sent if isinstance(s, BaseException))
    await layer.flush()
