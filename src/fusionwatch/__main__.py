"""Run the command-line interface with ``python -m fusionwatch``."""

from fusionwatch.cli.main import main

# Guarded: a spawned helper process (the PDF pool) imports this module as __mp_main__.
if __name__ == "__main__":
    main()
