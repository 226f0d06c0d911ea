"""The question flow shared by the CLI check and the web self-check."""
