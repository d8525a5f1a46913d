import sys

from minping.cli import main

sys.exit(main())
