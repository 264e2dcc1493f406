"""The Redis clients of the service: one for the request hot path and one for everything else.

Short timeouts: the gate fails closed rather than waiting on a dead server, so a timeout is
an answer (``DEGRADED_FAIL_CLOSED``), not a hang. Keys that must live in one
Redis Cluster slot for an atomic Lua step are hash-tagged: everything of one account shares
``{acct:<bucket>}``, everything of one instrument ``{inst:<symbol>}``.

``REDIS_MODE`` chooses how the clients reach Redis (README, "Scaling out"):

* ``standalone`` (default): ``REDIS_URL`` names the server (the embedded one of ``make run``).
* ``cluster``: ``REDIS_URL`` names any node of a Redis Cluster; the client is redis-py's
  ``RedisCluster``, which routes each command by its key's slot and sends a pipeline's
  commands to every node it touches before reading any answer, so a batch costs one round
  trip per node in parallel, not one per slot in sequence.
* ``sentinel``: ``REDIS_SENTINELS`` (``host:port,...``) and ``REDIS_SENTINEL_MASTER`` name
  the Sentinels and the master they watch; the client asks them for the primary and follows
  it through a failover. ``REDIS_URL`` may still carry the password and database number.
"""

from __future__ import annotations

import os
import select
import threading
import weakref
import zlib
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry
from redis.sentinel import Sentinel

try:
    from hiredis import pack_command as _pack_command
except ImportError:  # hiredis is in requirements.txt; redis-py packs without it
    _pack_command = None

STANDALONE, CLUSTER, SENTINEL = "standalone", "cluster", "sentinel"
MODES = (STANDALONE, CLUSTER, SENTINEL)

REDIS_ERRORS = (redis.RedisError, RedisClusterException)
"""What a Redis that cannot answer raises: redis-py's errors, and on a cluster also its
``RedisClusterException`` (no reachable node, a slot no node covers), which is not one."""

_lock = threading.Lock()
_clients: dict[tuple, redis.Redis] = {}


def mode() -> str:
    chosen = settings.REDIS_MODE
    if chosen not in MODES:
        raise ImproperlyConfigured(f"REDIS_MODE must be one of {', '.join(MODES)}, not {chosen!r}")
    return chosen


def sentinel_addresses(text: str) -> list[tuple[str, int]]:
    """``host:port,host:port`` as (host, port) pairs; refuses anything else."""
    found = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"REDIS_SENTINELS: {part!r} is not host:port")
        found.append((host, int(port)))
    if not found:
        raise ImproperlyConfigured("REDIS_MODE=sentinel needs REDIS_SENTINELS=host:port,...")
    return found


def _options(hot: bool) -> dict:
    timeout = settings.REDIS_HOT_TIMEOUT if hot else settings.REDIS_SOCKET_TIMEOUT
    options = {
        "socket_timeout": timeout,
        "socket_connect_timeout": min(timeout, settings.REDIS_CONNECT_TIMEOUT),
        "health_check_interval": 30,
        "retry_on_timeout": False,
    }
    if hot:
        # No silent resend on the hot path (redis-py retries three times by default): a step
        # whose reply was lost is answered DEGRADED_FAIL_CLOSED and voided later
        # (risk/pretrade/in_doubt.py); a resend would answer from its record instead and
        # take away the void's right to release it.
        options["retry"] = Retry(NoBackoff(), 0)
    return options


def _build(chosen: str, hot: bool):
    options = _options(hot)
    if chosen == CLUSTER:
        # No retries on the hot path: a node that does not answer within the timeout is a
        # fail-closed answer; the next command finds the refreshed slot table.
        options["retry"] = Retry(NoBackoff(), 0 if hot else 2)
        try:
            return RedisCluster.from_url(settings.REDIS_URL, **options)
        except RedisClusterException as exc:  # no node answered: the same as a refused connection
            raise redis.ConnectionError(f"Redis Cluster at {settings.REDIS_URL}: {exc}") from exc
    if chosen == SENTINEL:
        url = urlsplit(settings.REDIS_URL or "redis://")
        database = int(url.path.strip("/") or 0)
        sentinel = Sentinel(
            sentinel_addresses(settings.REDIS_SENTINELS),
            sentinel_kwargs={
                "socket_timeout": options["socket_timeout"],
                "socket_connect_timeout": options["socket_connect_timeout"],
            },
            **options,
        )
        return sentinel.master_for(
            settings.REDIS_SENTINEL_MASTER,
            db=database,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
        )
    return redis.Redis.from_url(settings.REDIS_URL, **options)


