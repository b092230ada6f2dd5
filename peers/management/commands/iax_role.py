from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from peers import services
from peers.security import roles

from ._common import cli_actor, get_user


class Command(BaseCommand):
    help = (
        "Give a user a role of the web UI (viewer < editor < publisher < admin, each including the ones "
        "below it; it replaces the user's previous role), take it away with --role none, or list roles."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username")
        parser.add_argument("--role", choices=[*roles.ROLES, "none"], help="the role to give")
        parser.add_argument("--list", action="store_true", help="list users and their roles")

    def handle(self, *args, **options):
        roles.ensure_groups()
        if options["list"]:
            for user in get_user_model().objects.order_by("username").prefetch_related("groups"):
                role = roles.role_of(user) or "-"
                note = " (superuser)" if user.is_superuser else ""
                note += " (inactive)" if not user.is_active else ""
                self.stdout.write(f"{user.get_username()}  {role}{note}")
            return
        if not options["user"] or not options["role"]:
            raise CommandError("give --user and --role, or --list")
        user = get_user(options["user"])
        role = None if options["role"] == "none" else options["role"]
        services.set_role(user, role, actor=cli_actor())
        if user.is_superuser:
            self.stderr.write(f"{user.get_username()} is a superuser: an admin whatever the role groups say")
        self.stdout.write(f"{user.get_username()}: {roles.role_of(user) or 'no role'}")
