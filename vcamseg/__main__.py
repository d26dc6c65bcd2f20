import sys

from vcamseg.cli import main

sys.exit(main())
