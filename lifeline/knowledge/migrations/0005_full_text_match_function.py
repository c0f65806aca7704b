"""PostgreSQL: the candidate step of search (search.full_text_match) as a function that can
only read the GIN index.

PostgreSQL's planner does not cost detoasting: for `search_vector @@ query` over 20,000 articles
it chose a nested loop probing the primary key (or a sequential scan) and filtered every row's
stored vector (~4 KB compressed, 125 MB of TOAST): 20-110 ms of server CPU a question (350 ms
with the sequential scan), where the GIN bitmap reads no vector at all (1-4 ms). The function
plans its one statement with plain and index scans switched off (its own SET clause, restored
when it returns), which leaves the GIN bitmap as the only way; the ranking statement around it
is planned freely (index-only scans of the postings). A function with a SET clause is never
inlined, so its rows are computed once per statement, before they are joined. It is PARALLEL
RESTRICTED: the leader runs it (a parallel worker would have to take on its settings); the rest
of a plan may still be parallel.

SQLite's FTS5 MATCH needs nothing of the kind.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION knowledge_article_matching(query tsquery) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 2000
SET enable_seqscan = off SET enable_indexscan = off
AS $$ SELECT id FROM knowledge_article WHERE search_vector @@ query $$
"""
POSTGRES_BACKWARD = "DROP FUNCTION IF EXISTS knowledge_article_matching(tsquery)"


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_postings")]
    operations = [migrations.RunPython(forward, backward)]
