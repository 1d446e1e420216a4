#!/usr/bin/python3
"""A throw-away test PKI for h2hd's TLS and signature tests.

    pki.py DIR [--rsa] [--days N] [--p12-pass-file F] [--json]

    from pki import make_pki, issue_leaf
    paths = make_pki(DIR, key_type="ec")   # or "rsa"
    new = issue_leaf(paths, "client_5d", "h2hd client", days=5)

Writes into DIR (created if missing; existing files are replaced):

    ca.pem / ca.key               the test root CA (trusted by the tests)
    ca2.pem / ca2.key             a second root CA that nobody trusts
    server.pem / server.key       server cert: SAN 127.0.0.1, ::1, localhost
    server.spki                   "sha256//base64" pin of server.key's public
                                  key (curl's CURLOPT_PINNEDPUBLICKEY form)
    wronghost.pem / .key          server cert for wrong.example only (by ca)
    expired.pem / .key            server cert for 127.0.0.1, expired (by ca)
    untrusted.pem / .key          server cert for 127.0.0.1 issued by ca2
    client.pem / client.key       TLS client cert (clientAuth) by ca
    client.p12                    client cert + key + ca as PKCS#12,
    client.p12.pass               encrypted with the passphrase in this file
    client2.pem / client2.key     client cert issued by ca2 (refused by a
                                  server that trusts ca only)
    signer.pem / signer.key       a bank signing cert (digitalSignature,
                                  nonRepudiation; for CMS / XML-DSig tests)
    manifest.json                 every path above plus subjects, SHA-256
                                  fingerprints and pins (nothing secret)

issue_leaf(manifest, NAME, CN, days=N, purpose="client"|"sign"|"server")
adds one more leaf issued by ca with its own validity (e.g. one that
expires in 5 days beside the others, or a renewed certificate to swap in)
as NAME.pem / NAME.key, records it in the manifest (dict and file) and
returns its entry.

Keys are EC P-256 by default, RSA 2048 with --rsa / key_type="rsa".
Private keys are PKCS#8 PEM without encryption (test keys), written with
mode 0600, as is the passphrase file.  Certificates are mode 0644.

The command prints the manifest's paths (or the manifest itself with
--json); it never prints a key or the passphrase.  Needs Debian's
python3-cryptography (38 or newer); no network, no openssl CLI.
"""
import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")


def _new_key(key_type):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError("key_type must be 'ec' or 'rsa'")


