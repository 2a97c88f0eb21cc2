from django.db import migrations


def install(apps, schema_editor):
    from governance.ledger.guards import install_guards

    install_guards(schema_editor.connection)


def remove(apps, schema_editor):
    from governance.ledger.guards import remove_guards

    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_default_policies")]

    operations = [migrations.RunPython(install, remove)]