def _client_for(hot: bool):
    chosen = mode()
    key = (chosen, settings.REDIS_URL, settings.REDIS_SENTINELS, hot)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _build(chosen, hot)
    return client


def get_redis() -> redis.Redis:
    """The client for workers, commands and officer actions (``REDIS_SOCKET_TIMEOUT``)."""
    return _client_for(hot=False)


def get_hot_redis() -> redis.Redis:
    """The client of the request hot path (access and pre-trade checks): its short timeout
    (``REDIS_HOT_TIMEOUT``, 50 ms) bounds how long a check waits before failing closed."""
    return _client_for(hot=True)


def add_wait(pipe, client, keys, replicas: int, timeout_ms: int) -> int:
    """Append ``WAIT replicas timeout_ms`` to ``pipe`` after the writes to ``keys``: one for
    the primary of a standalone or Sentinel-watched Redis, one per primary the keys live on
    in a cluster (each on the connection that carried that node's writes). Returns how many
    replies it added (each is how many replicas confirmed)."""
    if not replicas:
        return 0
    if is_cluster(client):
        nodes = {}
        for key in keys:
            node = client.get_node_from_key(key)
            nodes[node.name] = node
        for node in nodes.values():
            pipe.execute_command("WAIT", replicas, timeout_ms, target_nodes=node)
        return len(nodes)
    pipe.execute_command("WAIT", replicas, timeout_ms)
    return 1


def routing(pipe, keys) -> dict:
    """How to queue a Lua step on ``pipe``: on a cluster pipeline, the node of its first key
    (all its keys share one slot). Without it redis-py asks the server ``COMMAND GETKEYS``
    for every EVALSHA (movable keys), one round trip per step: measured 64.8 ms against
    3.6 ms for a pipeline of 300 steps."""
    if isinstance(pipe, ClusterPipeline) and keys:
        return {"target_nodes": pipe.get_node_from_key(keys[0])}
    return {}


class LeanPipeline:
    """A non-transactional pipeline for a standalone or Sentinel-watched Redis without
    redis-py's ``Pipeline`` machinery (its command stack, per-command response callbacks and
    options, reset and watch state): the commands are packed into one write on one pooled
    connection and the replies read in order, raw (no callbacks: the hot path queues only
    EVALSHA, GET and WAIT, whose replies need none). As redis-py's: an error reply is raised
    after every reply was read; a connection error drops the connection and is retried as
    the client's ``Retry`` says (never on the hot client). Measured in ``bench_pretrade``."""

    __slots__ = ("client", "commands")

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.commands: list[tuple] = []

    def execute_command(self, *args, **options) -> None:
        self.commands.append(args)

    def get(self, key) -> None:
        self.commands.append(("GET", key))

    def execute(self) -> list:
        if not self.commands:
            return []
        pool = self.client.connection_pool
        owned = type(pool) is redis.ConnectionPool
        conn = _own_connection(pool) if owned else pool.get_connection()
        if owned and _closed_while_idle(conn):
            conn.disconnect()  # nothing was sent on it: connecting afresh is safe
        try:
            replies = conn.retry.call_with_retry(
                lambda: self._send(conn), lambda _error: conn.disconnect()
            )
        except BaseException:
            conn.disconnect()  # never left half-read: the next use connects afresh
            raise
        finally:
            if not owned:
                pool.release(conn)
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise reply
        return replies

    def _send(self, conn) -> list:
        conn.send_packed_command(_packed(conn, self.commands))
        replies = []
        for _ in self.commands:
            try:
                replies.append(conn.read_response())
            except redis.ResponseError as error:  # the connection is still in step
                replies.append(error)
        return replies


_owned = threading.local()


