"""Run the command-line interface with ``python -m fusionwatch``."""

from fusionwatch.cli.main import main

main()
