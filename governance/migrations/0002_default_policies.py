from django.db import migrations


def load_default_policies(apps, schema_editor):
    from governance.reviews.default_policies import install_default_policies

    install_default_policies(apps.get_model("governance", "GatePolicy"))


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [migrations.RunPython(load_default_policies, migrations.RunPython.noop)]