def _write(path, data, mode):
    """Write data with mode from the start (no window in which a key is
    readable by others), replacing an older file atomically."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask must not widen or narrow it
        with os.fdopen(fd, "wb") as f:
            fd = -1
            f.write(data)
    finally:
        if fd >= 0:
            os.close(fd)
    os.replace(tmp, path)


def _write_key(path, key):
    _write(path, key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()), 0o600)


def _write_cert(path, *certs):
    _write(path, b"".join(c.public_bytes(serialization.Encoding.PEM)
                          for c in certs), 0o644)


def _name(cn, ou=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "h2hd test")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ski(key):
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _issue(subject, key, issuer_cert, issuer_key, not_before, not_after,
           ca=False, eku=None, san=None, key_usage=None):
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_cert.subject if issuer_cert else subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before)
         .not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True)
         .add_extension(_ski(key), critical=False))
    if issuer_cert is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), critical=False)
    if ca:
        key_usage = dict(key_cert_sign=True, crl_sign=True)
    if key_usage:
        ku = dict(digital_signature=False, content_commitment=False,
                  key_encipherment=False, data_encipherment=False,
                  key_agreement=False, key_cert_sign=False, crl_sign=False,
                  encipher_only=False, decipher_only=False)
        ku.update(key_usage)
        b = b.add_extension(x509.KeyUsage(**ku), critical=True)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _leaf_usage(key_type):
    # RSA key exchange needs keyEncipherment; ECDHE with EC keys does not.
    u = dict(digital_signature=True)
    if key_type == "rsa":
        u["key_encipherment"] = True
    return u


def spki_pin(cert_or_key):
    """curl's pin form for a certificate's (or key's) public key."""
    pub = (cert_or_key.public_key() if hasattr(cert_or_key, "public_key")
           else cert_or_key)
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def fingerprint(cert):
    """SHA-256 of the DER certificate, as `openssl x509 -fingerprint
    -sha256` prints it (upper-case hex pairs joined by ':')."""
    d = cert.fingerprint(hashes.SHA256())
    return ":".join("%02X" % b for b in d)


def _record(man, label, cert, key, cert_file, key_file):
    """Write cert and key into the manifest's folder and describe them."""
    cpath = os.path.join(man["dir"], cert_file)
    kpath = os.path.join(man["dir"], key_file)
    _write_cert(cpath, cert)
    _write_key(kpath, key)
    man[label] = {
        "cert": cpath, "key": kpath,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sha256": fingerprint(cert), "pin": spki_pin(cert),
        "not_before": cert.not_valid_before.isoformat() + "Z",
        "not_after": cert.not_valid_after.isoformat() + "Z",
    }
    return man[label]


def _write_manifest(man):
    _write(os.path.join(man["dir"], "manifest.json"),
           (json.dumps(man, indent=1, sort_keys=True) + "\n").encode(), 0o644)


def make_pki(out_dir, key_type="ec", days=30, p12_passphrase=None):
    """Create the PKI described in the module doc in out_dir and return the
    manifest (a dict: name -> {cert, key, subject, sha256, pin, ...})."""
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(hours=1)  # clock skew
    end = now + datetime.timedelta(days=days)
    ca_end = now + datetime.timedelta(days=days + 365)
    man = {"dir": os.path.abspath(out_dir), "key_type": key_type}

    def path(name):
        return os.path.join(man["dir"], name)

    def record(label, cert, key, cert_file, key_file):
        _record(man, label, cert, key, cert_file, key_file)

    # roots
    ca_key = _new_key(key_type)
    ca = _issue(_name("h2hd test root CA"), ca_key, None, ca_key, start,
                ca_end, ca=True)
    record("ca", ca, ca_key, "ca.pem", "ca.key")
    ca2_key = _new_key(key_type)
    ca2 = _issue(_name("h2hd untrusted CA", "elsewhere"), ca2_key, None,
                 ca2_key, start, ca_end, ca=True)
    record("ca2", ca2, ca2_key, "ca2.pem", "ca2.key")

    san_ok = [x509.DNSName(n) for n in SERVER_NAMES] + \
             [x509.IPAddress(ipaddress.ip_address(i)) for i in SERVER_IPS]
    server_eku = [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = _leaf_usage(key_type)

    # servers
    k = _new_key(key_type)
    c = _issue(_name("127.0.0.1", "bank gateway"), k, ca, ca_key, start, end,
               eku=server_eku, san=san_ok, key_usage=usage)
    record("server", c, k, "server.pem", "server.key")
    _write(path("server.spki"), (spki_pin(c) + "\n").encode(), 0o644)
    man["server"]["spki_file"] = path("server.spki")

    k = _new_key(key_type)
    c = _issue(_name("wrong.example", "bank gateway"), k, ca, ca_key, start,
               end, eku=server_eku, san=[x509.DNSName("wrong.example")],
               key_usage=usage)
    record("wronghost", c, k, "wronghost.pem", "wronghost.key")

    k = _new_key(key_type)
    c = _issue(_name("127.0.0.1", "expired gateway"), k, ca, ca_key,
               now - datetime.timedelta(days=60),
               now - datetime.timedelta(days=30), eku=server_eku, san=san_ok,
               key_usage=usage)
    record("expired", c, k, "expired.pem", "expired.key")

    k = _new_key(key_type)
    c = _issue(_name("127.0.0.1", "untrusted gateway"), k, ca2, ca2_key,
               start, end, eku=server_eku, san=san_ok, key_usage=usage)
    record("untrusted", c, k, "untrusted.pem", "untrusted.key")

    # clients
    client_eku = [ExtendedKeyUsageOID.CLIENT_AUTH]
    ck = _new_key(key_type)
    cc = _issue(_name("h2hd client", "treasury"), ck, ca, ca_key, start, end,
                eku=client_eku, key_usage=usage)
    record("client", cc, ck, "client.pem", "client.key")
    if p12_passphrase is None:
        p12_passphrase = secrets.token_urlsafe(18)
    _write(path("client.p12.pass"), p12_passphrase.encode(), 0o600)
    p12 = pkcs12.serialize_key_and_certificates(
        b"h2hd client", ck, cc, [ca],
        serialization.BestAvailableEncryption(p12_passphrase.encode()))
    _write(path("client.p12"), p12, 0o600)
    man["client"]["p12"] = path("client.p12")
    man["client"]["p12_pass_file"] = path("client.p12.pass")

    k = _new_key(key_type)
    c = _issue(_name("h2hd client", "elsewhere"), k, ca2, ca2_key, start, end,
               eku=client_eku, key_usage=usage)
    record("client2", c, k, "client2.pem", "client2.key")

    # a bank's signing certificate (CMS / XML-DSig)
    k = _new_key(key_type)
    c = _issue(_name("h2hd test bank signing", "bank"), k, ca, ca_key, start,
               end, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
               key_usage=dict(digital_signature=True, content_commitment=True))
    record("signer", c, k, "signer.pem", "signer.key")

    _write_manifest(man)
    return man


def issue_leaf(man, name, cn, days, purpose="client", ou=None):
    """One more leaf issued by the manifest's ca, valid from an hour ago
    until `days` (a number, fractions allowed) from now: a TLS client
    certificate ("client": clientAuth), a signing certificate ("sign":
    digitalSignature, nonRepudiation, emailProtection) or a server
    certificate ("server": serverAuth, the loopback names).  Written as
    NAME.pem / NAME.key beside the others (replacing older ones), recorded
    in man and manifest.json; returns its manifest entry."""
    if purpose not in ("client", "sign", "server"):
        raise ValueError("purpose must be 'client', 'sign' or 'server'")
    with open(man["ca"]["cert"], "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(man["ca"]["key"], "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    key_type = man.get("key_type", "ec")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(hours=1)
    end = now + datetime.timedelta(days=days)
    k = _new_key(key_type)
    if purpose == "client":
        c = _issue(_name(cn, ou), k, ca, ca_key, start, end,
                   eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
                   key_usage=_leaf_usage(key_type))
    elif purpose == "sign":
        c = _issue(_name(cn, ou), k, ca, ca_key, start, end,
                   eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
                   key_usage=dict(digital_signature=True,
                                  content_commitment=True))
    else:
        san = [x509.DNSName(n) for n in SERVER_NAMES] + \
              [x509.IPAddress(ipaddress.ip_address(i)) for i in SERVER_IPS]
        c = _issue(_name(cn, ou), k, ca, ca_key, start, end,
                   eku=[ExtendedKeyUsageOID.SERVER_AUTH], san=san,
                   key_usage=_leaf_usage(key_type))
    entry = _record(man, name, c, k, name + ".pem", name + ".key")
    _write_manifest(man)
    return entry


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--rsa", action="store_true", help="RSA 2048 keys")
    ap.add_argument("--days", type=int, default=30,
                    help="validity of the leaf certificates (default 30)")
    ap.add_argument("--p12-pass-file",
                    help="take the PKCS#12 passphrase from this file "
                    "(default: a random one, written to client.p12.pass)")
    ap.add_argument("--json", action="store_true",
                    help="print the manifest (paths, subjects, fingerprints)")
    a = ap.parse_args(argv)
    pw = None
    if a.p12_pass_file:
        with open(a.p12_pass_file) as f:
            pw = f.read().strip()
    man = make_pki(a.dir, key_type="rsa" if a.rsa else "ec", days=a.days,
                   p12_passphrase=pw)
    if a.json:
        json.dump(man, sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        for label in sorted(k for k in man if isinstance(man[k], dict)):
            print("%s=%s" % (label, man[label]["cert"]))
            print("%s_key=%s" % (label, man[label]["key"]))
        print("client_p12=%s" % man["client"]["p12"])
        print("client_p12_pass_file=%s" % man["client"]["p12_pass_file"])
        print("server_pin=%s" % man["server"]["pin"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
