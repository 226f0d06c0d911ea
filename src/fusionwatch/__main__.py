"""Run the command-line interface with ``python -m fusionwatch``."""

from fusionwatch.cli import main

main()
