"""The algorithm of the CA's keys: `acmectl ca init --key-type TYPE`.

For ec-p256, ec-p384 and rsa2048 (rsa3072, the default, is what the rest of
the suite runs on), `ca init` into a temporary directory makes root and
intermediate keys of that type, signatures with the digest that goes with
it, and a chain that `openssl verify` accepts; the OCSP signer is RSA 2048
under an RSA CA and P-256 under an EC one. For ec-p256 and rsa2048, a stack
of its own issues a certificate through ACME: the chain verifies, OCSP
says "good" then "revoked", and the CRL verifies against the intermediate.
An unknown type is refused before any file is written.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest
from cryptography.hazmat.primitives import serialization

import stack as stackmod
import test_zz_health
from test_revocation_status import (crl_text, issue, ocsp_seen,
                                    serial_colons, wait_for)

OPENSSL = "/usr/bin/openssl"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# key type: (what `openssl pkey -text` says of a CA key, its bits,
# the CA's signature algorithm, the OCSP signer's key and bits)
KEY_TYPES = {
    "ec-p256": ("NIST CURVE: P-256", 256, "ecdsa-with-SHA256",
                "NIST CURVE: P-256", 256),
    "ec-p384": ("NIST CURVE: P-384", 384, "ecdsa-with-SHA384",
                "NIST CURVE: P-256", 256),
    "rsa2048": ("modulus:", 2048, "sha256WithRSAEncryption",
                "modulus:", 2048),
}


def build_dir():
    return os.environ.get("ACME_BUILD", os.path.join(REPO, "build"))


def acmectl(conf, *args):
    """Run acmectl -c conf args; return the CompletedProcess."""
    return subprocess.run([os.path.join(build_dir(), "acmectl"), "-c", conf]
                          + list(args), capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def openssl(*args):
    """Run openssl args; return stdout and stderr together, failing the
    test when it exits non-zero."""
    r = subprocess.run([OPENSSL] + list(args), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, "openssl %s: %s%s" % (" ".join(args),
                                                    r.stdout, r.stderr)
    return r.stdout + r.stderr


def conf_for(tmp_path):
    """A configuration whose ca_dir is tmp_path/ca; returns (conf, ca)."""
    ca = os.path.join(str(tmp_path), "ca")
    conf = os.path.join(str(tmp_path), "acme.conf")
    with open(conf, "w") as f:
        f.write("ca_dir = %s\n" % ca)
    return conf, ca


def key_text(path):
    """What openssl says of a private key: (text, bits)."""
    text = openssl("pkey", "-in", path, "-noout", "-text")
    m = re.search(r"Private-Key: \((\d+) bit", text)
    assert m, text
    return text, int(m.group(1))


def pubkey(path, private=False):
    """The PEM of the public key of a certificate, or of a private key."""
    if private:
        return openssl("pkey", "-in", path, "-pubout")
    return openssl("x509", "-in", path, "-noout", "-pubkey")


def sig_alg(cert):
    """The signature algorithm of a certificate (openssl's name)."""
    text = openssl("x509", "-in", cert, "-noout", "-text")
    algs = set(re.findall(r"Signature Algorithm: (\S+)", text))
    assert len(algs) == 1, text
    return algs.pop()


# ------------------------------------------------- ca init, no stack


@pytest.mark.parametrize("key_type", sorted(KEY_TYPES))
def test_ca_init_key_type(tmp_path, key_type):
    want_key, want_bits, want_sig, want_okey, want_obits = \
        KEY_TYPES[key_type]
    conf, ca = conf_for(tmp_path)
    r = acmectl(conf, "ca", "init", "--name", "Key Test", "--key-type",
                key_type)
    assert r.returncode == 0, r.stdout + r.stderr
    assert key_type in r.stdout, r.stdout
    for name in ("root", "intermediate"):
        key = os.path.join(ca, name + ".key")
        cert = os.path.join(ca, name + ".pem")
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        text, bits = key_text(key)
        assert want_key in text, "%s: %s" % (name, text)
        assert bits == want_bits, "%s: got %d bits, want %d" % (
            name, bits, want_bits)
        assert pubkey(cert) == pubkey(key, private=True), name
        assert sig_alg(cert) == want_sig, name
    # the OCSP signer: its own key type, signed by the intermediate
    text, bits = key_text(os.path.join(ca, "ocsp.key"))
    assert want_okey in text and bits == want_obits, text
    assert sig_alg(os.path.join(ca, "ocsp.pem")) == want_sig
    # root -> intermediate -> OCSP signer
    root = os.path.join(ca, "root.pem")
    inter = os.path.join(ca, "intermediate.pem")
    out = openssl("verify", "-CAfile", root, inter)
    assert out.strip() == "%s: OK" % inter, out
    out = openssl("verify", "-CAfile", root, "-untrusted", inter,
                  os.path.join(ca, "ocsp.pem"))
    assert out.strip().endswith("ocsp.pem: OK"), out
    # and a renewed OCSP signer keeps the type that goes with the CA
    r = acmectl(conf, "ca", "ocsp-signer", "--renew")
    assert r.returncode == 0, r.stdout + r.stderr
    text, bits = key_text(os.path.join(ca, "ocsp.key"))
    assert want_okey in text and bits == want_obits, text
    out = openssl("verify", "-CAfile", root, "-untrusted", inter,
                  os.path.join(ca, "ocsp.pem"))
    assert out.strip().endswith("ocsp.pem: OK"), out


@pytest.mark.parametrize("bad", ["ec-p521", "RSA3072", "rsa1024", "dsa",
                                 ""])
def test_unknown_key_type_refused(tmp_path, bad):
    conf, ca = conf_for(tmp_path)
    r = acmectl(conf, "ca", "init", "--key-type", bad)
    assert r.returncode != 0, r.stdout
    assert "is not a key type" in r.stderr, r.stderr
    assert "rsa2048, rsa3072, rsa4096, ec-p256, ec-p384" in r.stderr, \
        r.stderr
    assert not os.path.exists(ca) or os.listdir(ca) == [], os.listdir(ca)


def test_key_type_without_value_is_a_usage_error(tmp_path):
    conf, ca = conf_for(tmp_path)
    r = acmectl(conf, "ca", "init", "--key-type")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--key-type rsa2048|rsa3072|rsa4096|ec-p256|ec-p384" in r.stderr
    assert not os.path.exists(ca)


# ------------------------------------------ issuance on a stack of its own


@pytest.fixture(scope="module", params=["ec-p256", "rsa2048"])
def typed_stack(request):
    """A whole stack whose CA has keys of the type of the parameter."""
    state = tempfile.mkdtemp(prefix="acme-it-%s-" % request.param)
    os.chmod(state, 0o711)
    st = stackmod.Stack(build_dir(), state, ca_key_type=request.param)
    failed_before = request.session.testsfailed
    try:
        st.start()
    except stackmod.StackError as e:
        st.stop()
        pytest.fail("the %s stack did not start (state kept in %s):\n%s"
                    % (request.param, state, e), pytrace=False)
    try:
        yield st
    finally:
        st.stop()
        found = test_zz_health.scan(st)
        if request.session.testsfailed > failed_before or found or \
                os.environ.get("ACME_KEEP_STATE"):
            print("state of the %s stack kept in %s" % (request.param,
                                                         state))
        else:
            shutil.rmtree(state, ignore_errors=True)
    assert not found, "\n".join(found[:50])


def test_issuance_ocsp_and_crl(typed_stack, tmp_path):
    st = typed_stack
    key_type = st.ca_key_type
    want_sig = KEY_TYPES[key_type][2]
    workdir = str(tmp_path)
    root = st.root_pem
    inter = os.path.join(st.ca_dir, "intermediate.pem")
    text, bits = key_text(os.path.join(st.ca_dir, "intermediate.key"))
    assert KEY_TYPES[key_type][0] in text and \
        bits == KEY_TYPES[key_type][1], text

    name = "kt-%s-%d.%s" % (key_type, os.getpid(), st.zone)
    c, leaf, cert_pem = issue(st, st.mint_eab, [name], workdir)
    # the leaf: signed by the intermediate with the CA's algorithm
    assert sig_alg(cert_pem) == want_sig
    out = openssl("verify", "-CAfile", root, "-untrusted", inter, cert_pem)
    assert out.strip() == "%s: OK" % cert_pem, out

    # OCSP: good, signed by the delegated signer, verified up to the root
    out = ocsp_seen(st, cert_pem, "good")
    assert "Response verify OK" in out, out

    # the CRL verifies against the intermediate
    def crl_ready():
        try:
            return True, crl_text(st, workdir)
        except AssertionError as e:
            return False, str(e)
    text, path = wait_for("the first CRL", crl_ready)
    assert "Signature Algorithm: %s" % want_sig in text, text
    out = openssl("crl", "-in", path, "-inform", "DER", "-CAfile", inter,
                  "-noout")
    assert "verify OK" in out, out

    # revoked: OCSP says so (a new response signed by the signer), and the
    # next CRL lists the serial and still verifies
    der = leaf.public_bytes(serialization.Encoding.DER)
    r = c.revoke(der, reason=1)
    assert r.status_code == 200, r.text
    out = ocsp_seen(st, cert_pem, "revoked")
    assert "Response verify OK" in out, out

    def crl_lists():
        t, p = crl_text(st, workdir)
        return serial_colons(leaf) in t.replace(":", ""), (t, p)
    text, path = wait_for("the serial in the CRL", crl_lists)
    out = openssl("crl", "-in", path, "-inform", "DER", "-CAfile", inter,
                  "-noout")
    assert "verify OK" in out, out
