"""The sandbox's data types — the contract of docs/GRADING.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Limits:
    """Per-run limits; an exercise may lower them."""

    cpu_s: int = 10
    wall_s: int = 20
    memory_mb: int = 512
    processes: int = 16
    file_size_mb: int = 16
    open_files: int = 64
    output_kb: int = 64


@dataclass
class SandboxJob:
    files: dict[str, str]
    argv: list[str]
    limits: Limits = field(default_factory=Limits)
    outputs: tuple[str, ...] = ("result.json",)
    # Trusted code run in the worker beside the program, talking to it over two pipes
    # (courseware/sandbox/peer.py); its return value is SandboxResult.peer.
    peer: Callable[[Any], Any] | None = None


@dataclass
class SandboxResult:
    exit_code: int | None
    stdout: str
    stderr: str
    outputs: dict[str, str]
    killed: str | None
    wall_ms: int
    isolation: Literal["bwrap", "reduced"]
    peer: Any = None               # what the job's peer returned (trusted)
    peer_error: str | None = None  # why the peer could not finish (the program's fault)
