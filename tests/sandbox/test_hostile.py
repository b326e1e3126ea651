"""Every hostile submission is contained and leaves the host exactly as it was.

Each file in ``hostile/`` starts with ``# expect: failed`` (non-zero exit or a kill),
``killed=<reason>`` or ``contained`` (may exit 0; only the canaries decide). Placeholders
({{PORT}}, {{REPO}}, {{DB}}, ...) give the program the real host paths an attacker would guess.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from courseware.sandbox import Limits, SandboxJob, isolation_available, run, runner

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.py"))
REPO = Path(settings.BASE_DIR).resolve()
LIMITS = Limits(cpu_s=2, wall_s=10, memory_mb=256, processes=16, file_size_mb=4,
                open_files=32, output_kb=16)
BENIGN = ("import json, producer_core\n"
          "print('hello')\n"
          "open('result.json', 'w').write(json.dumps({'ok': True}))\n")


def _expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path.name
    return first.removeprefix("# expect: ").strip()


def _git_status_of_package() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--", "producer_core"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout


def _processes_with(token: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(pid)
    return found


@pytest.fixture
def canaries(monkeypatch, tmp_path):
    env_value = "canary-" + secrets.token_hex(8)
    monkeypatch.setenv("PRODUCER_LAB_CANARY", env_value)
    db_dir = Path(settings.DATABASES["default"]["NAME"]).resolve().parent
    canary_file = db_dir / f"sandbox-canary-{secrets.token_hex(4)}.txt"
    file_value = "canary-" + secrets.token_hex(8)
    canary_file.write_text(file_value)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    before = _git_status_of_package()
    yield {"env": env_value, "file": canary_file, "file_value": file_value,
           "listener": listener, "port": listener.getsockname()[1], "git": before}
    listener.close()
    canary_file.unlink(missing_ok=True)


def _fill(text: str, c: dict) -> str:
    values = {"PORT": str(c["port"]), "REPO": str(REPO),
              "DB": str(Path(settings.DATABASES["default"]["NAME"]).resolve()),
              "CANARY_FILE": str(c["file"]), "CANARY_ENV": "PRODUCER_LAB_CANARY",
              "HOSTPID": str(os.getpid())}
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def _assert_host_intact(c: dict, result, token: str) -> None:
    seen = result.stdout + result.stderr + "".join(result.outputs.values())
    assert c["env"] not in seen
    assert c["file_value"] not in seen
    assert "ESCAPED" not in result.stdout.replace("print(\"ESCAPED", "")
    assert c["file"].read_text() == c["file_value"]
    assert _git_status_of_package() == c["git"]
    for name in ("escaped.txt", "forged.json"):
        assert not (REPO / name).exists()
    assert not Path("/escaped.txt").exists()
    with pytest.raises(BlockingIOError):
        c["listener"].accept()
    assert _processes_with(token) == []


def _assert_benign_runs() -> None:
    result = run(SandboxJob(files={"main.py": BENIGN}, argv=["python3", "main.py"],
                            limits=LIMITS))
    assert result.exit_code == 0, result.stderr
    assert result.killed is None
    assert result.stdout == "hello\n"
    assert result.outputs == {"result.json": '{"ok": true}'}


def test_corpus_is_large_enough():
    assert len(HOSTILE) >= 20


def test_bwrap_is_available_here():
    # CI installs bubblewrap; the corpus below must run isolated, not silently reduced.
    assert isolation_available()


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_submission_is_contained(path: Path, canaries):
    expect = _expectation(path)
    token = "hostile" + secrets.token_hex(6)
    result = run(SandboxJob(files={f"{token}.py": _fill(path.read_text(), canaries)},
                            argv=["python3", f"{token}.py"], limits=LIMITS))
    assert result.isolation == "bwrap"
    assert result.wall_ms <= (LIMITS.wall_s + 3) * 1000
    assert len(result.stdout) <= LIMITS.output_kb * 1024
    if expect.startswith("killed="):
        assert result.killed == expect.removeprefix("killed="), (result.exit_code, result.stderr[-500:])
    elif expect == "failed":
        assert result.killed is not None or result.exit_code != 0, result.stdout[-500:]
    else:
        assert expect == "contained"
    if "result.json" in result.outputs:
        assert "ESCAPED" not in result.outputs["result.json"]
    _assert_host_intact(canaries, result, token)
    _assert_benign_runs()


@pytest.mark.parametrize("name,killed", [("infinite_loop", "cpu"), ("memory_hog", "memory"),
                                         ("huge_output", "output"), ("sleep_forever", "wall")])
def test_reduced_isolation_still_applies_the_limits(monkeypatch, name, killed, canaries):
    monkeypatch.setattr(runner, "FORCE_REDUCED", True)
    assert not isolation_available()
    token = "hostile" + secrets.token_hex(6)
    text = (Path(__file__).parent / "hostile" / f"{name}.py").read_text()
    result = run(SandboxJob(files={f"{token}.py": text}, argv=["python3", f"{token}.py"],
                            limits=LIMITS))
    assert result.isolation == "reduced"
    assert result.killed == killed
    assert _processes_with(token) == []
    _assert_benign_runs()


def test_file_names_cannot_escape_the_working_directory():
    with pytest.raises(ValueError):
        run(SandboxJob(files={"../escaped.py": "x"}, argv=["python3", "x"]))
