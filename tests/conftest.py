"""Shared fixtures: the packaged knowledge base and a fixed assessment date."""

import datetime as dt

import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.knowledge import load

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load()
