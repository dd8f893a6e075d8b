"""Checks every issued certificate goes through (python3-cryptography and
the openssl command line)."""

import datetime
import os
import re
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                    re.S)
MAX_VALIDITY = datetime.timedelta(days=199)
OV_POLICY = "2.23.140.1.2.2"


def split_pem(chain_pem):
    """Return the certificates of a PEM bundle, in order."""
    if isinstance(chain_pem, str):
        chain_pem = chain_pem.encode()
    return [x509.load_pem_x509_certificate(m.group(0))
            for m in PEM_RE.finditer(chain_pem)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def openssl_verify(leaf_pem, chain_pems, root_path, strict):
    """Run openssl verify; return (ok, output)."""
    with tempfile.TemporaryDirectory() as d:
        leaf = os.path.join(d, "leaf.pem")
        untrusted = os.path.join(d, "chain.pem")
        with open(leaf, "wb") as f:
            f.write(leaf_pem)
        with open(untrusted, "wb") as f:
            f.write(b"".join(chain_pems))
        cmd = ["openssl", "verify", "-CAfile", root_path]
        if chain_pems:
            cmd += ["-untrusted", untrusted]
        if strict:
            cmd += ["-x509_strict", "-purpose", "sslserver"]
        cmd.append(leaf)
        r = subprocess.run(cmd, capture_output=True, text=True)
        out = r.stdout + r.stderr
        return r.returncode == 0 and ": OK" in out, " ".join(cmd) + "\n" + out


def check_certificate(chain_pem, key_pem, names, bits, root_path,
                      public_key=None):
    """Assert what every issued certificate must be.

    chain_pem: the leaf followed by its issuers (PEM bytes); key_pem: the
    private key (PEM) or None with public_key given (lego --csr); names: the
    DNS names requested; bits: the RSA size requested; root_path: the
    embedded CA's root. Returns the leaf (cryptography x509.Certificate).
    """
    certs = split_pem(chain_pem)
    assert certs, "no certificate in the chain:\n%r" % chain_pem[:500]
    leaf = certs[0]
    pems = [c.public_bytes(serialization.Encoding.PEM) for c in certs]

    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    got = sorted(n.lower() for n in san.get_values_for_type(x509.DNSName))
    assert got == sorted(n.lower() for n in names), \
        "SANs %s, requested %s" % (got, sorted(names))
    others = [g for g in san if not isinstance(g, x509.DNSName)]
    assert not others, "unexpected SAN entries: %s" % others

    pub = leaf.public_key()
    assert isinstance(pub, rsa.RSAPublicKey), "not an RSA key: %r" % pub
    assert pub.key_size == bits, "RSA %d, requested %d" % (pub.key_size, bits)

    if key_pem is not None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        public_key = key.public_key()
    if public_key is not None:
        assert public_key.public_numbers() == pub.public_numbers(), \
            "the certificate's key is not the requester's key"

    validity = leaf.not_valid_after - leaf.not_valid_before \
        + datetime.timedelta(seconds=1)     # inclusive (BR 1.6.1)
    assert validity <= MAX_VALIDITY, \
        "validity %s (%s to %s) exceeds 199 days" % (
            validity, leaf.not_valid_before, leaf.not_valid_after)
    now = datetime.datetime.utcnow()
    assert leaf.not_valid_before <= now + datetime.timedelta(minutes=5), \
        "notBefore %s is in the future" % leaf.not_valid_before
    assert leaf.not_valid_after > now, "already expired"

    eku = leaf.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku, "no serverAuth EKU: %s" % eku

    try:
        bc = leaf.extensions.get_extension_for_class(
            x509.BasicConstraints).value
        assert not bc.ca, "the leaf is a CA certificate"
    except x509.ExtensionNotFound:
        pass

    ok, out = openssl_verify(pems[0], pems[1:], root_path, strict=False)
    assert ok, "the chain does not verify to the CA root:\n" + out
    ok, out = openssl_verify(pems[0], pems[1:], root_path, strict=True)
    assert ok, "the chain fails openssl verify -x509_strict -purpose " \
        "sslserver:\n" + out
    return leaf


def check_ov_profile(leaf):
    """Assert the OV profile of DESIGN.md: OV policy, organization in the
    subject, AIA and CRL distribution points."""
    pol = leaf.extensions.get_extension_for_class(
        x509.CertificatePolicies).value
    oids = [p.policy_identifier.dotted_string for p in pol]
    assert OV_POLICY in oids, "no OV policy %s in %s" % (OV_POLICY, oids)
    orgs = leaf.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert orgs and orgs[0].value, "no O= in subject %s" % leaf.subject
    leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints)
