"""Launch a learner's program under bubblewrap (or rlimits alone) and collect what it left.

Layout inside bwrap: read-only /usr, /lib*, /bin, a few /etc files, the Python prefix and the
venv at their host paths, ``producer_core`` alone at /sandbox/lib, a fresh tmpfs /tmp and a
fresh host temp dir bound read-write at /sandbox/work (so outputs can be read back). bwrap is
started as root without a user namespace and execs the program through ``setpriv`` as a host
uid of its own: each concurrent run holds one *slot* (a lock file) and runs as that slot's uid
(``SLOT_UID_BASE`` + slot), so RLIMIT_NPROC counts only that run's processes (as root it never
binds, see shared TESTING.md) and two runs at once can neither signal, ptrace nor starve each
other of processes. The Python prefix under /root stays reachable through the bind.
"""

from __future__ import annotations

import fcntl
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from courseware.sandbox.peer import Peer
from courseware.sandbox.types import Limits, SandboxJob, SandboxResult

NOBODY = 65534
# Host uids (and gids) 64000..64031 by default: unused on Debian (its dynamic range ends at
# 59999; 60000-64999 are created on demand only), owned by nothing but a sandbox run.
SLOT_UID_BASE = int(os.environ.get("PRODUCER_LAB_SANDBOX_UID_BASE", "64000"))
SLOTS = int(os.environ.get("PRODUCER_LAB_SANDBOX_SLOTS", "32"))
SLOT_DIR = Path(os.environ.get("PRODUCER_LAB_SANDBOX_SLOT_DIR",
                               os.path.join(tempfile.gettempdir(), "producer-lab-sandbox-slots")))
SLOT_WAIT_S = 60
INSIDE_WORK = "/sandbox/work"
INSIDE_LIB = "/sandbox/lib"
OUTPUT_FILE_CAP = 256 * 1024
WORKDIR_FACTOR = 4  # the working dir may hold this many file_size_mb before the run is killed
# Set to True (tests, or PRODUCER_LAB_SANDBOX_REDUCED=1) to run as if bwrap were absent.
FORCE_REDUCED = False
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/mime.types")


def _producer_core_dir() -> Path:
    import producer_core

    return Path(producer_core.__file__).resolve().parent


_compiled: set[Path] = set()


def ensure_bytecode() -> None:
    """Compile ``producer_core`` to bytecode beside its sources (``__pycache__``), once per
    process. The sandbox sees the package read-only and may not write bytecode, so without
    this every run compiles the whole package again (~0.1-0.3 s of its start-up). Trusted
    code writes the files; a run can read them, never replace them (read-only bind under
    bwrap, root-owned files for the unprivileged uid of reduced mode). Python checks each
    file against its source's mtime and size, so a stale one is never used.
    """
    import compileall

    root = _producer_core_dir()
    if root in _compiled:
        return
    try:
        compileall.compile_dir(str(root), quiet=2, workers=1)
    except OSError:  # a read-only install: the runs compile in memory, as before
        pass
    _compiled.add(root)


def isolation_available() -> bool:
    if FORCE_REDUCED or os.environ.get("PRODUCER_LAB_SANDBOX_REDUCED") == "1":
        return False
    return shutil.which("bwrap") is not None and (os.geteuid() != 0 or shutil.which("setpriv"))


