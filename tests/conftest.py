"""Shared fixtures: the packaged knowledge base and a fixed assessment date."""

import datetime as dt

import pytest

from fusionwatch.core.case import Emergency
from fusionwatch.core.compiled import Knowledge
from fusionwatch.knowledge import load

AS_OF = dt.date(2026, 11, 23)
# Every emergency question of the case model answered no: the screen done and clear.
SCREEN_CLEAR = dict.fromkeys(Emergency.model_fields, "no")


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load()
