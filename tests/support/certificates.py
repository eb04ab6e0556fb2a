"""TLS certificates for tests, made by ``trustme`` for each test: a certificate authority, a
server certificate for 127.0.0.1 and localhost with its key, and a client certificate."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class Certificates:
    """PEM files in a directory, and client contexts trusting their authority."""

    ca: trustme.CA
    ca_file: Path  # the authority's certificate
    certfile: Path  # the server's certificate chain
    keyfile: Path  # its private key
    combined: Path  # key and chain in one file
    other_key: Path  # the key of another certificate: it does not match certfile
    encrypted_key: Path  # certfile's key, encrypted with a passphrase
    client: trustme.LeafCert  # a client certificate signed by the same authority

    def client_context(self, *, with_certificate: bool = False) -> ssl.SSLContext:
        """A client context trusting the authority, presenting the client certificate if asked."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        if with_certificate:
            self.client.configure_cert(context)
        return context


def make_certificates(directory: Path) -> Certificates:
    """Write a fresh authority, server certificate and keys into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    paths = {
        name: directory / f"{name}.pem"
        for name in ("ca", "cert", "key", "combined", "other-key", "encrypted-key")
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    for blob in server.cert_chain_pems:
        blob.write_to_path(str(paths["cert"]), append=True)
    server.private_key_pem.write_to_path(str(paths["key"]))
    server.private_key_and_cert_chain_pem.write_to_path(str(paths["combined"]))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(paths["other-key"]))
    key = serialization.load_pem_private_key(server.private_key_pem.bytes(), password=None)
    paths["encrypted-key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    return Certificates(
        ca=ca,
        ca_file=paths["ca"],
        certfile=paths["cert"],
        keyfile=paths["key"],
        combined=paths["combined"],
        other_key=paths["other-key"],
        encrypted_key=paths["encrypted-key"],
        client=ca.issue_cert("client@example.com"),
    )
