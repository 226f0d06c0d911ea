"""Password hashing (argon2), alone in a module of its own: the web app checks passwords in
separate low-priority processes, and each of them imports only this (and argon2), not the
database layer."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` matches the stored hash; False for a wrong one or a damaged hash.
    Slow by design: callers run it off the event loop."""
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker settings than today's."""
    return HASHER.check_needs_rehash(stored)
