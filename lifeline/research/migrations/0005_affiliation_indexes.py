"""A peer's papers found by index on PostgreSQL (issue 13): a trigram index of the affiliation
list's JSON text (the peer's name, case ignored, anywhere in it) and a partial index of the rows
holding a character whose case folding SQL does not do as Python does (`peers.FOLDS_TO_ASCII`;
`peers.rows_sql` writes both expressions exactly so, a test checks). Nothing on SQLite: its
LIKE over 200,000 rows is fast enough (docs/benchmarks.md).
"""

from typing import Any

from django.db import migrations

# The same characters as peers.FOLDS_TO_ASCII, as escapes (a test compares them): a
# migration keeps the index it made even if the app's constant changes later.
FOLDS_TO_ASCII = (
    "\u00df\u0130\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e\u212a"
    "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
)
FORWARD = [
    # a trusted extension (PostgreSQL 13+): the database's owner may create it
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX research_biblio_affil_trgm ON research_bibliorecord"
    " USING gin ((affiliations::text) gin_trgm_ops)",
    "CREATE INDEX research_biblio_affil_fold ON research_bibliorecord (library_id)"
    f" WHERE (affiliations)::text ~ '[{FOLDS_TO_ASCII}]'",
    # the statistics of the new index's expression: without them the planner reads every row
    "ANALYZE research_bibliorecord",
]
BACKWARD = [
    "DROP INDEX IF EXISTS research_biblio_affil_fold",
    "DROP INDEX IF EXISTS research_biblio_affil_trgm",
]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("research", "0004_import_jobs_on_core_and_analysis_figures")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
