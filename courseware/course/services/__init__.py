"""Course services: content parsing and rendering, progress, checking and grading.

Views parse the request, call one of these, and render."""
