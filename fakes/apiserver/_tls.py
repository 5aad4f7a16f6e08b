"""A throwaway certificate authority and serving certificate for the loopback API server, from trustme.

kubectl (client-go) sends a bearer token only over TLS, so the sandbox speaks HTTPS like a real cluster; the
kubeconfig carries the CA, so clients verify the server instead of skipping verification.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True, slots=True)
class ServingCert:
    #: The CA clients trust (what a kubeconfig's `certificate-authority-data` holds).
    cert_pem: bytes
    #: The server's certificate chain and its private key.
    chain_pem: bytes
    key_pem: bytes

    def context(self, directory: Path) -> ssl.SSLContext:
        """A server-side SSL context; the key and certificate chain are written to `directory` (the key mode
        0600), and the CA beside them (`ca.crt`, for clients)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.crt").write_bytes(self.cert_pem)
        cert, key = directory / "apiserver.crt", directory / "apiserver.key"
        cert.write_bytes(self.chain_pem)
        key.touch(mode=0o600)
        key.write_bytes(self.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        return context


def self_signed(hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ServingCert:
    """A new CA, and a certificate it issued for `hosts` (IP addresses and names alike)."""
    authority = trustme.CA(organization_name="notifier-sim")
    leaf = authority.issue_cert(*hosts)
    return ServingCert(cert_pem=authority.cert_pem.bytes(),
                       chain_pem=b"".join(blob.bytes() for blob in leaf.cert_chain_pems),
                       key_pem=leaf.private_key_pem.bytes())
