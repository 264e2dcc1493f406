"""REDIS_MODE over real servers (issue 16): a three-primary Redis Cluster and a primary with
a replica watched by three Sentinels, each started here from the real binaries. The
clients, the readiness probe naming the mode and the node that failed, WAIT against a real
replica, a client that follows a Sentinel failover, and the settings that refuse to start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.test import override_settings

from core import redis_client
from core.redis_client import account_key, instrument_key
from scripts import redis_topology

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.django_db, pytest.mark.once]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    topology = redis_topology.start_cluster(tmp_path_factory.mktemp("cluster"))
    yield topology
    topology.stop()


@pytest.fixture
def sentinels(tmp_path):
    topology = redis_topology.start_sentinels(tmp_path, replicas=1)
    yield topology
    topology.stop()


def cluster_settings(topology):
    return override_settings(REDIS_MODE="cluster", REDIS_URL=topology.url(topology.names[0]))


def sentinel_settings(topology):
    return override_settings(
        REDIS_MODE="sentinel",
        REDIS_SENTINELS=redis_topology.sentinel_list(topology),
        REDIS_SENTINEL_MASTER="gatehouse",
        REDIS_URL="redis:///0",
    )


def test_the_cluster_client_spreads_accounts_and_instruments_over_every_node(cluster):
    with cluster_settings(cluster):
        client = redis_client.get_redis()
        assert redis_client.is_cluster(client)
        client.flushall()
        pipe = client.pipeline(transaction=False)
        for n in range(300):
            pipe.hset(account_key(f"acc-{n}", "risk"), "collateral", n)
        for symbol in ("AAPL-PERP", "TSLA-PERP", "BTC-PERP", "ETH-PERP", "NVDA-PERP"):
            pipe.hset(instrument_key(symbol, "market"), "state", "open")
        pipe.execute()
        counts = cluster.key_counts()
        assert sum(counts.values()) == 305
        assert all(count > 40 for count in counts.values()), counts
        client.flushall()


def test_an_atomic_step_with_keys_of_two_slots_is_refused_by_the_cluster(cluster):
    """Why every step's keys share one tag: the cluster refuses anything else."""
    with cluster_settings(cluster):
        client = redis_client.get_redis()
        with pytest.raises(redis_client.REDIS_ERRORS, match="same key slot"):
            client.eval("return 1", 2, account_key("a", "risk"), instrument_key("X", "oi"))


def test_readiness_names_the_cluster_and_the_node_that_died(client, tmp_path):
    topology = redis_topology.start_cluster(tmp_path)
    try:
        with cluster_settings(topology):
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.content
            assert ready.json()["redis"] == {
                "mode": "cluster",
                "answered": "cluster of 3 primaries",
            }
            topology.kill("node1")
            down = client.get("/readyz")
        assert down.status_code == 503
        assert f"127.0.0.1:{topology.ports['node1']}" in down.json()["checks"]["redis"]
        assert down.json()["redis"]["mode"] == "cluster"
    finally:
        topology.stop()


def test_wait_counts_a_real_replica(sentinels):
    primary = redis.Redis(port=sentinels.ports["primary"])
    pipe = primary.pipeline(transaction=False)
    pipe.set("k", "v")
    assert redis_client.add_wait(pipe, primary, ["k"], 1, 1000) == 1
    assert pipe.execute()[-1] == 1
    assert redis.Redis(port=sentinels.ports["replica0"]).get("k") == b"v"


def test_the_sentinel_client_follows_the_primary_through_a_failover(client, sentinels):
    with sentinel_settings(sentinels):
        redis_client._clients.clear()
        ready = client.get("/readyz").json()
        primary = sentinels.ports["primary"]
        assert ready["redis"]["answered"] == f"sentinel primary 127.0.0.1:{primary}"
        writer = redis_client.get_redis()
        writer.set("before", "1")
        assert writer.execute_command("WAIT", 1, 1000) == 1
        sentinels.kill("primary")
        started, answered = time.monotonic(), None
        while time.monotonic() - started < 30:
            try:
                writer.set("after", "1")
                answered = time.monotonic() - started
                break
            except redis.RedisError:
                time.sleep(0.1)
        assert answered is not None, "no primary was promoted within 30 s"
        assert writer.get("before") == b"1"  # confirmed by WAIT: kept through the failover
        promoted = client.get("/readyz").json()["redis"]["answered"]
        assert promoted == f"sentinel primary 127.0.0.1:{sentinels.ports['replica0']}"
        redis_client._clients.clear()


def test_readiness_says_when_no_sentinel_answers(client, tmp_path):
    with override_settings(
        REDIS_MODE="sentinel", REDIS_SENTINELS="127.0.0.1:1", REDIS_SENTINEL_MASTER="gatehouse"
    ):
        redis_client._clients.clear()
        down = client.get("/readyz")
        redis_client._clients.clear()
    assert down.status_code == 503
    assert "no primary for gatehouse from 127.0.0.1:1" in down.json()["checks"]["redis"]


