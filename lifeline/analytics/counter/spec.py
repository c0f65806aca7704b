"""What the COUNTER Code of Practice (R5.0 and R5.1) allows in each report and standard view.

Only the parts the importer checks: which family a report belongs to (its first column),
which metric types it may carry and which attribute columns a standard view has.
"""

from __future__ import annotations

from dataclasses import dataclass

INV = ("Total_Item_Investigations", "Unique_Item_Investigations")
REQ = ("Total_Item_Requests", "Unique_Item_Requests")
TITLE = ("Unique_Title_Investigations", "Unique_Title_Requests")
DENIALS = ("Limit_Exceeded", "No_License")
SEARCHES_DB = ("Searches_Automated", "Searches_Federated", "Searches_Regular")

# The attribute columns that vary between the master reports and their views.
ATTRIBUTES = ("Data_Type", "Section_Type", "YOP", "Access_Type", "Access_Method")


@dataclass(frozen=True)
class ReportSpec:
    code: str
    family: str  # PR, DR, TR, IR
    name_column: str  # the first column of the tabular form
    metrics: frozenset[str]
    # None for master reports (any subset of `allowed`); the exact set for standard views.
    attributes: frozenset[str] | None
    allowed: frozenset[str]


FAMILY_COLUMN = {"PR": "Platform", "DR": "Database", "TR": "Title", "IR": "Item"}


def _spec(
    code: str,
    metrics: tuple[str, ...],
    attrs: tuple[str, ...] | None,
    allowed: tuple[str, ...] = (),
) -> ReportSpec:
    family = code[:2]
    return ReportSpec(
        code,
        family,
        FAMILY_COLUMN[family],
        frozenset(metrics),
        None if attrs is None else frozenset(attrs),
        frozenset(allowed or attrs or ()),
    )


_R50 = [
    _spec("PR", ("Searches_Platform", *INV, *REQ, *TITLE), None, ("Data_Type", "Access_Method")),
    _spec(
        "PR_P1",
        (
            "Searches_Platform",
            "Total_Item_Requests",
            "Unique_Item_Requests",
            "Unique_Title_Requests",
        ),
        (),
    ),
    _spec("DR", (*SEARCHES_DB, *INV, *REQ, *TITLE, *DENIALS), None, ("Data_Type", "Access_Method")),
    _spec("DR_D1", (*SEARCHES_DB, "Total_Item_Investigations", "Total_Item_Requests"), ()),
    _spec("DR_D2", DENIALS, ()),
    _spec("TR", (*INV, *REQ, *TITLE, *DENIALS), None, ATTRIBUTES),
    _spec("TR_B1", ("Total_Item_Requests", "Unique_Title_Requests"), ("YOP",)),
    _spec("TR_B2", DENIALS, ("YOP",)),
    _spec("TR_B3", (*INV, *REQ, *TITLE), ("YOP", "Access_Type")),
    _spec("TR_J1", REQ, ()),
    _spec("TR_J2", DENIALS, ()),
    _spec("TR_J3", (*INV, *REQ), ("Access_Type",)),
    _spec("TR_J4", REQ, ("YOP",)),
    _spec("IR", (*INV, *REQ, *DENIALS), None, ("Data_Type", "YOP", "Access_Type", "Access_Method")),
    _spec("IR_A1", REQ, ("Access_Type",)),
    _spec("IR_M1", ("Total_Item_Requests",), ()),
]
# R5.1 dropped Section_Type, added Data_Type to several views and Unique_Item_* to DR_D1 / IR_M1.
_R51 = [
    _spec("PR", ("Searches_Platform", *INV, *REQ, *TITLE), None, ("Data_Type", "Access_Method")),
    _spec(
        "PR_P1",
        (
            "Searches_Platform",
            "Total_Item_Requests",
            "Unique_Item_Requests",
            "Unique_Title_Requests",
        ),
        ("Data_Type",),
    ),
    _spec("DR", (*SEARCHES_DB, *INV, *REQ, *TITLE, *DENIALS), None, ("Data_Type", "Access_Method")),
    _spec("DR_D1", (*SEARCHES_DB, *INV, *REQ), ()),
    _spec("DR_D2", DENIALS, ()),
    _spec(
        "TR",
        (*INV, *REQ, *TITLE, *DENIALS),
        None,
        ("Data_Type", "YOP", "Access_Type", "Access_Method"),
    ),
    _spec("TR_B1", ("Total_Item_Requests", "Unique_Title_Requests"), ("Data_Type", "YOP")),
    _spec("TR_B2", DENIALS, ("Data_Type", "YOP")),
    _spec("TR_B3", (*INV, *REQ, *TITLE), ("Data_Type", "YOP", "Access_Type")),
    _spec("TR_J1", REQ, ()),
    _spec("TR_J2", DENIALS, ()),
    _spec("TR_J3", (*INV, *REQ), ("Access_Type",)),
    _spec("TR_J4", REQ, ("YOP",)),
    _spec("IR", (*INV, *REQ, *DENIALS), None, ("Data_Type", "YOP", "Access_Type", "Access_Method")),
    _spec("IR_A1", REQ, ("Access_Type",)),
    _spec("IR_M1", REQ, ("Data_Type",)),
]
SPECS: dict[str, dict[str, ReportSpec]] = {
    "5": {s.code: s for s in _R50},
    "5.1": {s.code: s for s in _R51},
}
REPORT_CODES = sorted(SPECS["5.1"])


def normalise_release(raw: str) -> str | None:
    """ "5", "5.0", "R5" → "5"; "5.1" → "5.1"; anything else → None."""
    value = (raw or "").strip().upper().removeprefix("R")
    if value in {"5", "5.0", "5.0.1", "5.0.2", "5.0.3"}:
        return "5"
    if value in {"5.1", "5.1.0"}:
        return "5.1"
    return None


# Every metric type of Release 5 (a name outside this set is a vendor's own or a summary row).
ALL_METRICS: frozenset[str] = frozenset(
    m for release in SPECS.values() for spec in release.values() for m in spec.metrics
)
