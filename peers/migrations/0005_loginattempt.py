# Written by hand: the LoginAttempt table of the login rate limiting (peers/models_security.py).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("peers", "0004_encrypt_secrets"),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("username", models.CharField(help_text="As typed, lower-cased.", max_length=150)),
                (
                    "address",
                    models.CharField(blank=True, help_text="REMOTE_ADDR of the request.", max_length=64),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("succeeded", models.BooleanField(default=False)),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["username", "address", "at"], name="peers_login_user_addr_at"),
                    models.Index(fields=["at"], name="peers_login_at"),
                ],
            },
        ),
    ]
