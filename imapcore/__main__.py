"""``python -m imapcore``: the same command line as the ``imapcore`` script."""

import sys

from imapcore.cli import main

sys.exit(main())