def _manage_check(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "settings.dev", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cluster_mode_without_a_broker_refuses_to_start():
    result = _manage_check(REDIS_MODE="cluster", REDIS_URL="redis://127.0.0.1:7000/0")
    assert result.returncode != 0
    assert "REDIS_MODE=cluster: set CELERY_BROKER_URL" in result.stderr


def test_an_unknown_mode_is_refused_by_name():
    with override_settings(REDIS_MODE="replicated"):
        with pytest.raises(Exception, match="REDIS_MODE must be one of"):
            redis_client.get_redis()


def test_sentinel_mode_points_celery_at_the_same_sentinels():
    from settings.base import celery_broker

    url, options = celery_broker("redis:///3", "sentinel", "10.0.0.1:26379,10.0.0.2:26379", "gh")
    assert url == "sentinel://10.0.0.1:26379/3;sentinel://10.0.0.2:26379/3"
    assert options["master_name"] == "gh"
    with pytest.raises(Exception, match="REDIS_SENTINELS"):
        celery_broker("redis:///0", "sentinel", "", "gh")
    assert celery_broker("redis://h:1/0", "standalone", "", "gh")[0] == "redis://h:1/0"


def test_bad_sentinel_addresses_are_refused():
    with pytest.raises(Exception, match="not host:port"):
        redis_client.sentinel_addresses("10.0.0.1")


def test_celery_messages_go_through_the_sentinels_broker(sentinels):
    """The broker settings of sentinel mode carry a message through the real Sentinels."""
    from kombu import Connection

    from settings.base import celery_broker

    url, options = celery_broker(
        "redis:///5", "sentinel", redis_topology.sentinel_list(sentinels), "gatehouse"
    )
    with Connection(url, transport_options=options) as connection:
        queue = connection.SimpleQueue("gatehouse-test")
        queue.put({"hello": "sentinel"})
        message = queue.get(timeout=10)
        assert message.payload == {"hello": "sentinel"}
        message.ack()
        queue.close()
    primary = redis.Redis(port=sentinels.ports["primary"], db=5)
    assert primary.exists("gatehouse-test") == 0  # consumed from the primary's database 5


def test_wait_on_a_cluster_with_replicas_asks_each_written_primary(tmp_path):
    """REDIS_MIN_REPLICAS on a cluster: one WAIT per primary the pipeline wrote to, each on
    the connection that carried that node's writes, each confirmed by its own replica."""
    topology = redis_topology.start_cluster(tmp_path, primaries=3, replicas=1)
    try:
        with cluster_settings(topology):
            client = redis_client.get_redis()
            replicas = [
                port
                for port in topology.ports.values()
                if redis.Redis(port=port).info("replication")["role"] == "slave"
            ]
            assert len(client.get_primaries()) == 3 and len(replicas) == 3
            for primary in client.get_primaries():
                node = redis.Redis(port=primary.port, socket_timeout=0.5)
                redis_topology._wait_for(
                    lambda node=node: redis_topology._replicas_online(node) >= 1,
                    f"the replica of {primary.name} did not sync",
                )
            keys = [account_key(f"acc-{n}", "risk") for n in range(60)]
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hset(key, "collateral", 1)
            added = redis_client.add_wait(pipe, client, keys, 1, 2000)
            replies = pipe.execute()
            assert added == 3 and replies[len(keys) :] == [1, 1, 1]
            replicated = sum(redis.Redis(port=port).dbsize() for port in replicas)
            assert replicated == len(keys)
    finally:
        topology.stop()


def test_a_cluster_pipeline_of_lua_steps_asks_the_server_nothing_about_their_keys(cluster):
    """Without explicit routing, redis-py sent ``COMMAND GETKEYS`` to the server before
    every EVALSHA of a cluster pipeline (one round trip per step: a batch of 100 checks
    took 4.3× the standalone time in the bench)."""
    from core.policy import policy_key
    from core.scripts import run_pipeline
    from risk.pretrade import steps

    def getkeys_calls() -> int:
        total = 0
        for port in cluster.ports.values():
            stats = redis.Redis(port=port).info("commandstats")
            total += stats.get("cmdstat_command|getkeys", {}).get("calls", 0)
        return total

    with cluster_settings(cluster):
        client = redis_client.get_redis()
        release = steps.script("release_open_interest")
        before = getkeys_calls()

        def build(pipe):
            for n in range(50):
                release(keys=steps.open_interest_keys(f"S{n}"), args=[f"r{n}", -1, 0], client=pipe)
                pipe.hget(policy_key(n), "r")

        replies = run_pipeline(client, build)
        assert len(replies) == 100
        assert getkeys_calls() == before
