"""The reference without the what-if search: ``assess()`` whose missing-information list is empty.

``assess()`` decides triage, the suspicion band and the fired rules first, and only then tries
each open input for the "what would change this" list (``core.whatif``), which is most of its
time on generated cases (about 5 of 7 ms). That list is not compared, and it cannot move the
verdict: it reads a copy of the facts after the verdict is made. The equivalence test runs its
large reference with the search switched off in the worker processes, and
``test_the_what_if_search_does_not_move_the_verdict`` checks on real ``assess()`` that the
verdicts are the same.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fusionwatch.core import engine


def _nothing(*_: Any, **__: Any) -> tuple[()]:
    return ()


def switch_off() -> None:
    """Worker initializer: every ``assess()`` in this process skips the what-if search."""
    engine.what_would_change = _nothing  # type: ignore[assignment]


@contextmanager
def switched_off() -> Iterator[None]:
    """The same, for the current process, undone on exit."""
    kept = engine.what_would_change
    switch_off()
    try:
        yield
    finally:
        engine.what_would_change = kept
