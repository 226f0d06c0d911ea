"""Access vocabulary shared by the store and the command line: scopes, roles, password minimum.

Kept apart from ``accounts`` so that the CLI can show them in ``--help`` without loading the
database and password-hashing libraries.
"""

from enum import StrEnum

MIN_PASSWORD = 12


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


class Role(StrEnum):
    """A member's role in a care team."""

    CLINICIAN = "clinician"
    READ_ONLY = "read_only"
    ADMINISTRATOR = "administrator"


WRITERS = frozenset({Role.CLINICIAN, Role.ADMINISTRATOR})
