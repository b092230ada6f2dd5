from django.core.management.base import BaseCommand, CommandError

from peers import services
from peers.models import HostToken, UserToken

from ._common import cli_actor, get_host, get_user


class Command(BaseCommand):
    help = (
        "Create an API token for a host (its iaxadmin-agent) or a user (the JSON API), list tokens, or "
        "revoke one. The token is printed once: only its hash is stored."
    )

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--host", help="create a token for this host")
        what.add_argument("--user", help="create a token for this user (by username)")
        what.add_argument("--revoke", metavar="PREFIX", help="revoke the token with this prefix")
        what.add_argument("--list", action="store_true", help="list tokens (prefixes only)")
        parser.add_argument("--name", default="", help="a label for the new token")

    def handle(self, *args, **options):
        if options["list"]:
            return self._list()
        if options["revoke"]:
            row = services.revoke_token(options["revoke"], actor=cli_actor())
            if row is None:
                raise CommandError(f"no token with prefix {options['revoke']!r}")
            self.stdout.write(f"revoked {row.prefix} ({row.name})")
            return
        if options["host"]:
            row, token = services.create_host_token(
                get_host(options["host"]), options["name"], actor=cli_actor()
            )
            owner = f"host {row.host.name}"
        else:
            user = get_user(options["user"])
            row, token = services.create_user_token(user, options["name"], actor=cli_actor())
            owner = f"user {user.get_username()}"
        self.stderr.write(f"token {row.prefix} ({row.name}) for {owner}; it is shown only now:")
        self.stdout.write(token)

    def _list(self):
        rows = [("host", t.host.name, t) for t in HostToken.objects.select_related("host")]
        rows += [("user", t.user.get_username(), t) for t in UserToken.objects.select_related("user")]
        for kind, owner, t in rows:
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            self.stdout.write(f"{t.prefix}  {kind} {owner}  {t.name!r}  {state}  last used {used}")