def _own_connection(pool):
    """This thread's own connection to ``pool``'s server, made by the pool once per thread
    and process and kept: taking one from the pool and giving it back costs more than the
    rest of a pipeline's Python (redis-py 8 records both for its observability hooks and
    checks the socket for stray data). It connects on first use and after any error. Only
    for a plain ``ConnectionPool``: a Sentinel pool hands out connections it has pointed at
    the current primary, so those are taken and given back each time."""
    owned = getattr(_owned, "connections", None)
    if owned is None:
        owned = _owned.connections = weakref.WeakKeyDictionary()
    pid, conn = owned.get(pool, (None, None))
    if pid != os.getpid():
        conn = pool.make_connection()
        owned[pool] = (os.getpid(), conn)
    return conn


def _closed_while_idle(conn) -> bool:
    """Whether a kept connection can be read before anything was sent on it: the server
    closed it (a restart, a timeout, CLIENT KILL) or sent something unasked. Either way it
    must not carry the next pipeline: a step sent on it would be answered by a reset, and
    nobody could tell whether the server had applied it. ``select`` with no wait, about a
    microsecond."""
    sock = conn._sock
    return sock is not None and bool(select.select([sock], [], [], 0)[0])


def _packed(conn, commands: list[tuple]):
    """The commands in the Redis protocol: straight from hiredis where it is installed (the
    commands here are str, bytes and int only; redis-py's packer re-examines every argument
    first, ~5 µs per command), else redis-py's own."""
    if _pack_command is None:
        return conn.pack_commands(commands)
    try:
        return [b"".join([_pack_command(command) for command in commands])]
    except TypeError:  # an argument hiredis does not take: redis-py says which
        return conn.pack_commands(commands)


def lean_pipeline(client):
    """A non-transactional pipeline: ``LeanPipeline`` but on a cluster, whose pipeline
    routes each command to its slot's node."""
    if isinstance(client, RedisCluster):
        return client.pipeline(transaction=False)
    return LeanPipeline(client)


def is_pipeline(client) -> bool:
    return isinstance(client, LeanPipeline | redis.client.Pipeline | ClusterPipeline)


def is_cluster(client) -> bool:
    return isinstance(client, RedisCluster)


ACCOUNT_BUCKETS = 256


@lru_cache(maxsize=65_536)
def account_bucket(account_id: str) -> int:
    """Accounts are spread over a fixed number of buckets by CRC-32 of their id (remembered:
    the hot path asks for the same few accounts' buckets several times per order)."""
    return zlib.crc32(account_id.encode()) % ACCOUNT_BUCKETS


def account_tag(account_id: str) -> str:
    """The hash tag that pins all of one account's keys to one cluster slot.

    The tag names the account's *bucket*, not the account: an account's keys and its
    bucket's decision stream then share a slot, so one Lua step can reserve and record
    atomically, and a drain reads 256 streams rather than one per account.
    """
    return "{acct:" + str(account_bucket(account_id)) + "}"


def bucket_key(bucket: int, suffix: str) -> str:
    return "gh:{acct:" + str(bucket) + "}:" + suffix


def account_key(account_id: str, suffix: str) -> str:
    return f"gh:{account_tag(account_id)}:{account_id}:{suffix}"


def instrument_key(symbol: str, suffix: str) -> str:
    return "gh:{inst:" + symbol + "}:" + suffix


def global_key(suffix: str) -> str:
    return f"gh:global:{suffix}"


def probe() -> str:
    """Raise, naming the node, if Redis does not answer a PING within the socket timeout:
    every primary of a cluster, the primary the Sentinels name. Returns what answered."""
    chosen = mode()
    client = get_redis()
    if chosen == CLUSTER:
        primaries = client.get_primaries()
        for node in primaries:
            try:
                client.ping(target_nodes=node)
            except redis.RedisError as exc:
                raise redis.ConnectionError(f"cluster node {node.name}: {exc}") from exc
        return f"cluster of {len(primaries)} primaries"
    if chosen == SENTINEL:
        pool = client.connection_pool
        try:
            host, port = pool.get_master_address()
        except redis.RedisError as exc:
            raise redis.ConnectionError(
                f"no primary for {settings.REDIS_SENTINEL_MASTER} from {settings.REDIS_SENTINELS}:"
                f" {exc}"
            ) from exc
        try:
            client.ping()
        except redis.RedisError as exc:
            raise redis.ConnectionError(f"primary {host}:{port}: {exc}") from exc
        return f"sentinel primary {host}:{port}"
    if not client.ping():
        raise redis.ConnectionError("PING did not answer PONG")
    return "standalone"
