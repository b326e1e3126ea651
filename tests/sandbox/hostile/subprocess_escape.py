# expect: failed
# ruff: noqa
import subprocess
out = subprocess.run(["/bin/sh", "-c", "id; cat {{CANARY_FILE}}; ls {{REPO}}"], capture_output=True, text=True)
print(out.stdout, out.stderr)
raise SystemExit(out.returncode or 1)
