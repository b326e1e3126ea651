# expect: failed
# ruff: noqa
handles = [open(f"h{i}.txt", "w") for i in range(10000)]
