"""Issue 8, web side: bound-checked numbers, every message answered, the origin check with
ports, unknown WebSocket paths refused cleanly, and pages that reveal nothing."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from courseware.lab.commands import CommandError, parse
from courseware.ws_origin import origin_allowed

from .conftest import make_session_key, open_lab

HOSTS = ["localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize("text", [
    '{"type": "speed", "value": ' + "9" * 400 + "}",
    '{"type": "speed", "value": -' + "9" * 400 + "}",
    '{"type": "step", "count": ' + "1" * 300 + "}",
    '{"type": "reset", "seed": ' + "7" * 500 + "}",
    '{"type": "workload", "rate": ' + "5" * 400 + "}",
    '{"type": "speed", "value": NaN}',
    '{"type": "speed", "value": Infinity}',
    '{"type": "speed", "value": -Infinity}',
    '{"type": "step", "count": Infinity}',
    '{"type": "speed", "value": true}',
    '{"type": "config", "set": {"linger.ms": ' + "9" * 400 + "}}",
    '{"type": "fault", "op": "slow_broker", "broker": 1, "extra_ms": 1e308}',
    '{"type": "fault", "op": {"a": 1}}',  # found by bench fuzz: an unhashable op
    '{"type": "fault", "op": [1]}',
])
def test_out_of_range_numbers_are_clear_errors_not_exceptions(text):
    with pytest.raises(CommandError) as info:
        parse(text)
    assert info.value.code in ("invalid", "bad_json")
    assert len(info.value.message) < 400


def test_origin_must_match_scheme_host_and_port():
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", HOSTS)
    assert origin_allowed("http://localhost", "localhost", HOSTS)
    assert not origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("http://127.0.0.1", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("http://evil.example:8000", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("http://evil.example", "evil.example", HOSTS)
    assert not origin_allowed("ftp://127.0.0.1:8000", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("http://127.0.0.1:99999", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("null", "127.0.0.1:8000", HOSTS)
    assert not origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", HOSTS, secure=True)


@pytest.mark.django_db(transaction=True)
async def test_socket_from_another_port_is_refused():
    from courseware.asgi import application

    comm = WebsocketCommunicator(application, "/ws/lab/main/", headers=[
        (b"origin", b"http://127.0.0.1:9999"), (b"host", b"127.0.0.1:8000")])
    connected, _ = await comm.connect(timeout=10)
    assert not connected
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_unknown_websocket_path_closes_with_4404():
    sock, connected = await open_lab(None, path="/ws/nothing/here/")
    assert connected
    msg = await sock.recv(timeout=5)
    assert msg["type"] == "error" and msg["code"] == "not_found"
    out = await sock.comm.receive_output(timeout=5)
    assert out == {"type": "websocket.close", "code": 4404}


@pytest.mark.django_db(transaction=True)
async def test_every_message_gets_an_answer_even_past_the_rate_limit(lab_registry):
    key = await make_session_key()
    sock, connected = await open_lab(key)
    assert connected
    sent = 120  # far past the burst of 2x LAB_WS_RATE
    for i in range(sent):
        await sock.send(json.dumps({"type": "ping", "ref": i}))
    answered = set()
    codes = set()
    while len(answered) < sent:
        msg = await sock.reply(timeout=10)
        if msg.get("ref") is not None:
            answered.add(msg["ref"])
            codes.add(msg.get("code") or msg["type"])
    assert answered == set(range(sent))
    assert "rate_limited" in codes and "pong" in codes
    # a huge number closes nothing: the same socket still answers
    await sock.send('{"type": "speed", "value": ' + "9" * 400 + ', "ref": "big"}')
    msg = await sock.recv_until(lambda m: m.get("ref") == "big", timeout=10)
    assert msg["type"] == "error"
    await sock.comm.disconnect()


@pytest.mark.django_db
def test_404_page_lists_no_urls(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "urlpatterns" not in body and "ws/lab" not in body and "admin/" not in body
