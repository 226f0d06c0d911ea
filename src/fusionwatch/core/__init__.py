"""The pure centre: case model, knowledge schema, three-valued logic and the assess() engine."""
