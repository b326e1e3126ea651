# expect: contained
# ruff: noqa
import os
# A symlink named like the result file must not make the sandbox read a host file back.
os.symlink("{{CANARY_FILE}}", "result.json")
