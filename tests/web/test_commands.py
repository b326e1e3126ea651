"""Shape validation of browser messages: every refusal names what was wrong."""

import json

import pytest

from courseware.lab.commands import MAX_MESSAGE_BYTES, CommandError, parse


def refused(text):
    with pytest.raises(CommandError) as info:
        parse(text)
    return info.value


def test_valid_commands_parse_with_their_arguments():
    assert parse('{"type":"pause"}').type == "pause"
    cmd = parse('{"type":"speed","value":0.01,"ref":7}')
    assert (cmd.type, cmd.args, cmd.ref) == ("speed", {"value": 0.01}, 7)
    assert parse('{"type":"step"}').args == {"count": 1}
    cmd = parse(json.dumps({"type": "config", "set": {"linger.ms": "50"}}))
    assert cmd.args == {"set": {"linger.ms": "50"}, "unset": []}
    cmd = parse(json.dumps({"type": "fault", "op": "fail_next", "broker": 1, "count": 3,
                            "error": "NOT_LEADER_OR_FOLLOWER"}))
    assert cmd.args["error"] == "NOT_LEADER_OR_FOLLOWER"


@pytest.mark.parametrize("text, code, words", [
    ("not json", "bad_json", "not valid JSON"),
    ("[1,2]", "invalid", "JSON object"),
    ('{"type": 5}', "invalid", "string \"type\""),
    ('{"type": "launch"}', "unknown_type", "unknown message type 'launch'"),
    ('{"type": "pause", "extra": 1}', "invalid", "unexpected field"),
    ('{"type": "speed", "value": 0}', "invalid", "between"),
    ('{"type": "speed", "value": "fast"}', "invalid", "must be a number"),
    ('{"type": "step", "count": 1.5}', "invalid", "whole number"),
    ('{"type": "reset", "seed": -1}', "invalid", "seed must be between"),
    ('{"type": "config", "set": []}', "invalid", "object of Kafka properties"),
    ('{"type": "config", "set": {"linger.ms": {"a": 1}}}', "invalid", "linger.ms"),
    ('{"type": "fault", "op": "explode"}', "invalid", "unknown fault op 'explode'"),
    ('{"type": "fault", "op": "stop_broker"}', "invalid", "needs 'broker'"),
    ('{"type": "fault", "op": "fail_next", "broker": 1, "count": 2, "error": "OOPS"}',
     "invalid", "unknown Kafka error 'OOPS'"),
    ('{"type": "workload", "keys": "some"}', "invalid", "keys must be"),
    ('{"type": "workload", "rate": true}', "invalid", "must be a number"),
    ('{"type": "ping", "ref": {"x": 1}}', "invalid", "ref must be"),
])
def test_malformed_messages_are_refused_with_a_named_reason(text, code, words):
    err = refused(text)
    assert err.code == code
    assert words in err.message


def test_oversized_and_binary_messages_are_refused():
    assert refused("x" * (MAX_MESSAGE_BYTES + 1)).code == "too_large"
    assert refused(b"\x00\x01").code == "bad_json"


def test_the_ref_comes_back_with_the_error():
    assert refused('{"type": "speed", "value": -1, "ref": "r9"}').ref == "r9"
