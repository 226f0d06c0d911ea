"""Interface strings, dates and numbers in the reader's language (gettext catalogues and Babel).

Each language's ``<code>/LC_MESSAGES/messages.po`` is the file a translator edits. It is compiled
in memory the first time it is needed (no build step, nothing generated to commit or forget), and
the language of the current request or command is held in a context variable, so templates, their
imported macros and Python code all translate without passing a language around (decision 0013).
"""

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment

from fusionwatch.knowledge.loader import language_names

SOURCE = "en"
ROOT = resources.files("fusionwatch.locale")
_CURRENT: ContextVar[str] = ContextVar("fusionwatch_language", default=SOURCE)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@cache
def available() -> tuple[str, ...]:
    """The source language, then every language with a catalogue, discovered from the folders."""
    found = sorted(f.name for f in ROOT.iterdir() if (f / "LC_MESSAGES" / "messages.po").is_file())
    return (SOURCE, *found)


@cache
def offered() -> tuple[str, ...]:
    """Languages with both knowledge texts and interface strings (tests prove they are the same)."""
    return tuple(code for code in language_names() if code in available())


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of one language (English, the source, is the identity)."""
    if language == SOURCE or language not in available():
        return NullTranslations()
    path = ROOT / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        compiled = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, compiled)
    buffer.seek(0)
    return Translations(buffer)


def current() -> str:
    return _CURRENT.get()


@contextmanager
def using(language: str) -> Iterator[None]:
    """Everything translated inside the block is in ``language``."""
    token = _CURRENT.set(language if language in available() else SOURCE)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def gettext(message: str) -> str:
    return catalogue(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(current()).ngettext(singular, plural, n)


_ = gettext


def install(env: Environment) -> None:
    """Templates translate through the current language (``_()``, ``{% trans %}``), macros too."""
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = current


def negotiate(accept_language: str | None, offered: tuple[str, ...]) -> str | None:
    """The best of ``offered`` for an Accept-Language header, or None (q=0 means 'not this')."""
    if not accept_language:
        return None
    wanted = []
    for part in accept_language.split(","):
        tag, _sep, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            weight = float(q)
        except ValueError:
            continue
        if tag and weight > 0:
            wanted.append((weight, tag.replace("-", "_")))
    ordered = [tag for _w, tag in sorted(wanted, key=lambda item: -item[0])]
    found = negotiate_locale(ordered, list(offered), sep="_")
    return str(found) if found else None


def date(value: dt.date, language: str | None = None) -> str:
    """A date as people write it in the language ('30 de noviembre de 2026', '30 November 2026')."""
    return str(format_date(value, "long", locale=_locale(language)))


def number(value: float, language: str | None = None) -> str:
    """A number with the language's decimal sign ('4,5' in Spanish), at most one decimal place."""
    return str(format_decimal(round(value, 1), "#,##0.#", locale=_locale(language)))


def _locale(language: str | None) -> Locale:
    return Locale.parse(language or current())
