"""Search over 200,000 titles with an index (issue 12): a folded token column on the titles
(`logic.normalise.search_text`), a stored tsvector column with a GIN index on PostgreSQL, an external-content
FTS5 table kept by triggers on SQLite; pages ordered and continued by id (keyset).

A later migration that rebuilds selection_title on SQLite drops the triggers: recreate them.
"""

from typing import Any

from django.db import migrations, models

FTS_SQLITE = [
    "CREATE VIRTUAL TABLE selection_title_fts USING fts5("
    "search, content='selection_title', content_rowid='id', detail='none', columnsize=0)",
    "CREATE TRIGGER selection_title_fts_ai AFTER INSERT ON selection_title BEGIN"
    " INSERT INTO selection_title_fts(rowid, search) VALUES (new.id, new.search); END",
    "CREATE TRIGGER selection_title_fts_ad AFTER DELETE ON selection_title BEGIN"
    " INSERT INTO selection_title_fts(selection_title_fts, rowid, search)"
    " VALUES ('delete', old.id, old.search); END",
    "CREATE TRIGGER selection_title_fts_au AFTER UPDATE OF search ON selection_title BEGIN"
    " INSERT INTO selection_title_fts(selection_title_fts, rowid, search)"
    " VALUES ('delete', old.id, old.search);"
    " INSERT INTO selection_title_fts(rowid, search) VALUES (new.id, new.search); END",
    "INSERT INTO selection_title_fts(selection_title_fts) VALUES ('rebuild')",
]
DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS selection_title_fts_ai",
    "DROP TRIGGER IF EXISTS selection_title_fts_ad",
    "DROP TRIGGER IF EXISTS selection_title_fts_au",
    "DROP TABLE IF EXISTS selection_title_fts",
]
# Stored, not an expression index: a page that walks titles in id order and tests each against
# the query would otherwise run to_tsvector on every row it passes.
GIN_POSTGRES = [
    "ALTER TABLE selection_title ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search)) STORED",
    "CREATE INDEX selection_title_search ON selection_title USING gin (search_vector)",
]
DROP_POSTGRES = [
    "DROP INDEX IF EXISTS selection_title_search",
    "ALTER TABLE selection_title DROP COLUMN IF EXISTS search_vector",
]


def backfill(apps: Any, schema_editor: Any) -> None:
    from lifeline.selection.logic.normalise import search_text

    Title = apps.get_model("selection", "Title")
    batch = []
    for title in Title.objects.only("id", "title", "author", "publisher", "isbn").iterator(
        chunk_size=2000
    ):
        title.search = search_text(title.title, title.author, title.publisher, title.isbn)
        batch.append(title)
        if len(batch) >= 2000:
            Title.objects.bulk_update(batch, ["search"])
            batch = []
    if batch:
        Title.objects.bulk_update(batch, ["search"])


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("selection", "0002_importjob")]

    operations = [
        migrations.AddField(
            model_name="title",
            name="search",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RemoveIndex(model_name="title", name="selection_title_cls"),
        migrations.AddIndex(
            model_name="title",
            index=models.Index(fields=["catalogue", "clc_class", "id"], name="selection_title_cls_id"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": FTS_SQLITE, "postgresql": GIN_POSTGRES}),
            _run({"sqlite": DROP_SQLITE, "postgresql": DROP_POSTGRES}),
        ),
    ]
