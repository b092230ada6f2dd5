import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from peers import services
from peers.demo import DEMO_HOST, seed_demo
from peers.models import Host

from ._common import cli_actor


class Command(BaseCommand):
    help = "Seed a demo host and an admin login into an empty database (does nothing otherwise)."

    def handle(self, *args, **options):
        users = get_user_model().objects
        if Host.objects.exists() or users.exists():
            self.stdout.write("Database already has data; not seeding the demo.")
            self.stdout.write(
                "Log in with your account (reset a password: python manage.py changepassword NAME)."
            )
            return
        seed_demo(actor=cli_actor(), dialplan=True)
        password = secrets.token_urlsafe(12)
        admin = get_user_model()(username="admin", is_staff=True, is_superuser=True)
        admin.set_password(password)
        services.save_user(admin, actor=cli_actor(), message="demo admin created")
        self.stdout.write(self.style.SUCCESS(f"Seeded host {DEMO_HOST!r}."))
        self.stdout.write(f"Log in at http://127.0.0.1:8000/ as admin / {password}")
        self.stdout.write("(shown once; change it with: python manage.py changepassword admin)")
