"""``python -m tipoff`` runs the command line."""

from tipoff.cli import main

main()
