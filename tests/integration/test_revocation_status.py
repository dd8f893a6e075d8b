"""Published revocation status: OCSP (RFC 6960, RFC 5019) and the CRL
(RFC 5280), signed by acme-worker and served by acme-fcgi through nginx.

A certificate issued through ACME carries the OCSP URL and CRL distribution
point of the stack (ocsp_url, crl_url). Soon after issuance `openssl ocsp`
says it is good; once revoked through revokeCert (reason keyCompromise), the
OCSP answer and the CRL say so within a few seconds. GET and POST requests
get the same stored response; a certificate that is not ours gets
"unauthorized", an unreadable request "malformedRequest".
"""

import base64
import os
import re
import subprocess
import time
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import (AuthorityInformationAccessOID,
                                   ExtensionOID)

import acmeclient
from acmeclient import AcmeClient, Http01Responder

OPENSSL = "/usr/bin/openssl"
PUBLISH_TIMEOUT = 20        # seconds the worker may take to publish


# ------------------------------------------------------------- helpers


def ocsp_url(stack):
    return stack.base_url + "/acme/ocsp"


def crl_url(stack):
    return stack.base_url + "/acme/crl"


def http(stack):
    """A requests session trusting the stack's TLS CA."""
    return acmeclient.session(stack.tls_ca)


