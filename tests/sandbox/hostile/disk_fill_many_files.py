# expect: contained
# ruff: noqa
i = 0
while True:
    with open(f"f{i}.bin", "wb") as fh:
        fh.write(b"\0" * (3 << 20))
    i += 1
