from django.db import migrations


class Migration(migrations.Migration):
    """Joins the access-log branch (0001_initial) and the disclosure branch (0001_disclosures)."""

    dependencies = [("privacy", "0001_initial"), ("privacy", "0002_seed_recipients")]
    operations = []
