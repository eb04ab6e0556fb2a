"""TLS without a proxy: the server's ``ssl.SSLContext``, built once from PEM files.

Every problem with the files or options (a file that cannot be read, a key that does not match
its certificate, an encrypted key, a cipher string OpenSSL cannot use) is one
:class:`TLSSetupError` naming the argument and the file, raised before anything listens.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from typing import NoReturn

__all__ = ["TLSSetupError", "make_ssl_context", "server_ssl_context"]

#: How an argument is named in messages: ``str`` for Python, ``--flag`` on the command line.
Naming = Callable[[str], str]
PathLike = str | os.PathLike[str]


class TLSSetupError(ValueError):
    """A certificate, key, cipher string or CA file cannot be used; the message says which."""


def make_ssl_context(
    certfile: PathLike,
    keyfile: PathLike | None = None,
    *,
    ssl_ciphers: str | None = None,
    ca_certs: PathLike | None = None,
    naming: Naming = str,
) -> ssl.SSLContext:
    """A server-side context with Python's secure defaults (TLS 1.2 or later).

    ``certfile`` holds the certificate chain in PEM, and the private key unless ``keyfile`` is
    given. ``ssl_ciphers`` restricts the TLS 1.2 cipher suites (an OpenSSL cipher string; TLS
    1.3 suites are not affected). With ``ca_certs``, clients must present a certificate signed
    by one of those authorities (mutual TLS).
    """
    certificate = _read(certfile, "certfile", naming)
    if b"-----BEGIN CERTIFICATE-----" not in certificate:
        raise TLSSetupError(f"{naming('certfile')} {certfile}: no PEM certificate in it")
    key_holder, key_argument = (certfile, "certfile") if keyfile is None else (keyfile, "keyfile")
    key_pem = certificate if keyfile is None else _read(keyfile, "keyfile", naming)
    if b"PRIVATE KEY-----" not in key_pem:
        hint = f"; give {naming('keyfile')}" if keyfile is None else ""
        raise TLSSetupError(f"{naming(key_argument)} {key_holder}: no PEM private key in it{hint}")

    def no_password() -> NoReturn:
        # Without a callback OpenSSL would ask for the passphrase on the terminal.
        raise TLSSetupError(
            f"{naming(key_argument)} {key_holder}: the private key is encrypted; "
            "give an unencrypted key"
        )

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile, password=no_password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TLSSetupError(
                f"{naming(key_argument)} {key_holder}: the private key does not match the "
                f"certificate in {naming('certfile')} {certfile}"
            ) from None
        raise TLSSetupError(
            f"{naming('certfile')} {certfile}: cannot use the certificate with the key in "
            f"{key_holder}: {exc.reason or exc}"
        ) from None
    if ssl_ciphers is not None:
        try:
            context.set_ciphers(ssl_ciphers)
        except ssl.SSLError:
            raise TLSSetupError(
                f"{naming('ssl_ciphers')} {ssl_ciphers!r}: OpenSSL selects no cipher from it"
            ) from None
    if ca_certs is not None:
        if b"-----BEGIN CERTIFICATE-----" not in _read(ca_certs, "ca_certs", naming):
            raise TLSSetupError(f"{naming('ca_certs')} {ca_certs}: no PEM certificate in it")
        try:
            context.load_verify_locations(cafile=ca_certs)
        except ssl.SSLError as exc:
            raise TLSSetupError(f"{naming('ca_certs')} {ca_certs}: {exc.reason or exc}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def server_ssl_context(
    ssl_context: ssl.SSLContext | None,
    certfile: PathLike | None,
    keyfile: PathLike | None = None,
    ssl_ciphers: str | None = None,
    ca_certs: PathLike | None = None,
) -> ssl.SSLContext | None:
    """The context a server listens with: ``ssl_context`` as given, one made from ``certfile``
    and the other files, or None (plain HTTP). Giving both kinds is a ``ValueError``."""
    files = {"keyfile": keyfile, "ssl_ciphers": ssl_ciphers, "ca_certs": ca_certs}
    if ssl_context is not None:
        given = [name for name, value in {"certfile": certfile, **files}.items() if value]
        if given:
            raise ValueError(f"give ssl_context or {', '.join(given)}, not both")
        return ssl_context
    if certfile is None:
        given = [name for name, value in files.items() if value]
        if given:
            raise TLSSetupError(f"{given[0]} needs certfile (the server's certificate)")
        return None
    return make_ssl_context(certfile, keyfile, ssl_ciphers=ssl_ciphers, ca_certs=ca_certs)


def _read(path: PathLike, argument: str, naming: Naming) -> bytes:
    """The bytes of a PEM file, or a TLSSetupError naming the argument and the reason."""
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise TLSSetupError(f"{naming(argument)} {path}: {reason}") from None
