"""An index in the initiative list's order, so that a page is read from its top."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0006_running_figures")]

    operations = [
        migrations.AddIndex(
            model_name="initiative",
            index=models.Index(fields=["created_at", "id"], name="initiative_by_creation"),
        ),
    ]
