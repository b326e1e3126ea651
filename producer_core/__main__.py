"""``python -m producer_core`` — see ``producer_core.cli``."""

import sys

from producer_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
