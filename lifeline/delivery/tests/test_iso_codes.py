"""The standard's code-list values and Lifeline's reasons map both ways."""

from __future__ import annotations

from lifeline.delivery.choices import UnfilledReason
from lifeline.delivery.logic import iso_codes


def test_reason_unfilled_both_ways() -> None:
    assert iso_codes.unfilled_reason("NotHeld") == UnfilledReason.NOT_HELD
    assert iso_codes.unfilled_reason("CopyrightProblem") == UnfilledReason.COPYRIGHT
    assert iso_codes.unfilled_reason("SomethingOfTheirOwn") == UnfilledReason.OTHER
    for reason in UnfilledReason:
        code = iso_codes.reason_unfilled_code(reason)
        assert iso_codes.unfilled_reason(code) in (reason, UnfilledReason.COPYRIGHT)


def test_item_identifier_codes() -> None:
    assert iso_codes.ITEM_ID_FIELDS["ISSN"] == "issn" and iso_codes.ITEM_ID_FIELDS["DOI"] == "doi"
    assert {"URL", "Mail"} <= iso_codes.DELIVERY_METHODS
    assert {"Copy", "Loan", "CopyOrLoan"} == iso_codes.SERVICE_TYPES
