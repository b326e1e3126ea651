# expect: killed=cpu
# ruff: noqa
while True:
    pass
