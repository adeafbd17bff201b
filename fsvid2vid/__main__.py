"""``python -m fsvid2vid``: the same as the ``fsvid2vid`` command."""

import sys

from fsvid2vid.cli import main

sys.exit(main())
