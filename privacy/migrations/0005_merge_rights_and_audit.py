from django.db import migrations


class Migration(migrations.Migration):
    """Joins the rights/retention/policy-version branch and the access-log branch."""

    dependencies = [("privacy", "0004_no_truncate_allows_test_flush"), ("privacy", "0004_seed_retention_and_policy_v1")]
    operations = []
