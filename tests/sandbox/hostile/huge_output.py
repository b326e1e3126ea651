# expect: killed=output
# ruff: noqa
import sys
while True:
    sys.stdout.write("spam" * 4096)
