"""The TLS contexts shared by the pools and the early handshakes (``recording/tls.py``).

The verified one must be what httpx itself would make (``httpx.create_ssl_context(verify=True)``,
the pools' context before the early handshakes): the same CAs, the same checks, the same CA
settings honoured, so that verifying on the preconnect thread changes nothing a user can see.
"""

from __future__ import annotations

import ssl

import httpx

from explorer.recording import tls
from tests.infra.network import self_signed_files


def _settings(context: ssl.SSLContext) -> tuple:
    return (context.verify_mode, context.check_hostname, context.options, context.minimum_version,
            context.maximum_version, context.verify_flags, context.protocol, context.cert_store_stats())


def test_the_verified_context_is_the_one_httpx_makes(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ours, theirs = tls.context(tls.VERIFIED), httpx.create_ssl_context(verify=True)
    assert len(ours.get_ca_certs()) > 50 and ours.get_ca_certs() == theirs.get_ca_certs()  # certifi's bundle
    assert _settings(ours) == _settings(theirs)
    assert tls.context(tls.VERIFIED) is ours  # one per process: what the early handshake used is the pool's


def test_ssl_cert_file_and_dir_are_honoured_as_httpx_honours_them(monkeypatch, tmp_path):
    cert, _ = self_signed_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    ours, theirs = tls.context(tls.VERIFIED), httpx.create_ssl_context(verify=True)
    assert ours.cert_store_stats()["x509"] == 1  # that certificate alone (a leaf: no CA of certifi's)
    assert _settings(ours) == _settings(theirs)
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # then the directory, as httpx
    by_directory = tls.context(tls.VERIFIED)
    assert by_directory is not ours and _settings(by_directory) == _settings(httpx.create_ssl_context(verify=True))
    monkeypatch.delenv("SSL_CERT_DIR")
    assert len(tls.context(tls.VERIFIED).get_ca_certs()) > 50  # and else certifi's bundle


def test_the_probe_context_verifies_against_no_ca_at_all():
    probe = tls.context(tls.PROBE)
    assert probe.get_ca_certs() == [] and probe.cert_store_stats()["x509_ca"] == 0
    assert probe.verify_mode == ssl.CERT_REQUIRED and probe.check_hostname  # a TLS server fails it, always
