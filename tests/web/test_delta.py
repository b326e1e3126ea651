"""Frame deltas: whatever two states, apply(old, diff(old, new)) == new, and deltas are small
for the shapes a lab sends (rings that move on, batches keyed by id)."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.lab.delta import apply, diff

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.text(max_size=8))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(st.text(max_size=5), children, max_size=6)),
    max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_apply_of_diff_rebuilds_the_new_state(old, new):
    op = diff(old, new)
    assert apply(old, op) == new
    # and the op survives JSON, as it does on the wire
    if op is not None:
        assert apply(old, json.loads(json.dumps(op))) == new


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_no_delta_exactly_when_the_states_are_equal(old, new):
    # diff() no longer compares whole dicts before patching them: an empty patch must
    # still mean "equal", and any difference must still give an op.
    assert (diff(old, new) is None) == (old == new)
    copy = json.loads(json.dumps(new))
    assert diff(new, copy) is None


def test_equal_states_have_no_delta():
    state = {"a": [1, 2, {"b": 3}]}
    assert diff(state, json.loads(json.dumps(state))) is None


def test_ring_moving_on_sends_only_the_new_items():
    old = [{"t": i, "kind": "x"} for i in range(100)]
    new = old[5:] + [{"t": 100 + i, "kind": "y"} for i in range(5)]
    op = diff(old, new)
    assert op == {"s": 5, "a": new[-5:]}


def test_ring_whose_newest_items_changed_keeps_the_common_part():
    old = [{"t": i, "n": 1} for i in range(100)]
    new = [dict(x) for x in old[3:]] + [{"t": 100, "n": 1}]
    new[-2]["n"] = 4  # the last bucket of the old list was still filling
    op = diff(old, new)
    assert op == {"s": 3, "c": 96, "a": new[-2:]}
    assert apply(old, op) == new
    assert apply(old, op) == new


def test_batches_keyed_by_id_send_only_changed_ones():
    old = [{"id": i, "acked_ms": None} for i in range(200)]
    new = [dict(b) for b in old[1:]] + [{"id": 200, "acked_ms": None}]
    new[10]["acked_ms"] = 55
    op = diff(old, new)
    assert set(op) in ({"s", "a"}, {"k", "u"}, {"s", "p", "a"})
    assert apply(old, op) == new
    assert len(json.dumps(op)) < len(json.dumps(new)) / 3


def test_ring_patches_kept_items_in_place():
    old = [{"id": i, "acked_ms": None, "state": "open"} for i in range(200)]
    new = [dict(b) for b in old[2:]] + [{"id": 200 + i, "acked_ms": None, "state": "open"}
                                        for i in range(2)]
    new[10]["acked_ms"] = 55
    new[50]["state"] = "sent"
    op = diff(old, new)
    assert op == {"s": 2, "p": {"10": {"d": {"acked_ms": {"=": 55}}},
                                "50": {"d": {"state": {"=": "sent"}}}}, "a": new[-2:]}
    assert apply(old, json.loads(json.dumps(op))) == new


def test_many_new_items_travel_as_a_table():
    old = [{"t": i, "partition": i % 3, "n": 1} for i in range(100)]
    new = old[20:] + [{"t": 100 + i, "partition": i % 3, "n": 2} for i in range(20)]
    op = diff(old, new)
    assert op["s"] == 20 and op["h"] == ["t", "partition", "n"]
    assert list(op["r"][0]) == [100, 0, 2] and len(op["r"]) == 20 and "a" not in op
    assert apply(old, json.loads(json.dumps(op))) == new
    # replacing a whole list of uniform dicts is a table too
    op = diff([1], new)
    assert set(op) == {"h", "r"} and apply([1], op) == new


def test_same_length_lists_of_dicts_are_patched_even_when_all_changed():
    old = [{"partition": p, "queued": 0, "topic": "orders"} for p in range(6)]
    new = [dict(x, queued=x["partition"] + 1) for x in old]
    op = diff(old, new)
    assert set(op) == {"i"} and len(op["i"]) == 6
    assert apply(old, op) == new


def test_dict_patch_names_changed_and_removed_keys():
    op = diff({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5})
    assert op == {"d": {"b": {"=": 5}}, "x": ["c"]}


def test_a_table_reads_every_row_in_its_header_order():
    old = [{"t": -1, "n": 0}]
    new = [{"n": 2, "t": i} if i % 2 else {"t": i, "n": 2} for i in range(10)]
    op = json.loads(json.dumps(diff(old, new)))
    assert op["h"] == ["t", "n"] and op["r"][1] == [1, 2]
    assert apply(old, op) == new
    # a missing or an extra key is no table
    assert "h" not in diff(old, new[:9] + [{"t": 9}])
    assert "h" not in diff(old, new[:9] + [{"t": 9, "n": 2, "x": 0}])