def _env(lib: str, work: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8", "PYTHONPATH": lib,
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0"}


def _python_argv(argv: list[str]) -> list[str]:
    if argv and argv[0] in ("python", "python3"):
        return [sys.executable, *argv[1:]]
    return list(argv)


def _prlimit(limits: Limits) -> list[str]:
    """rlimits applied by util-linux ``prlimit`` before exec (no preexec_fn: the worker has threads)."""
    mb = 1024 * 1024
    return ["prlimit", f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",
            f"--as={limits.memory_mb * mb}", f"--fsize={limits.file_size_mb * mb}",
            f"--nofile={limits.open_files}", "--core=0", f"--nproc={limits.processes}", "--"]


def _uid_owns_processes(uid: int) -> bool:
    """Whether any process runs with real uid ``uid`` (/proc/<pid>/status, which — unlike the
    owner of /proc/<pid> — stays right for processes that are not dumpable)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            return True
                        break
        except OSError:
            continue
    return False


@contextmanager
def slot_uid() -> Iterator[int]:
    """A host uid that no other sandbox run (in any process) holds until this one ends.

    The slot is a ``flock`` on ``SLOT_DIR/<n>.lock``, released when the run ends or its
    worker dies; a slot whose uid still owns a process (a leftover) is passed over.
    """
    SLOT_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + SLOT_WAIT_S
    while True:
        for n in range(SLOTS):
            fd = os.open(SLOT_DIR / f"{n}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                if _uid_owns_processes(SLOT_UID_BASE + n):
                    continue
                yield SLOT_UID_BASE + n
                return
            finally:
                os.close(fd)  # closing the descriptor releases the lock
        if time.monotonic() > deadline:
            raise RuntimeError(f"all {SLOTS} sandbox slots stayed busy for {SLOT_WAIT_S} s")
        time.sleep(0.05)


def _bwrap_argv(work: Path, argv: list[str], limits: Limits, info_fd: int,
                uid: int = NOBODY, extra_env: dict[str, str] | None = None) -> list[str]:
    cmd = ["bwrap", "--info-fd", str(info_fd), "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
           # /tmp first: a checkout (and its venv) under /tmp is then bound on top of the fresh
           # tmpfs instead of being hidden by it.
           "--perms", "1777", "--size", str(limits.file_size_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix}
    # bwrap creates missing parents as 0700 root dirs, unreadable for the run's uid: make them 0755.
    parents = {str(p) for dest in [*prefixes, INSIDE_WORK, f"{INSIDE_LIB}/producer_core", "/etc/x"]
               for p in Path(dest).parents if str(p) not in ("/", "/tmp")}
    for path in sorted(parents, key=lambda p: p.count("/")):
        cmd += ["--perms", "0755", "--dir", path]
    for path in ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        cmd += ["--ro-bind-try", path, path]
    for path in _ETC_FILES:
        cmd += ["--ro-bind-try", path, path]
    for path in sorted(prefixes):
        cmd += ["--ro-bind", path, path]
    cmd += ["--ro-bind", str(_producer_core_dir()), f"{INSIDE_LIB}/producer_core",
            "--proc", "/proc", "--dev", "/dev",
            "--bind", str(work), INSIDE_WORK, "--chdir", INSIDE_WORK]
    for key, value in {**_env(INSIDE_LIB, INSIDE_WORK), **(extra_env or {})}.items():
        cmd += ["--setenv", key, value]
    cmd.append("--")
    if os.geteuid() == 0:
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return cmd + _python_argv(argv)


def _dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _killed_reason(exit_code: int | None, stderr: str) -> str | None:
    if exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "cpu"
    if exit_code in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
        return "output"
    tail = stderr[-2000:]
    if "MemoryError" in tail or "Cannot allocate memory" in tail:
        return "memory"
    if exit_code and ("BlockingIOError" in tail or "Resource temporarily unavailable" in tail
                      or "can't start new thread" in tail):
        return "processes"
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_outputs(work: Path, names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for name in names:
        path = work / name
        try:
            # lstat first: a symlink planted by the program must not make us read host files.
            if path.is_symlink() or not path.is_file():
                continue
            with open(path, "rb") as fh:
                found[name] = fh.read(OUTPUT_FILE_CAP).decode("utf-8", "replace")
        except OSError:
            continue
    return found


def run(job: SandboxJob) -> SandboxResult:
    """Run ``job`` in a fresh directory under its limits; never raises for what the code does."""
    ensure_bytecode()
    if os.geteuid() == 0 and isolation_available():
        with slot_uid() as uid:
            return _run(job, uid)
    return _run(job, NOBODY)


def _run(job: SandboxJob, uid: int) -> SandboxResult:
    limits = job.limits
    isolated = isolation_available()
    work = Path(tempfile.mkdtemp(prefix="sandbox-"))
    shim = None
    info_r = info_w = None
    try:
        for name, text in job.files.items():
            target = (work / name).resolve()
            if work.resolve() not in target.parents:
                raise ValueError(f"sandbox file name escapes the directory: {name!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(work):
                for name in [*dirs, *files]:
                    os.chown(os.path.join(root, name), uid, uid)
            os.chown(work, uid, uid)
        peer = Peer(job.peer) if job.peer is not None else None
        if isolated:
            info_r, info_w = os.pipe()
            argv = _bwrap_argv(work, job.argv, limits, info_w, uid,
                               peer.env() if peer else None)
            env, cwd = {"PATH": "/usr/bin:/bin"}, None
        else:
            shim = Path(tempfile.mkdtemp(prefix="sandbox-lib-"))
            (shim / "producer_core").symlink_to(_producer_core_dir())
            os.chmod(shim, 0o755)
            argv, env, cwd = _python_argv(job.argv), _env(str(shim), str(work)), str(work)
        if peer is not None and not isolated:
            env.update(peer.env())
        return _supervise(_prlimit(limits) + argv, env, cwd, limits, work, job.outputs,
                          isolated, info_r, info_w, peer)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if shim:
            shutil.rmtree(shim, ignore_errors=True)


def _sandbox_init_pid(info_r: int | None) -> int | None:
    """The host pid of the sandbox's first process, from bwrap's --info-fd JSON."""
    if info_r is None:
        return None
    import json

    data = b""
    while chunk := os.read(info_r, 4096):
        data += chunk
    os.close(info_r)
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie: its namespace is already torn down)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _reap_namespace(pid: int | None) -> None:
    """SIGKILL the pid namespace's init (the kernel then kills the namespace) and wait for it."""
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def _supervise(argv, env, cwd, limits: Limits, work: Path, outputs, isolated: bool,
               info_r: int | None = None, info_w: int | None = None, peer: Peer | None = None):
    started = time.monotonic()
    cap = limits.output_kb * 1024
    fds = ((info_w,) if info_w is not None else ()) + (peer.child_fds if peer else ())
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=cwd,
                                start_new_session=True, close_fds=True, pass_fds=fds)
    except BaseException:
        if peer is not None:
            peer.finish()
        raise
    if peer is not None:
        peer.start()
    init_pid = None
    if info_w is not None:
        os.close(info_w)
        # bwrap writes its info and closes the fd as soon as the sandbox exists (or on failure).
        init_pid = _sandbox_init_pid(info_r)
    chunks = {"stdout": bytearray(), "stderr": bytearray()}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    killed = None
    open_streams = 2
    last_disk_check = 0.0
    try:
        while open_streams:
            now = time.monotonic()
            if now - started > limits.wall_s:
                killed = "wall"
                break
            if now - last_disk_check > 0.25:
                last_disk_check = now
                if _dir_size(work) > WORKDIR_FACTOR * limits.file_size_mb * 1024 * 1024:
                    killed = "output"
                    break
            for key, _ in sel.select(timeout=0.1):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                buf = chunks[key.data]
                buf += data
                if len(chunks["stdout"]) + len(chunks["stderr"]) > cap:
                    killed = "output"
                    break
            if killed:
                break
        if killed is None:
            remaining = max(0.1, limits.wall_s - (time.monotonic() - started))
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                killed = "wall"
    finally:
        # Always kill the whole group: children that outlive the main program die with it.
        _reap_namespace(init_pid)
        _kill_group(proc)
        proc.wait()
        if peer is not None:
            peer.finish()
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    wall_ms = int((time.monotonic() - started) * 1000)
    stdout = bytes(chunks["stdout"][:cap]).decode("utf-8", "replace")
    stderr = bytes(chunks["stderr"][:cap]).decode("utf-8", "replace")
    exit_code = proc.returncode
    if killed is None:
        killed = _killed_reason(exit_code, stderr)
    return SandboxResult(exit_code=exit_code, stdout=stdout, stderr=stderr,
                         outputs=_read_outputs(work, outputs), killed=killed, wall_ms=wall_ms,
                         isolation="bwrap" if isolated else "reduced",
                         peer=peer.result if peer else None,
                         peer_error=peer.error if peer else None)
