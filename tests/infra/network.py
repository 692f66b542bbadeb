"""Network helpers for the tests' servers: a self-signed TLS context, a non-loopback address.

Rules: test infrastructure; standard library plus ``cryptography`` (imported
only when a certificate is made).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["non_loopback_address", "self_signed_certificate", "self_signed_context", "self_signed_files"]


def self_signed_certificate(key: Any, common_name: str, days: int, extension: Any, *, critical: bool) -> Any:
    """A certificate for ``key`` signed by itself, valid from yesterday for ``days``, with one extension."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(extension, critical=critical)
        .sign(key, hashes.SHA256())
    )


def self_signed_files(directory: Path, host_name: str = "127.0.0.1", bind: str = "127.0.0.1") -> tuple[Path, Path]:
    """``cert.pem`` and ``key.pem`` in ``directory``: a fresh self-signed certificate for ``host_name``,
    localhost, 127.0.0.1 and ``bind``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for value in {host_name, bind} - {"localhost", "127.0.0.1"}:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(value)))
        except ValueError:
            alt.append(x509.DNSName(value))
    cert = self_signed_certificate(key, host_name, 30, x509.SubjectAlternativeName(alt), critical=False)
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def self_signed_context(host_name: str, bind: str) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for ``host_name``, 127.0.0.1 and ``bind``."""
    with tempfile.TemporaryDirectory() as tmp:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self_signed_files(Path(tmp), host_name, bind))
    return context


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else str(address)


def tls_handshakes(monkeypatch) -> list[str]:
    """The name of the thread of each TLS handshake started from now on (``SSLContext.wrap_socket``), in order."""
    import threading

    threads: list[str] = []
    wrap = ssl.SSLContext.wrap_socket

    def wrap_socket(self, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return wrap(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    return threads
