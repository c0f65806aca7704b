"""Catalogue and holdings imports moved onto `lifeline.core.jobs` (issue 12): the app's own job
table goes. Its rows were progress records of finished imports; the catalogues they made stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("selection", "0003_title_search")]

    operations = [migrations.DeleteModel(name="ImportJob")]
