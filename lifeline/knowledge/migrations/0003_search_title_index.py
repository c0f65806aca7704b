"""Title tokens stored with each article (search no longer segments candidate titles per
question), and the indexes search's change stamps read. Existing articles get their title
tokens here, without touching updated_at.

On SQLite, adding a column remakes the article table, which drops the triggers that keep the
FTS5 index (0002); they are created again here and the index rebuilt. Any later migration that
alters knowledge_article on SQLite must do the same (restore_fts_triggers)."""

from django.conf import settings
from django.db import migrations, models


def restore_fts_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    import importlib

    fts = importlib.import_module("lifeline.knowledge.migrations.0002_full_text_index")
    if schema_editor.connection.vendor == "sqlite":
        # Drop the three triggers if they survived, create them again, rebuild the index.
        for sql in fts.SQLITE_BACKWARD[:3] + fts.SQLITE_FORWARD[1:]:
            schema_editor.execute(sql)


def fill_title_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    from lifeline.knowledge import text

    Article = apps.get_model("knowledge", "Article")
    for pk, title in Article.objects.values_list("pk", "title").iterator():
        encoded = text.encode_all(text.document_tokens(title))
        Article.objects.filter(pk=pk).update(title_index=encoded)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_importjob'),
        ('knowledge', '0002_full_text_index'),
        ('registry', '0003_resource_first_subscribed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='title_index',
            field=models.TextField(default='', editable=False),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['library', 'updated_at'], name='knowledge_lib_updated'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['updated_at', 'index_length'], name='knowledge_updated_len'),
        ),
        migrations.RunPython(restore_fts_triggers, migrations.RunPython.noop),
        migrations.RunPython(fill_title_index, migrations.RunPython.noop),
    ]
