from django.db import migrations

# The clinic's actual third parties (policy §5). Managers edit this registry in admin.
RECIPIENTS = [
    ("twilio", "Twilio (SMS)", "sms_provider", "Twilio Messaging Service"),
    ("stripe", "Stripe (payments)", "payment_processor", "Stripe Services Agreement"),
    ("hosting", "Hosting provider", "hosting", ""),
    ("emr", "Electronic medical record system", "emr", ""),
    ("support", "Customer-support tool", "customer_support", ""),
    ("email", "Email delivery provider", "email_provider", ""),
    ("patient", "The patient (or guardian)", "patient", ""),
]


def seed(apps, schema_editor):
    Recipient = apps.get_model("privacy", "Recipient")
    for key, name, kind, agreement in RECIPIENTS:
        Recipient.objects.get_or_create(key=key, defaults={"name": name, "kind": kind, "agreement": agreement})


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_disclosures")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
