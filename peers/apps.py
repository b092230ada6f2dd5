from django.apps import AppConfig


class PeersConfig(AppConfig):
    name = "peers"
    verbose_name = "IAX2 configuration"

    def ready(self) -> None:
        from iaxadmin import startup  # noqa: F401  registers the deploy check of production settings
