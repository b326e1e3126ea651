# expect: killed=output
# ruff: noqa
import sys
while True:
    sys.stderr.write("spam" * 4096)
