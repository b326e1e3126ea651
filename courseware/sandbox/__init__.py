"""Running untrusted learner code: ``run(SandboxJob) -> SandboxResult`` (docs/GRADING.md)."""

from courseware.sandbox.runner import isolation_available, run
from courseware.sandbox.types import Limits, SandboxJob, SandboxResult

__all__ = ["Limits", "SandboxJob", "SandboxResult", "isolation_available", "run"]
