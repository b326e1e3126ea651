"""One grader per exercise slug (docs/GRADING.md). A fixed table: a slug from a request is
looked up here, never imported by name."""

from courseware.exercises.graders import (
    back_pressure,
    batching_benchmark,
    compression_comparison,
    health_check,
    metrics_dashboard,
)

GRADERS = {
    "batching-benchmark": batching_benchmark.GRADER,
    "compression-comparison": compression_comparison.GRADER,
    "back-pressure": back_pressure.GRADER,
    "metrics-dashboard": metrics_dashboard.GRADER,
    "health-check": health_check.GRADER,
}
