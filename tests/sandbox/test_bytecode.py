"""A run imports ``producer_core`` from bytecode the trusted side compiled, and cannot
change it (tests/sandbox/hostile/patch_producer_core_bytecode.py tries)."""

from __future__ import annotations

import json

import pytest

from courseware.sandbox import SandboxJob, run, runner

PROBE = r'''
import importlib.util, json, os, sys
import producer_core, producer_core.producer, producer_core.records
found = {}
for m in (producer_core, producer_core.producer, producer_core.records):
    src, pyc = m.__file__, importlib.util.cache_from_source(m.__file__)
    st = os.stat(src)
    with open(pyc, "rb") as fh:
        header = fh.read(16)
    # PEP 552 header: magic, flags (0 = checked by timestamp), source mtime, source size
    found[m.__name__] = {
        "magic": header[:4] == importlib.util.MAGIC_NUMBER,
        "fresh": int.from_bytes(header[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                 and int.from_bytes(header[12:16], "little") == st.st_size & 0xFFFFFFFF,
        "writable": os.access(pyc, os.W_OK)}
open("result.json", "w").write(json.dumps(found))
'''


@pytest.mark.parametrize("reduced", [False, True], ids=["bwrap", "reduced"])
def test_the_run_finds_fresh_bytecode_of_producer_core(monkeypatch, reduced):
    monkeypatch.setattr(runner, "FORCE_REDUCED", reduced)
    result = run(SandboxJob(files={"probe.py": PROBE}, argv=["python3", "probe.py"]))
    assert result.exit_code == 0, result.stderr
    assert result.isolation == ("reduced" if reduced else "bwrap")
    found = json.loads(result.outputs["result.json"])
    assert set(found) == {"producer_core", "producer_core.producer", "producer_core.records"}
    for name, seen in found.items():
        assert seen["magic"] and seen["fresh"], (name, seen)
        if not reduced:  # reduced mode: see test_reduced_mode.py (an unprivileged uid)
            assert not seen["writable"], name
