# expect: failed
# ruff: noqa
for path in ("{{REPO}}/escaped.txt", "/usr/escaped.txt", "/etc/escaped.txt", "/escaped.txt"):
    try:
        open(path, "w").write("ESCAPED")
        print("ESCAPED wrote", path)
    except OSError as exc:
        print("refused", path, exc)
raise SystemExit(1)
