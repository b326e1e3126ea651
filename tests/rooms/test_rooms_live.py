"""Rooms on a live daphne over real WebSockets: the presenter controls, followers watch and
are refused, polls count each follower once, a fork is the room at that instant, and a
restart rebuilds the room from its log (docs/PROTOCOL.md, "Rooms")."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import start_daphne, stop_process
from tests.rooms.helpers import RoomClient, broker_up, comparable, open_room


def run(coro_fn, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result(timeout=180)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rooms")
    proc, url = start_daphne(tmp)
    holder = {"proc": proc, "url": url, "tmp": tmp}
    try:
        yield holder
    finally:
        stop_process(holder["proc"])


def _ws(link: str) -> str:
    code = link.split("/room/")[1].split("/")[0]
    token = link.split("token=")[1] if "token=" in link else None
    return f"/ws/room/{code}/" + (f"?token={token}" if token else "")


def test_room_pages_name_their_websocket_path(server):
    import urllib.request

    room = open_room(server["tmp"])
    for key in ("follow_url", "projector_url", "presenter_url"):
        with urllib.request.urlopen(server["url"] + room[key], timeout=10) as resp:
            html = resp.read().decode()
        assert f'data-ws="/ws/room/{room["code"]}/' in html
    assert "?token=" in room["presenter_url"]
    with urllib.request.urlopen(server["url"] + f"/room/{room['code']}/qr.svg") as resp:
        body = resp.read()
        assert b"<svg" in body[:200] and b"xmlns" in body[:300]


def test_followers_see_the_presenter_and_their_commands_are_refused(server):
    room = open_room(server["tmp"])
    run(_refused, server["url"], room)


async def _refused(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    before = comparable(follower.state)["lab"]
    for cmd in ({"type": "pause", "ref": "f1"}, {"type": "config", "set": {"linger.ms": 9},
                                                 "ref": "f2"},
                {"type": "fault", "op": "stop_broker", "broker": 1, "ref": "f3"},
                {"type": "scene", "index": 0, "ref": "f4"}, {"type": "close", "ref": "f5"}):
        msg = await follower.reply(cmd)
        assert msg["type"] == "error" and msg["code"] == "forbidden", msg
    ack = await presenter.reply({"type": "fault", "op": "stop_broker", "broker": 2,
                                 "ref": "p1"})
    assert ack["type"] == "ack"
    await follower.until(lambda c, m: c.state and not broker_up(c.state, 2))
    lab = comparable(follower.state)["lab"]
    assert lab["overrides"] == before["overrides"] == {}  # f2 changed nothing
    assert lab["paused"] is False
    await follower.until(lambda c, m: c.room.get("followers") == 1)
    presenter.close()
    follower.close()


def test_poll_answers_count_once_per_follower(server):
    room = open_room(server["tmp"], "--lesson", "batching")
    run(_poll, server["url"], room)


async def _poll(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    a = await RoomClient.join(url, _ws(room["follow_url"]))
    b = await RoomClient.join(url, _ws(room["follow_url"]))
    opened = await presenter.reply({"type": "poll", "question": "batching-light-load",
                                    "ref": "q"})
    assert opened["type"] == "ack"
    choices = opened["result"]["poll"]["choices"]
    assert "answer" not in opened["result"]["poll"]  # not before the reveal
    first = await a.reply({"type": "answer", "choice": choices[1], "ref": "a1"})
    assert first["type"] == "ack"
    again = await a.reply({"type": "answer", "choice": choices[0], "ref": "a2"})
    assert again["type"] == "error" and again["code"] == "already_answered"
    bad = await b.reply({"type": "answer", "choice": "nope", "ref": "b0"})
    assert bad["type"] == "error" and bad["code"] == "invalid"
    assert (await b.reply({"type": "answer", "choice": choices[1], "ref": "b1"}))["type"] == "ack"
    await presenter.until(lambda c, m: (c.room.get("poll") or {}).get("total") == 2)
    assert presenter.room["poll"]["counts"] == {choices[1]: 2}
    shown = await presenter.reply({"type": "reveal", "ref": "r"})
    assert shown["result"]["poll"]["answer"] == choices[1]
    await a.until(lambda c, m: (c.room.get("poll") or {}).get("revealed") is True)
    for c in (presenter, a, b):
        c.close()


def test_a_fork_is_the_room_at_that_instant_then_its_own(server):
    room = open_room(server["tmp"])
    run(_fork, server["url"], room)


async def _fork(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    await presenter.reply({"type": "config", "set": {"linger.ms": 40}, "ref": "c"})
    await asyncio.sleep(0.5)
    await presenter.reply({"type": "pause", "ref": "p"})
    await follower.until(lambda c, m: c.state["lab"]["paused"]
                         and c.state["lab"]["overrides"] == {"linger.ms": 40})
    await asyncio.sleep(0.3)  # the paused room's last frame has arrived
    forked = await follower.until(lambda c, m: m.get("type") in ("forked", "error")) \
        if await _send(follower, {"type": "fork", "ref": "k"}) else None
    assert forked["type"] == "forked", forked
    mine = await RoomClient.join(url, "/ws/lab/main/", cookie=follower.cookie)
    assert comparable(mine.state) == comparable(follower.state)
    assert mine.state["now_ms"] == forked["t_ms"] > 0
    # then it is theirs: a change to the fork leaves the room alone
    assert (await mine.reply({"type": "config", "set": {"linger.ms": 5}, "ref": "m"}))["type"] == "ack"
    await mine.reply({"type": "resume", "ref": "m2"})
    await presenter.reply({"type": "resume", "ref": "p2"})
    await follower.until(lambda c, m: not c.state["lab"]["paused"])
    assert follower.state["lab"]["overrides"] == {"linger.ms": 40}
    await mine.until(lambda c, m: c.state["lab"]["overrides"] == {"linger.ms": 5})
    for c in (presenter, follower, mine):
        c.close()


async def _send(client, obj) -> bool:
    await client.send(obj)
    return True


def test_a_restart_rebuilds_the_room_exactly(server):
    room = open_room(server["tmp"])
    before = run(_steer_then_pause, server["url"], room)
    stop_process(server["proc"])
    server["proc"], server["url"] = start_daphne(server["tmp"], migrate=False)
    after = run(_look, server["url"], room)
    assert after == before


async def _steer_then_pause(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    await presenter.reply({"type": "config", "set": {"linger.ms": 77}, "ref": 1})
    await asyncio.sleep(0.4)
    await presenter.reply({"type": "fault", "op": "stop_broker", "broker": 1, "ref": 2})
    await asyncio.sleep(0.4)
    await presenter.reply({"type": "pause", "ref": 3})
    await presenter.reply({"type": "step", "count": 5, "ref": 4})
    await presenter.until(lambda c, m: c.state["lab"]["last_step"] is not None)
    await asyncio.sleep(0.3)
    presenter.close()  # the presenter leaves: the room stays
    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    state = comparable(follower.state)
    follower.close()
    assert state["lab"]["overrides"] == {"linger.ms": 77} and not broker_up(state, 1)
    return state


async def _look(url, room):
    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    state = comparable(follower.state)
    follower.close()
    return state


def test_a_closed_or_unknown_room_code_stops_working(server):
    room = open_room(server["tmp"])
    run(_close, server["url"], room)


async def _close(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    assert (await presenter.reply({"type": "close", "ref": "x"}))["type"] == "ack"
    presenter.close()
    from bench.live_bench import WSClient, new_session_cookie

    port = int(url.rsplit(":", 1)[1])
    for code in (room["code"], "ZZZZZZ"):
        ws = await WSClient.connect("127.0.0.1", port, f"/ws/room/{code}/",
                                    new_session_cookie(url))
        import json

        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert msg["type"] == "error" and msg["code"] in ("closed", "not_found"), msg
        ws.close()


def test_a_follower_resyncs_by_sequence_number_after_a_drop(server):
    room = open_room(server["tmp"])
    run(_resync, server["url"], room)


async def _resync(url, room):
    import json

    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    held = follower.seq
    # the connection "drops" some deltas: read them without applying them
    dropped = []
    while len(dropped) < 5:
        msg = json.loads(await asyncio.wait_for(follower.ws.recv(), 20))
        if msg["type"] == "delta":
            dropped.append(msg["seq"])
    assert dropped[0] > held  # what it holds is now stale: the next delta is a gap
    await follower.send({"type": "resync", "have": held})
    full = await follower.until(lambda c, m: m.get("type") == "frame")
    assert full["full"] is True and full["seq"] >= dropped[-1]
    # and the stream goes on from there: the next deltas apply without a gap
    await follower.until(lambda c, m: m.get("type") == "delta" and c.seq == full["seq"] + 2)
    assert follower.state["now_ms"] >= full["state"]["now_ms"]
    follower.close()


def test_reveal_then_run_the_scene_that_proves_it(server):
    room = open_room(server["tmp"])
    run(_prove, server["url"], room)


async def _prove(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    follower = await RoomClient.join(url, _ws(room["follow_url"]))
    early = await presenter.reply({"type": "prove", "ref": "p0"})
    assert early["type"] == "error" and early["code"] == "invalid"  # no poll yet
    opened = await presenter.reply({"type": "poll", "question": "quiz-linger-closes",
                                    "ref": "q"})
    assert opened["result"]["poll"]["choices"] is None  # a number, computed by the engine
    answer = await follower.reply({"type": "answer", "choice": "12", "ref": "a"})
    assert answer["type"] == "ack"
    shown = await presenter.reply({"type": "reveal", "ref": "r"})
    assert shown["result"]["poll"]["demo_preset"] == "lesson-linger"
    late = await follower.reply({"type": "answer", "choice": "13", "ref": "a2"})
    assert late["type"] == "error"  # revealed: closed
    assert (await presenter.reply({"type": "prove", "ref": "p"}))["type"] == "ack"
    await follower.until(lambda c, m: c.state["lab"]["preset"] == "lesson-linger")
    presenter.close()
    follower.close()


def test_an_expired_room_code_closes_the_socket(server):
    import json
    import time

    from bench.live_bench import WSClient, new_session_cookie

    room = open_room(server["tmp"], "--hours", "0.0003")  # about one second
    time.sleep(1.5)

    async def attempt():
        port = int(server["url"].rsplit(":", 1)[1])
        ws = await WSClient.connect("127.0.0.1", port, _ws(room["follow_url"]),
                                    new_session_cookie(server["url"]))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        ws.close()
        return msg

    msg = run(attempt)
    assert msg["type"] == "error" and msg["code"] == "expired", msg


def test_a_room_socket_from_another_origin_is_refused(server):
    async def handshake(origin: str) -> bytes:
        port = int(server["url"].rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        room = open_room(server["tmp"])
        writer.write((f"GET /ws/room/{room['code']}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        return status

    assert b" 101 " not in run(handshake, "http://evil.example")
    port = server["url"].rsplit(":", 1)[1]
    assert b" 101 " in run(handshake, f"http://127.0.0.1:{port}")  # the same check passes


def test_followers_get_the_prepared_bytes_under_daphne(server):
    """Under daphne every follower's frames go the relay's fast path (the frame's prepared
    WebSocket bytes written to its connection), none the per-follower ASGI ``send`` chain,
    and none are skipped: the counters are the presenter's process's (``relay_stats``)."""
    room = open_room(server["tmp"])
    run(_fast_path, server["url"], room)


async def _fast_path(url, room):
    presenter = await RoomClient.join(url, _ws(room["presenter_url"]))
    followers = [await RoomClient.join(url, _ws(room["follow_url"])) for _ in range(3)]
    seqs = []
    for f in followers:
        await f.until(lambda c, m: m.get("type") == "delta" and c.seq >= 0)
        seqs.append(f.seq)
    await presenter.reply({"type": "fault", "op": "stop_broker", "broker": 2, "ref": "s"})
    for f in followers:  # each follower applies deltas in order (nothing dropped)
        await f.until(lambda c, m: c.state and not broker_up(c.state, 2))
        await f.until(lambda c, m: m.get("type") == "delta" and c.seq > seqs[0] + 10)
    stats = (await presenter.reply({"type": "relay_stats", "ref": "r"}))["result"]["relay"]
    assert stats["members"] == 4, stats
    # 4 sockets × the deltas and full frames seen so far: every one of them written fast
    assert stats["fast"] >= 4 * 10, stats
    assert stats["asgi"] == 0 and stats["skipped"] == 0, stats
    refused = await followers[0].reply({"type": "relay_stats", "ref": "f"})
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    for c in (presenter, *followers):
        c.close()
