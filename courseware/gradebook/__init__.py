"""The instructors' gradebook: learners × exercises, submission detail, CSV exports."""
