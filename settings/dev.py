"""Development and the embedded default of ``make run``: SQLite and an embedded Redis under
``var/``, the shipped GeoLite2 database and a signing key generated on first run."""

from settings.base import *  # noqa: F403
from settings.base import env

DEBUG = env.bool("DEBUG", default=False)
