# expect: failed
# ruff: noqa
i = 0
while True:
    with open(f"/tmp/f{i}.bin", "wb") as fh:
        fh.write(b"\0" * (1 << 20))
    i += 1
