"""The one parser of whole numbers from addresses and forms: ASCII digits within a range, or nothing."""

from __future__ import annotations

import pytest

from duban.web.numbers import whole


@pytest.mark.parametrize(
    ("raw", "low", "high", "expected"),
    [
        ("12", 0, 2**63 - 1, 12),
        (" 7 ", 0, 2**63 - 1, 7),
        ("0", 0, 2**63 - 1, 0),
        ("0", 1, 999_999, None),
        ("9223372036854775807", 0, 2**63 - 1, 9223372036854775807),
        ("9223372036854775808", 0, 2**63 - 1, None),
        ("99999999999999999999999", 0, 2**63 - 1, None),
        ("1000000", 1, 999_999, None),
        ("²", 0, 2**63 - 1, None),
        ("①", 0, 2**63 - 1, None),
        ("٣", 0, 2**63 - 1, None),
        ("１２", 0, 2**63 - 1, None),  # full-width digits
        ("-1", 0, 2**63 - 1, None),
        ("+1", 0, 2**63 - 1, None),
        ("1_000", 0, 2**63 - 1, None),
        ("1\x00", 0, 2**63 - 1, None),
        ("", 0, 2**63 - 1, None),
        (None, 0, 2**63 - 1, None),
        (3, 0, 2**63 - 1, None),  # only text is typed
    ],
)
def test_whole_numbers_are_ascii_digits_within_range(raw: object, low: int, high: int, expected: int | None) -> None:
    assert whole(raw, low=low, high=high) == expected
