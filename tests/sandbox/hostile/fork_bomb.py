# expect: failed
# ruff: noqa
import os
while True:
    os.fork()
