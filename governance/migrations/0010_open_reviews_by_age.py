"""An index of the open reviews by age, read by the dashboard and the sign-off queue."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("governance", "0009_languages_names_and_reason_codes")]

    operations = [
        migrations.AddIndex(
            model_name="gatereview",
            index=models.Index(
                condition=models.Q(("status", "open")), fields=["opened_at", "id"], name="open_reviews_by_age"
            ),
        ),
    ]
