"""ISO 18626 code-list values and how they map onto Lifeline's own reasons.

The values are those of the ISO 18626 maintenance agency's code lists for v1.2
(illtransactions.org, "Code lists": reasonUnfilled, reasonRetry, deliveryMethod / sentVia,
serviceType, bibliographicItemIdentifierCode). A peer may send a value of its own scheme
(`scheme` attribute): it is kept as sent and read as "other".
"""

from __future__ import annotations

from lifeline.delivery.choices import DocType, UnfilledReason

# reasonUnfilled → Lifeline's reason, and back (the first value listed wins on the way out).
REASON_UNFILLED_IN: dict[str, str] = {
    "NotHeld": UnfilledReason.NOT_HELD,
    "NotOnShelf": UnfilledReason.NOT_AVAILABLE,
    "NotAvailableForILL": UnfilledReason.NOT_AVAILABLE,
    "OnLoan": UnfilledReason.NOT_AVAILABLE,
    "InProcess": UnfilledReason.NOT_AVAILABLE,
    "Lacking": UnfilledReason.NOT_AVAILABLE,
    "Damaged": UnfilledReason.NOT_AVAILABLE,
    "PolicyProblem": UnfilledReason.COPYRIGHT,
    "CopyrightProblem": UnfilledReason.COPYRIGHT,
    "Cost": UnfilledReason.COST,
    "CostExceedsMaxCost": UnfilledReason.COST,
    "PoorCondition": UnfilledReason.NOT_AVAILABLE,
    "NonCirculating": UnfilledReason.NOT_AVAILABLE,
    "NotFoundAsCited": UnfilledReason.BAD_CITATION,
    "InsufficientInformation": UnfilledReason.BAD_CITATION,
}
REASON_UNFILLED_OUT: dict[str, str] = {
    UnfilledReason.NOT_HELD: "NotHeld",
    UnfilledReason.NOT_AVAILABLE: "NotAvailableForILL",
    UnfilledReason.COPYRIGHT: "CopyrightProblem",
    UnfilledReason.COST: "CostExceedsMaxCost",
    UnfilledReason.BAD_CITATION: "NotFoundAsCited",
    UnfilledReason.OTHER: "PolicyProblem",
}
# reasonRetry: why the supplier says "ask again" (with retryAfter), read as a note for staff.
REASON_RETRY = frozenset(
    {
        "AtBindery",
        "CostExceedsMaxCost",
        "LoanCondition",
        "MultiVolAvail",
        "NotCurrentAvailableForILL",
        "NotFoundAsCited",
        "OnLoan",
        "OnOrder",
        "ReqDelivMethodNotSupp",
        "ReqDelivInfoNotSupp",
        "ReqEditionNotPossible",
        "ReqFormatNotPossible",
        "InProcess",
        "BranchOnly",
    }
)
# sentVia / deliveryMethod values; URL is the one a machine can follow.
DELIVERY_METHODS = frozenset({"Mail", "Email", "FTP", "URL", "ArticleExchange", "Courier"})
SERVICE_TYPES = frozenset({"Copy", "Loan", "CopyOrLoan"})
# bibliographicItemIdentifierCode → the request field it fills.
ITEM_ID_FIELDS: dict[str, str] = {
    "ISSN": "issn",
    "EISSN": "issn",
    "ISBN": "isbn",
    "EISBN": "isbn",
    "DOI": "doi",
    "PMID": "pmid",
}
ITEM_ID_OUT = (("doi", "DOI"), ("issn", "ISSN"), ("isbn", "ISBN"), ("pmid", "PMID"))
# Document types that are returnables (a loan) rather than a copy.
LOAN_TYPES = frozenset({DocType.FOREIGN_BOOK, DocType.CHINESE_BOOK, DocType.TEXTBOOK})


def unfilled_reason(value: str) -> str:
    return REASON_UNFILLED_IN.get(value.strip(), UnfilledReason.OTHER)


def reason_unfilled_code(reason: str) -> str:
    return REASON_UNFILLED_OUT.get(reason, "PolicyProblem")