def issue(stack, mint_eab, names, workdir):
    """Issue a certificate for names through ACME (http-01); return the
    client, the leaf (cryptography object) and the path of its PEM."""
    c = AcmeClient(stack.directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    r = c.new_order(names)
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    order = r.json()
    with Http01Responder(stack.http01_port) as web:
        for authz_url in order["authorizations"]:
            authz = c.post_as_get(authz_url).json()
            ch = [x for x in authz["challenges"] if x["type"] == "http-01"][0]
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
            r = c.post(ch["url"], {})
            assert r.status_code == 200, r.text
        for authz_url in order["authorizations"]:
            authz = c.poll(authz_url, ("valid",), what="authorization")
            assert authz["status"] == "valid", authz
    order = c.poll(order_url, ("ready",), what="order")
    csr, _ = acmeclient.make_csr(names)
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    order = c.poll(order_url, ("valid",), what="order")
    assert order["status"] == "valid", order
    r = c.post_as_get(order["certificate"])
    assert r.status_code == 200, r.text
    leaf = x509.load_pem_x509_certificate(r.content)
    path = os.path.join(workdir, "cert.pem")
    with open(path, "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM))
    return c, leaf, path


def intermediate_pem(stack):
    return os.path.join(stack.ca_dir, "intermediate.pem")


def intermediate(stack):
    with open(intermediate_pem(stack), "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def openssl_ocsp(stack, *args):
    """Run openssl ocsp against the stack's responder (POST); return its
    stdout and stderr together."""
    argv = [OPENSSL, "ocsp", "-issuer", intermediate_pem(stack),
            "-url", ocsp_url(stack), "-CAfile", stack.root_pem,
            "-no_nonce", "-timeout", "10"] + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def wait_for(what, fn, timeout=PUBLISH_TIMEOUT):
    """Call fn until it returns something true; return that. Fail with
    the last value after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got[0]:
            return got[1]
        if time.monotonic() > deadline:
            pytest.fail("%s not seen within %ds; last: %s" % (
                what, timeout, got[1]))
        time.sleep(0.5)


def ocsp_seen(stack, cert_pem, status):
    """Waits until openssl ocsp, through the stack, says status ('good',
    'revoked') of the certificate in cert_pem; returns its output."""
    return wait_for("a %s OCSP response" % status, lambda: (
        lambda o: ("%s: %s" % (cert_pem, status) in o, o))(
        openssl_ocsp(stack, "-cert", cert_pem)))


def request_der(stack, leaf, algorithm=None):
    """The DER of an OCSP request for leaf (SHA-1 CertID by default)."""
    b = ocsp.OCSPRequestBuilder().add_certificate(
        leaf, intermediate(stack), algorithm or hashes.SHA1())
    return b.build().public_bytes(serialization.Encoding.DER)


def get_ocsp(stack, der):
    """GET the responder with der as RFC 6960 A.1 says (url-encoded
    base64); return the response."""
    path = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    return http(stack).get(ocsp_url(stack) + "/" + path, timeout=30)


def post_ocsp(stack, der, content_type="application/ocsp-request"):
    return http(stack).post(ocsp_url(stack), data=der,
                            headers={"Content-Type": content_type},
                            timeout=30)


def parse_ocsp(r):
    """Check the HTTP side of an OCSP answer; return the parsed OCSP
    response (cryptography)."""
    assert r.status_code == 200, "HTTP %d %s" % (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == "application/ocsp-response", \
        r.headers
    assert "Replay-Nonce" not in r.headers, r.headers
    return ocsp.load_der_ocsp_response(r.content)


def crl_text(stack, workdir):
    """Download the CRL; return (openssl crl -text output, DER path)."""
    r = http(stack).get(crl_url(stack), timeout=30)
    assert r.status_code == 200, "HTTP %d %s" % (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == "application/pkix-crl", r.headers
    path = os.path.join(workdir, "crl-%d.der" % time.monotonic_ns())
    with open(path, "wb") as f:
        f.write(r.content)
    out = subprocess.run([OPENSSL, "crl", "-in", path, "-inform", "DER",
                          "-text", "-noout"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout, path


def crl_number(text):
    m = re.search(r"X509v3 CRL Number:\s*\n\s*(\d+)", text)
    assert m, "no CRL number in:\n" + text
    return int(m.group(1))


def serial_colons(leaf):
    """The serial as openssl crl -text prints it (upper-case hex)."""
    h = "%X" % leaf.serial_number
    return h if len(h) % 2 == 0 else "0" + h


@pytest.fixture(scope="module")
def issued(stack, tmp_path_factory):
    """One certificate of this module: (client, leaf, cert.pem path)."""
    d = str(tmp_path_factory.mktemp("revocation"))
    name = "ocsp-%d.%s" % (os.getpid(), stack.zone)
    return issue(stack, stack.mint_eab, [name], d)


# ------------------------------------------------------------- tests


def test_certificate_points_to_the_responder(stack, issued):
    _, leaf, _ = issued
    aia = leaf.extensions.get_extension_for_oid(
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS).value
    urls = [a.access_location.value for a in aia
            if a.access_method == AuthorityInformationAccessOID.OCSP]
    assert urls == [ocsp_url(stack)], urls
    dps = leaf.extensions.get_extension_for_oid(
        ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert [n.value for dp in dps for n in dp.full_name] == \
        [crl_url(stack)]


def test_crl_published_at_start(stack, workdir):
    """The worker makes the first CRL without any revocation: a v2 CRL of
    the intermediate, verified with it."""
    def ready():
        r = http(stack).get(crl_url(stack), timeout=30)
        return r.status_code == 200, "HTTP %d" % r.status_code
    wait_for("the first CRL", ready)
    text, path = crl_text(stack, workdir)
    assert "Version 2" in text, text
    assert "OV TLS CA" in text.split("Last Update")[0], text
    assert crl_number(text) >= 1
    bundle = os.path.join(workdir, "chain.pem")
    with open(bundle, "wb") as f:
        f.write(open(intermediate_pem(stack), "rb").read())
        f.write(open(stack.root_pem, "rb").read())
    out = subprocess.run([OPENSSL, "crl", "-in", path, "-inform", "DER",
                          "-CAfile", bundle, "-noout"], capture_output=True,
                         text=True, timeout=60)
    assert "verify OK" in out.stdout + out.stderr, out.stdout + out.stderr


def test_good_then_revoked(stack, issued, workdir):
    c, leaf, cert_pem = issued
    # good, soon after issuance, verified by openssl against the root
    out = ocsp_seen(stack, cert_pem, "good")
    assert "Response verify OK" in out, out
    text, _ = crl_text(stack, workdir)
    before = crl_number(text)
    assert serial_colons(leaf) not in text.replace(":", "")

    der = leaf.public_bytes(serialization.Encoding.DER)
    r = c.revoke(der, reason=1)
    assert r.status_code == 200, r.text

    out = ocsp_seen(stack, cert_pem, "revoked")
    assert "Response verify OK" in out, out
    assert re.search(r"Reason:\s*keyCompromise", out), out
    assert "Revocation Time" in out, out

    def crl_lists():
        t, _ = crl_text(stack, workdir)
        return serial_colons(leaf) in t.replace(":", ""), t
    text = wait_for("the serial in the CRL", crl_lists)
    assert crl_number(text) > before, text
    entry = text.replace(":", "").split(
        "Serial Number " + serial_colons(leaf), 1)[1]
    entry = entry.split("Serial Number", 1)[0]
    assert "Key Compromise" in entry, entry


def test_get_and_post_agree(stack, issued):
    """GET (url-encoded base64 in the path) and POST answer with the same
    stored, signed response; GET may be cached until nextUpdate."""
    _, leaf, _ = issued
    der = request_der(stack, leaf)

    def current():
        resp = parse_ocsp(get_ocsp(stack, der))
        ok = resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        return ok, resp.response_status
    wait_for("a successful OCSP response", current)
    g = get_ocsp(stack, der)
    p = post_ocsp(stack, der)
    rg, rp = parse_ocsp(g), parse_ocsp(p)
    assert g.content == p.content
    assert rg.serial_number == leaf.serial_number
    assert rg.certificate_status in (ocsp.OCSPCertStatus.GOOD,
                                     ocsp.OCSPCertStatus.REVOKED)
    assert rg.responder_key_hash is not None
    assert rg.next_update > rg.this_update
    cc = g.headers.get("Cache-Control", "")
    m = re.search(r"max-age=(\d+)", cc)
    assert m and 0 < int(m.group(1)) <= 3600, cc
    age = (rg.next_update - rg.this_update).total_seconds()
    assert age == 4 * 86400, age
    assert rp.issuer_key_hash == rg.issuer_key_hash
    # the same request unencoded ("/", "+" and "=" as they are)
    raw = base64.b64encode(der).decode()
    r = http(stack).get(ocsp_url(stack) + "/" + raw, timeout=30)
    assert parse_ocsp(r).serial_number == leaf.serial_number


def test_revoked_reason_in_response(stack, issued):
    """After the revocation (test_good_then_revoked), the stored response
    says revoked, keyCompromise, at the revocation time."""
    _, leaf, _ = issued
    der = request_der(stack, leaf)

    def revoked():
        resp = parse_ocsp(post_ocsp(stack, der))
        return (resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
                and resp.certificate_status == ocsp.OCSPCertStatus.REVOKED,
                resp)
    resp = wait_for("a revoked response", revoked)
    assert resp.revocation_reason == x509.ReasonFlags.key_compromise
    assert resp.revocation_time <= resp.this_update


def test_unknown_serial_unauthorized(stack, workdir):
    out = openssl_ocsp(stack, "-serial", "0x1234567890abcdef")
    assert "unauthorized (6)" in out, out
    # the same through GET
    req = os.path.join(workdir, "unknown.req")
    r = subprocess.run([OPENSSL, "ocsp", "-issuer", intermediate_pem(stack),
                        "-serial", "0x1234567890abcdef", "-no_nonce",
                        "-reqout", req], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    with open(req, "rb") as f:
        der = f.read()
    resp = parse_ocsp(get_ocsp(stack, der))
    assert resp.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert "max-age" not in get_ocsp(stack, der).headers.get(
        "Cache-Control", "")


def test_sha256_certid_unauthorized(stack, issued):
    _, leaf, _ = issued
    der = request_der(stack, leaf, hashes.SHA256())
    resp = parse_ocsp(post_ocsp(stack, der))
    assert resp.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("body", [b"", b"\x30\x03\x02\x01", b"not ocsp" * 8],
                         ids=["empty", "truncated", "garbage"])
def test_malformed_request(stack, body):
    resp = parse_ocsp(post_ocsp(stack, body))
    assert resp.response_status == \
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    r = http(stack).get(ocsp_url(stack) + "/%25%25notbase64", timeout=30)
    assert parse_ocsp(r).response_status == \
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_wrong_content_type(stack, issued):
    _, leaf, _ = issued
    r = post_ocsp(stack, request_der(stack, leaf),
                  content_type="application/jose+json")
    assert r.status_code == 415, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    r = http(stack).get(ocsp_url(stack), timeout=30)
    assert r.status_code == 405, r.text
    r = http(stack).post(crl_url(stack), data=b"x", timeout=30)
    assert r.status_code == 405, r.text
