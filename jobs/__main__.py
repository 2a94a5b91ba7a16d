"""`python -m jobs` is the `crossings` command."""

from jobs.cli import main

main()
