"""What an import found and did: one row per record, one issue per problem."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from lifeline.registry.io.choices import KIND_ORDER, OUTCOME_COLOURS, ImportKind, Outcome


@dataclass(frozen=True)
class Issue:
    source: str
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line else "")
        if not self.column:
            return f"{where}: {self.message}"
        return _("%(where)s: column “%(column)s”: %(message)s") % {
            "where": where,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class RowResult:
    kind: str
    source: str
    line: int
    key: str
    outcome: str
    changed: list[str] = field(default_factory=list)
    changed_headers: list[str] = field(default_factory=list)

    @property
    def colour(self) -> str:
        return OUTCOME_COLOURS[Outcome(self.outcome)]

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label)

    @property
    def kind_label(self) -> str:
        return str(ImportKind(self.kind).label)


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        """{kind: {outcome: n}} in import order, every outcome present."""
        tally = Counter((r.kind, r.outcome) for r in self.rows)
        kinds = [k for k in KIND_ORDER if any(r.kind == k for r in self.rows)]
        return {k: {o: tally[(k, o)] for o in Outcome.values} for k in kinds}

    def totals(self) -> dict[str, int]:
        tally = Counter(r.outcome for r in self.rows)
        return {o: tally[o] for o in Outcome.values} | {"errors": len(self.errors)}

    def summary(self) -> str:
        t = self.totals()
        return (
            _(
                "%(create)d to create, %(update)d to update, %(unchanged)d unchanged, %(errors)d errors"  # noqa: E501
            )
            % t
        )

    def changed_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.outcome != Outcome.UNCHANGED]
