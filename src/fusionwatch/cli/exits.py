"""The exit codes of every fusionwatch command, in one enum (the README lists them)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable process exit codes; scripts may rely on them."""

    OK = 0
    INVALID_INPUT = 2  # a case, score file, account or landmark file was not accepted
    STALE = 3  # a committed rulebook or coverage file is out of date
    NOT_FOUND = 4  # no glossary, FAQ or myth entry for the term
    KNOWLEDGE = 5  # the knowledge base broke a load-time check
    PORT_IN_USE = 6  # serve: another program already listens on the address and port
    BAD_SETTING = 7  # serve and the admin commands: a FUSIONWATCH_* setting is not valid
