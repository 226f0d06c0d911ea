"""Derived findings that need real computation; small pure functions run before the rules."""
