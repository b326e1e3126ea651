"""Speed goals live here, never in timed tests: ``python -m bench [send|sweep|compression]``."""
