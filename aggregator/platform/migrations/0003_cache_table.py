"""The database cache's table (settings.CACHES without Redis): throttle counters shared by
every process. `createcachetable` is idempotent and does nothing for other backends."""

from django.core.management import call_command
from django.db import migrations


def create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("aggregator", "0002_keyed_chain")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
