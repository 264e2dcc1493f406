import pytest
from django.conf import settings

from tests.api import live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = live.start(tmp_path_factory.mktemp("live"), live.own_redis(settings.REDIS_URL))
    yield instance
    live.stop(instance)


@pytest.fixture(scope="module")
def operator_key(server):
    output = server.manage(
        "create_api_key",
        "black-box",
        "--scopes",
        "pretrade,marketdata,reference,custody,reports,operator",
    )
    return output.strip().splitlines()[-1]
