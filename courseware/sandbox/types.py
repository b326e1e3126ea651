"""The sandbox's data types — the contract of docs/GRADING.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


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


@dataclass
class SandboxResult:
    exit_code: int | None
    stdout: str
    stderr: str
    outputs: dict[str, str]
    killed: str | None
    wall_ms: int
    isolation: Literal["bwrap", "reduced"]
