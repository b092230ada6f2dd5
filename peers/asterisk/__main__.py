"""``python3 -m peers.asterisk --shared`` prints the shared folder (exit 1: none found);
``python3 -m peers.asterisk --asterisk`` prints the Asterisk binary (exit 2: none). Used by
``.ci/run``; see :mod:`peers.asterisk.locate`."""

import sys

from .locate import main

sys.exit(main(sys.argv[1:]))
