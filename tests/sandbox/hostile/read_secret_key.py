# expect: failed
# ruff: noqa
for path in ("{{REPO}}/.secret_key", "{{REPO}}/courseware/settings.py", "{{CANARY_FILE}}"):
    print("ESCAPED", open(path).read())
