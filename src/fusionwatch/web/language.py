"""Which language a page is in: the switch's choice, then ?lang=, then Accept-Language (pure).

The switch is a link (or a hidden ``lang`` field carried by every form of the self-check), so the
choice travels with the answers and needs no server state (decisions 0005 and 0013).
"""

from collections.abc import Mapping
from urllib.parse import urlencode

from fusionwatch import locale

FIELD = "lang"


def choose(
    chosen: str | None, query: str | None, accept_language: str | None, offered: tuple[str, ...]
) -> str:
    """The first of: a chosen language, a ?lang= one, the best Accept-Language match, English."""
    for explicit in (chosen, query):
        if explicit in offered:
            return str(explicit)
    return locale.negotiate(accept_language, offered) or locale.SOURCE


def switch_links(path: str, params: Mapping[str, str], offered: tuple[str, ...]) -> dict[str, str]:
    """For each language, this page's address in it (the other parameters kept)."""
    kept = {k: v for k, v in params.items() if k != FIELD}
    return {code: f"{path}?{urlencode({**kept, FIELD: code})}" for code in offered}
