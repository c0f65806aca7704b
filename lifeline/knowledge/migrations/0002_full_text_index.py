"""The database's own full-text index over `knowledge_article.search_index`.

SQLite: an FTS5 table with the article table as external content, kept by triggers (FTS5's
documented pattern); `unicode61` reads the encoded tokens (text.encode) as they are.
PostgreSQL: a stored generated `tsvector` column ('simple' configuration: no stemming, no stop
words: the tokens are already what we want) with a GIN index.
Other databases get neither; search needs one of these two.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_article_fts USING fts5("
    "search_index, content='knowledge_article', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER knowledge_article_ai AFTER INSERT ON knowledge_article BEGIN"
    " INSERT INTO knowledge_article_fts(rowid, search_index) VALUES (new.id, new.search_index); END",
    "CREATE TRIGGER knowledge_article_ad AFTER DELETE ON knowledge_article BEGIN"
    " INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, search_index)"
    " VALUES ('delete', old.id, old.search_index); END",
    "CREATE TRIGGER knowledge_article_au AFTER UPDATE OF search_index ON knowledge_article BEGIN"
    " INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, search_index)"
    " VALUES ('delete', old.id, old.search_index);"
    " INSERT INTO knowledge_article_fts(rowid, search_index) VALUES (new.id, new.search_index); END",
    "INSERT INTO knowledge_article_fts(knowledge_article_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_article_au",
    "DROP TRIGGER IF EXISTS knowledge_article_ad",
    "DROP TRIGGER IF EXISTS knowledge_article_ai",
    "DROP TABLE IF EXISTS knowledge_article_fts",
]
POSTGRES_FORWARD = [
    "ALTER TABLE knowledge_article ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_index)) STORED",
    "CREATE INDEX knowledge_article_search_gin ON knowledge_article USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS knowledge_article_search_gin",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles")]
    operations = [migrations.RunPython(forward, backward)]
