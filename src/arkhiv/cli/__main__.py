"""`python -m arkhiv.cli`: the same as the `arkhiv` command."""

from arkhiv.cli import main

main()
