"""Access vocabulary shared by the store and the command line: token scopes, password minimum.

Kept apart from ``accounts`` so that the CLI can show them in ``--help`` without loading the
database and password-hashing libraries.
"""

from enum import StrEnum

MIN_PASSWORD = 12


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
