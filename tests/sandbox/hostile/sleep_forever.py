# expect: killed=wall
# ruff: noqa
import time
time.sleep(10**6)
