"""`python -m service.cli`: the same as the `wallguard` console script."""

from service.cli import main

main()
