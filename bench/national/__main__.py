"""`python -m bench.national`: see the package's docstring."""

import sys

from bench.national import main

sys.exit(main(sys.argv[1:]))
