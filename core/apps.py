from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Common infrastructure every part stands on: errors, API keys, the audit chain,
    signing, the Redis client, the clock and health probes."""

    name = "core"
    verbose_name = "Gatehouse core"

    def ready(self) -> None:
        from core import schema  # noqa: F401  (registers the OpenAPI auth extension)
