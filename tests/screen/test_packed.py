"""A packed text (``screen.packed``) is the same text as ``concat_ws`` over one CASE per item."""

import itertools

import duckdb
import pytest

from fusionwatch.screen.compiler import literal
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.packed import Packed

# Eleven items: with eight to a code, one full run and a partial run of three; texts with a quote.
ITEMS = [f"it'em {i}" for i in range(11)]


@pytest.mark.parametrize("bits", [8, 4, 3])
def test_a_packed_text_is_the_joined_items(bits: int) -> None:
    flags = [f"f{i}" for i in range(len(ITEMS))]
    packed = Packed(
        "text", " | ", [(item, f"{f} IS TRUE") for item, f in zip(ITEMS, flags, strict=True)], bits
    )
    # Items 0, 7, 8 and 9 (the edges of runs) take every combination of true, false and unknown
    # (NULL, not holding, as in a CASE); the items between alternate; the last one holds.
    values = ["TRUE", "FALSE", "NULL"]
    rows = []
    for i, chosen in enumerate(itertools.product(values, repeat=4)):
        row = [chosen[0], *(["TRUE", "FALSE"][(i + k) % 2] for k in range(6)), *chosen[1:], "TRUE"]
        rows.append(row)
    table = ", ".join("(" + ", ".join(f"CAST({v} AS BOOLEAN)" for v in r) + ")" for r in rows)
    codes = ", ".join(f"{sql} AS {name}" for name, sql in packed.codes())
    reference = ", ".join(
        f"CASE WHEN {test} THEN {literal(item)} END" for item, test in packed.items
    )
    got = duckdb.sql(
        f"SELECT {packed.text(DUCKDB)}, concat_ws({literal(' | ')}, {reference})"
        f" FROM (SELECT *, {codes} FROM (VALUES {table}) AS t({', '.join(flags)}))"
    ).fetchall()
    assert len(got) == len(rows)
    assert all(text == expected for text, expected in got), got[:3]
    expected_first = " | ".join(item for item, v in zip(ITEMS, rows[0], strict=True) if v == "TRUE")
    assert got[0][0] == expected_first


def test_no_items_is_the_empty_text() -> None:
    assert duckdb.sql(f"SELECT {Packed('text', ', ', []).text(DUCKDB)}").fetchall() == [("",)]
