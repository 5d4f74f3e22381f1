"""A Docker Engine behind mutual TLS, for the tests of inline Swarm TLS material: the machine has
no Engine listening on tcp with TLS, so this makes one in front of the real local socket.

- `make_pki(folder)`: a CA, a server certificate for 127.0.0.1 (IP SAN) and a client
  certificate, all signed by that CA, and a second, unrelated CA (the "wrong CA" case); PEM
  text and files (mode 600).
- `TlsForwarder(pki)`: a TLS server on a free 127.0.0.1 port that requires a client
  certificate signed by the CA and forwards every accepted connection, byte for byte, to
  /var/run/docker.sock. It counts accepted and refused handshakes, so a test can tell that the
  plugin really talked TLS through it.
"""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DOCKER_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class Pki:
    folder: Path
    ca_pem: str = field(repr=False)
    server_cert_pem: str = field(repr=False)
    server_key_pem: str = field(repr=False)
    client_cert_pem: str = field(repr=False)
    client_key_pem: str = field(repr=False)
    wrong_ca_pem: str = field(repr=False)

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def bodies(self) -> list[str]:
        """The base64 lines of every PEM the plugin is given (what must never show up)."""
        lines: list[str] = []
        for pem in (self.ca_pem, self.client_cert_pem, self.client_key_pem, self.wrong_ca_pem):
            lines += [line for line in pem.splitlines() if line and not line.startswith("-----")]
        return lines


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _builder(subject: str, issuer: x509.Name,
             key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)))


def _ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    cert = (_builder(common_name, _name(common_name), key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(common_name: str, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
          usage: x509.ObjectIdentifier, ip: str | None = None) -> tuple[str, str]:
    key = _key()
    builder = (_builder(common_name, ca_cert.subject, key)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    return _cert_pem(builder.sign(ca_key, hashes.SHA256())), _key_pem(key)


def make_pki(folder: Path) -> Pki:
    """Certificates for a TLS Engine on 127.0.0.1, written (mode 600) under `folder` as ca.pem,
    server-cert.pem, server-key.pem, client-cert.pem, client-key.pem and wrong-ca.pem."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("vnf-test-swarm-ca")
    server_cert, server_key = _leaf("127.0.0.1", ca_key, ca_cert, ExtendedKeyUsageOID.SERVER_AUTH,
                                    ip="127.0.0.1")
    client_cert, client_key = _leaf("vnf-test-client", ca_key, ca_cert,
                                    ExtendedKeyUsageOID.CLIENT_AUTH)
    _wrong_key, wrong_ca = _ca("vnf-test-unrelated-ca")
    pki = Pki(folder, _cert_pem(ca_cert), server_cert, server_key, client_cert, client_key,
              _cert_pem(wrong_ca))
    for name, text in (("ca.pem", pki.ca_pem), ("server-cert.pem", server_cert),
                       ("server-key.pem", server_key), ("client-cert.pem", client_cert),
                       ("client-key.pem", client_key), ("wrong-ca.pem", pki.wrong_ca_pem)):
        path = folder / name
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(text)
    return pki


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy until `source` ends, then end the writing side of `target`."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


# The port of the TLS Engine the suite's own manager allows blueprints to reach
# (CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS, scripts/manager/common.sh): the manager tests use it.
TLS_ENGINE_PORT = int(os.environ.get("MANAGER_TLS_ENGINE_PORT", "12376"))

class TlsForwarder:
    """TLS (client certificate required) on 127.0.0.1:port -> the Docker socket."""

    def __init__(self, pki: Pki, backend: str = DOCKER_SOCKET, port: int = 0) -> None:
        self.backend = backend
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki.path("server-cert.pem"), pki.path("server-key.pem"))
        self.context.load_verify_locations(pki.path("ca.pem"))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = int(self.listener.getsockname()[1])
        self.accepted = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="tls-forwarder", daemon=True)

    @property
    def docker_host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> TlsForwarder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        while not self._stopping:
            try:
                raw, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw,), daemon=True).start()

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(30)
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.refused += 1
            raw.close()
            return
        with self._lock:
            self.accepted += 1
        conn.settimeout(None)
        backend = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            backend.connect(self.backend)
            back = threading.Thread(target=_pump, args=(backend, conn), daemon=True)
            back.start()
            _pump(conn, backend)
            back.join(timeout=600)
        finally:
            backend.close()
            with contextlib.suppress(OSError):
                conn.close()


@contextlib.contextmanager
def tls_engine(folder: Path, port: int = 0) -> Iterator[tuple[Pki, TlsForwarder]]:
    """Certificates under `folder` and a forwarder using them (on `port`, or a free one),
    stopped afterwards."""
    pki = make_pki(folder)
    forwarder = TlsForwarder(pki, port=port).start()
    try:
        yield pki, forwarder
    finally:
        forwarder.stop()
