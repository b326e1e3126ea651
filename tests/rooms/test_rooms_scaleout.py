"""A room over two daphne processes sharing channels_redis on a real redis-server: the
presenter on one, followers on both; frames reach every follower, follower commands are
refused on either process, and a presenter on the *other* process controls the room too."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import free_port, start_daphne, stop_process
from tests.rooms.helpers import RoomClient, broker_up, open_room

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rooms-scaleout")
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = []
    try:
        time.sleep(0.3)
        # a class joins from one address here: lift the per-address join limit
        env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "ROOM_JOIN_RATE": "10000",
               "ROOM_JOIN_BURST": "10000"}
        a, url_a = start_daphne(tmp, extra_env=env)
        procs.append(a)
        b, url_b = start_daphne(tmp, extra_env=env, migrate=False)
        procs.append(b)
        yield tmp, url_a, url_b
    finally:
        for p in procs:
            stop_process(p)
        stop_process(redis)


def _in_a_room(two_servers, scenario, timeout: float = 180) -> None:
    """``scenario(url_a, url_b, room)`` on its own event loop, in a new room."""
    tmp, url_a, url_b = two_servers
    room = open_room(tmp)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario(url_a, url_b, room)).result(timeout=timeout)


def test_presenter_and_followers_on_two_processes(two_servers):
    _in_a_room(two_servers, _two)


async def _two(url_a, url_b, room):
    code = room["code"]
    token = room["presenter_url"].split("token=")[1]
    presenter = await RoomClient.join(url_a, f"/ws/room/{code}/?token={token}")
    on_a = await RoomClient.join(url_a, f"/ws/room/{code}/")
    on_b = await RoomClient.join(url_b, f"/ws/room/{code}/")
    assert abs(on_a.state["now_ms"] - on_b.state["now_ms"]) < 2000  # one room, not two
    refused = await on_b.reply({"type": "pause", "ref": "b"})
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert (await presenter.reply({"type": "fault", "op": "stop_broker", "broker": 2,
                                   "ref": "p"}))["type"] == "ack"
    for follower in (on_a, on_b):
        await follower.until(lambda c, m: not broker_up(c.state, 2))
    await presenter.until(lambda c, m: c.room.get("followers") == 2)
    # a presenter tab on the other process reaches the room's simulation on A
    second = await RoomClient.join(url_b, f"/ws/room/{code}/?token={token}")
    assert (await second.reply({"type": "config", "set": {"linger.ms": 33},
                                "ref": "s"}))["type"] == "ack"
    for follower in (on_a, on_b):
        await follower.until(lambda c, m: c.state["lab"]["overrides"] == {"linger.ms": 33})
    # on both processes the relay wrote the prepared bytes to its sockets, none the ASGI way
    for who, members in ((presenter, 2), (second, 2)):
        stats = (await who.reply({"type": "relay_stats", "ref": "rs"}))["result"]["relay"]
        assert stats["members"] == members and stats["fast"] > 0, stats
        assert stats["asgi"] == 0 and stats["skipped"] == 0, stats
    # a follower that lost frames resyncs by sequence number
    await on_b.send({"type": "resync", "have": on_b.seq - 5})
    full = await on_b.until(lambda c, m: m.get("type") == "frame")
    assert full["full"] is True and full["seq"] >= 1
    for c in (presenter, on_a, on_b, second):
        c.close()


def test_followers_joining_while_the_room_starts_on_the_other_process(two_servers):
    # an attach sent while the owning process is still building the room reaches no runner;
    # the follower attaches again until its full frame comes
    _in_a_room(two_servers, _together)


async def _together(url_a, url_b, room):
    path = f"/ws/room/{room['code']}/"
    clients = await asyncio.gather(*(RoomClient.join(url, path)
                                     for url in (url_a, url_b, url_b, url_a)))
    assert all(c.state is not None for c in clients)
    owner = clients[0]
    await owner.until(lambda c, m: c.room.get("followers") == 4)
    for c in clients:
        c.close()


def test_a_class_joining_at_once_on_both_processes_all_get_the_room(two_servers):
    # channels_redis keeps all of a process's consumer channels in one queue: 150 followers
    # attaching to the owner's process at once used to overflow it (capacity 200), and the
    # dropped full frames left about one follower in four with a blank room for good
    _in_a_room(two_servers, _class, timeout=240)


async def _class(url_a, url_b, room):
    from bench.live_bench import new_session_cookie

    path = f"/ws/room/{room['code']}/"
    first = await RoomClient.join(url_a, path)  # the room now runs on A
    cookie = new_session_cookie(url_a)
    joins = [asyncio.wait_for(RoomClient.join(url, path, cookie), 30)
             for url in (url_a, url_b) for _ in range(150)]
    got = await asyncio.gather(*joins, return_exceptions=True)
    failed = [g for g in got if isinstance(g, BaseException)]
    assert not failed, f"{len(failed)} of {len(got)} followers never got the room: {failed[:3]}"
    assert {c.seq >= 0 for c in got} == {True}
    await first.until(lambda c, m: c.room.get("followers") == 301, timeout=30)
    for c in (first, *got):
        c.close()
