"""Put a self-signed certificate where the compose proxy reads it, unless one is there.

    python docker/nginx/self_signed_cert.py /certs

Run by the one-shot `certs` service of docker/compose.yaml, so that `docker compose up` works
from a fresh checkout. Browsers warn about a self-signed certificate: replace fullchain.pem
and privkey.pem in the `certs` volume with the agency's own (docs/operations.md "The proxy").
The names are those of DJANGO_ALLOWED_HOSTS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def names() -> list[str]:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    return [h.lstrip(".") for h in hosts if h and h != "*"] or ["localhost"]


def alternative(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def main(directory: str) -> int:
    target = Path(directory)
    certificate, key_file = target / "fullchain.pem", target / "privkey.pem"
    if certificate.exists() and key_file.exists():
        print(f"certificate present in {target}: kept")
        return 0
    target.mkdir(parents=True, exist_ok=True)
    hosts = names()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([alternative(h) for h in hosts]), False)
        .sign(key, hashes.SHA256())
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    print(f"self-signed certificate for {', '.join(hosts)} written to {target}: replace it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/certs"))
