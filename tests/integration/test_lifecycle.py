"""The certificate's and the account's lifecycle: revocation (certbot, lego
and by hand, RFC 8555 section 7.6), account key rollover (section 7.3.5),
renewal information and "replaces" (RFC 9773), the account's orders list
in pages (section 7.1.2.1), and the CAA re-check at issuance of names
validated more than 7 hours before (Baseline Requirements 3.2.2.8).

OCSP and CRL contents after a revocation are tested in
test_revocation_status.py, not here: here the revocation is seen in the
database and in the server's answers (a second revocation is
alreadyRevoked).
"""

import datetime
import glob
import json
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import acmeclient
import certcheck
import stack as stackmod
from acmeclient import ERR, AcmeClient, Http01Responder

CERTBOT = "/usr/bin/certbot"
LEGO = "/usr/bin/lego"
ARI_RETRY_AFTER = 21600         # fcgi/renewal.c
CAA_DETAIL_PREFIX = "INVALID_DNSCAA:"


# ------------------------------------------------------------- helpers


def assert_problem(r, kind, status=None):
    """Assert r is the problem document of type kind (or of one of the
    types in a tuple kind), with a fresh nonce; return it."""
    what = "HTTP %d %s: %s" % (r.status_code, r.headers.get("Content-Type"),
                               r.text[:1000])
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ct == "application/problem+json", "not a problem document: " + what
    assert 400 <= r.status_code < 500, what
    doc = r.json()
    kinds = kind if isinstance(kind, tuple) else (kind,)
    assert doc.get("type") in [ERR + k for k in kinds], \
        "expected %s, got %s" % (" or ".join(ERR + k for k in kinds), what)
    if status is not None:
        assert r.status_code == status, "expected HTTP %d, got %s" % (
            status, what)
    assert doc.get("detail"), "problem without detail: " + what
    return doc


def client(stack, key=None):
    return AcmeClient(stack.directory_url, stack.tls_ca, key=key)


def account(stack, key=None):
    """A client with a fresh account bound with a fresh EAB credential."""
    c = client(stack, key)
    r = c.new_account(eab=stack.mint_eab())
    assert r.status_code == 201, "newAccount: HTTP %d %s" % (r.status_code,
                                                             r.text)
    return c


def account_id(url):
    return int(url.rstrip("/").rsplit("/", 1)[1])


def last_part(url):
    return url.rstrip("/").rsplit("/", 1)[1]


def validate_http01(stack, c, authz_urls):
    """Answer the http-01 challenge of each pending authorization."""
    with Http01Responder(stack.http01_port) as web:
        for authz_url in authz_urls:
            authz = c.post_as_get(authz_url)
            assert authz.status_code == 200, authz.text
            authz = authz.json()
            if authz["status"] == "valid":
                continue
            ch = [x for x in authz["challenges"] if x["type"] == "http-01"]
            assert ch, "no http-01 challenge: %s" % authz
            web.tokens[ch[0]["token"]] = c.key_authorization(ch[0]["token"])
            r = c.post(ch[0]["url"], {})
            assert r.status_code == 200, "challenge POST: HTTP %d %s" % (
                r.status_code, r.text)
        for authz_url in authz_urls:
            authz = c.poll(authz_url, ("valid",), what="authorization")
            assert authz["status"] == "valid", \
                "authorization not valid: %s (responder saw %s)" % (
                    json.dumps(authz), web.requests)


def new_order(c, names, **extra):
    payload = {"identifiers": [{"type": "dns", "value": n} for n in names]}
    payload.update(extra)
    return c.post(c.directory["newOrder"], payload)


def ready_order(stack, c, names):
    """Create an order for names and validate it with http-01; return the
    order (status ready) and its URL."""
    r = c.new_order(names)
    assert r.status_code == 201, "newOrder: HTTP %d %s" % (r.status_code,
                                                           r.text)
    order_url = r.headers["Location"]
    validate_http01(stack, c, r.json()["authorizations"])
    order = c.poll(order_url, ("ready", "valid"), what="order")
    assert order["status"] == "ready", order
    return order, order_url


class Issued:
    """A certificate issued to a client: cert (x509), der, key, names,
    order_url, and the client."""

    def __init__(self, c, names, cert, key, order_url):
        self.client = c
        self.names = names
        self.cert = cert
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.key = key
        self.order_url = order_url

    @property
    def certid(self):
        return acmeclient.cert_id(self.cert)


def finalize_and_wait(c, order, order_url, names):
    csr, key = acmeclient.make_csr(names)
    r = c.finalize(order, csr)
    assert r.status_code == 200, "finalize: HTTP %d %s" % (r.status_code,
                                                          r.text)
    return c.poll(order_url, ("valid",), what="order"), key


def issue(stack, c, names):
    """The whole flow with http-01; return an Issued."""
    order, order_url = ready_order(stack, c, names)
    order, key = finalize_and_wait(c, order, order_url, names)
    assert order["status"] == "valid", order
    r = c.post_as_get(order["certificate"])
    assert r.status_code == 200, r.text
    leaf = certcheck.split_pem(r.content)[0]
    return Issued(c, names, leaf, key, order_url)


def db_revocation(stack, der):
    """(revoked, reason, revoked_by) of a certificate in the database;
    reason and revoked_by are None when not set."""
    out = stack.psql(
        "SELECT revoked_at IS NOT NULL, coalesce(revocation_reason::text, "
        "'-'), coalesce(revoked_by, '-') FROM certificate "
        "WHERE der = decode('%s', 'hex')" % der.hex()).strip()
    assert out, "the certificate is not in the database"
    revoked, reason, by = out.split("|", 2)
    return (revoked == "t", None if reason == "-" else int(reason),
            None if by == "-" else by)


def assert_revoked(stack, der, reason, by):
    got = db_revocation(stack, der)
    assert got == (True, reason, by), \
        "certificate in the database: (revoked, reason, revoked_by) = %r, " \
        "expected %r" % (got, (True, reason, by))


def assert_not_revoked(stack, der):
    got = db_revocation(stack, der)
    assert got == (False, None, None), "certificate revoked: %r" % (got,)


def assert_already_revoked(stack, der, key):
    """A second revocation, signed with the certificate's key, is
    refused with alreadyRevoked."""
    r = client(stack).revoke(der, key=key)
    assert_problem(r, "alreadyRevoked", 400)


def run_tool(argv, env, timeout=180):
    """Run a client program; fail the test with its output if it fails.
    Return its output."""
    assert os.access(argv[0], os.X_OK), "%s missing: run .ci/deps.sh" % \
        argv[0]
    try:
        r = subprocess.run(argv, env=env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        rc, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc = "timeout after %ds" % timeout
        out = str(e.stdout or "") + str(e.stderr or "")
    if rc != 0:
        pytest.fail("%s: exit %s\n%s" % (" ".join(argv), rc, out),
                    pytrace=False)
    return out


def certbot(stack, base, *args):
    cmd = [CERTBOT, *args, "-n", "--server", stack.directory_url,
           "--config-dir", os.path.join(base, "config"),
           "--work-dir", os.path.join(base, "work"),
           "--logs-dir", os.path.join(base, "logs")]
    env = dict(os.environ, REQUESTS_CA_BUNDLE=stack.tls_ca)
    try:
        return run_tool(cmd, env)
    except pytest.fail.Exception as e:
        log = stackmod.tail(os.path.join(base, "logs", "letsencrypt.log"),
                            150)
        pytest.fail("%s\n--- letsencrypt.log:\n%s" % (e, log), pytrace=False)


def lego(stack, base, *args):
    cmd = [LEGO, "--server", stack.directory_url, "--path", base,
           "--email", "admin@" + stack.zone, "--accept-tos", *args]
    env = dict(os.environ, LEGO_CA_CERTIFICATES=stack.tls_ca)
    return run_tool(cmd, env)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def nsupdate(stack, commands):
    """Send update commands for the test zone to BIND (TSIG-signed)."""
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\nquit\n" % (
        stack.dns_port, stack.zone, "\n".join(commands))
    r = subprocess.run(["nsupdate", "-k", stack.tsig_key], input=script,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "nsupdate failed: %s%s" % (r.stdout, r.stderr)


def foreign_certificate(names):
    """A self-signed certificate this CA never saw, and its key."""
    key = acmeclient.new_rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


@pytest.fixture(scope="module")
def issued(stack):
    """A certificate for two names, issued to its own account; the tests
    using it neither revoke nor replace it."""
    c = account(stack)
    zone = stack.zone
    names = ["shared-%s.%s" % (os.urandom(4).hex(), zone),
             "alt-%s.%s" % (os.urandom(4).hex(), zone)]
    return issue(stack, c, names)


def assert_published(stack, workdir, cert_pem_path, ocsp_reason, crl_reason):
    """After a revocation: openssl ocsp against the responder says revoked
    with the reason, and the downloaded CRL lists the serial with it."""
    import re
    import test_revocation_status as rs
    leaf = x509.load_pem_x509_certificate(certcheck.read(cert_pem_path))
    out = rs.ocsp_seen(stack, cert_pem_path, "revoked")
    assert "Response verify OK" in out, out
    assert re.search(r"Reason:\s*%s" % ocsp_reason, out), out

    def crl_lists():
        t, _ = rs.crl_text(stack, workdir)
        return rs.serial_colons(leaf) in t.replace(":", ""), t
    text = rs.wait_for("the serial in the CRL", crl_lists)
    entry = text.replace(":", "").split(
        "Serial Number " + rs.serial_colons(leaf), 1)[1]
    entry = entry.split("Serial Number", 1)[0]
    assert crl_reason in entry, entry


# --------------------------------------------------- revocation, clients


def test_certbot_revoke_with_account_key(stack, workdir, uniq):
    """certbot issues then revokes with its account key (keyCompromise)."""
    kid, hmac_key = stack.mint_eab()
    name = uniq("cbrev")
    certbot(stack, workdir, "certonly", "--agree-tos", "-m",
            "admin@" + stack.zone, "--no-eff-email", "--eab-kid", kid,
            "--eab-hmac-key", hmac_key, "--standalone",
            "--preferred-challenges", "http-01",
            "--http-01-address", "127.0.0.1",
            "--http-01-port", str(stack.http01_port),
            "--key-type", "rsa", "--rsa-key-size", "2048",
            "--cert-name", name, "-d", name)
    live = os.path.join(workdir, "config", "live", name)
    cert_path = os.path.join(live, "cert.pem")
    cert = x509.load_pem_x509_certificate(certcheck.read(cert_path))
    der = cert.public_bytes(serialization.Encoding.DER)
    assert_not_revoked(stack, der)
    regr = glob.glob(os.path.join(workdir, "config", "accounts", "**",
                                  "regr.json"), recursive=True)
    assert len(regr) == 1, regr
    with open(regr[0]) as f:
        acct = account_id(json.load(f)["uri"])

    certbot(stack, workdir, "revoke", "--cert-path", cert_path,
            "--reason", "keycompromise", "--no-delete-after-revoke")
    assert_revoked(stack, der, 1, "account:%d" % acct)
    assert_published(stack, workdir, cert_path, "keyCompromise",
                     "Key Compromise")
    key = serialization.load_pem_private_key(
        certcheck.read(os.path.join(live, "privkey.pem")), None)
    assert_already_revoked(stack, der, key)


def test_certbot_revoke_with_certificate_key(stack, workdir, uniq):
    """certbot --key-path, in a configuration directory without any
    account, signs revokeCert with the certificate's key."""
    c = account(stack)
    got = issue(stack, c, [uniq("cbkey")])
    cert_path = write(os.path.join(workdir, "cert.pem"),
                      got.cert.public_bytes(serialization.Encoding.PEM))
    key_path = write(os.path.join(workdir, "key.pem"),
                     acmeclient.key_pem(got.key))
    certbot(stack, workdir, "revoke", "--cert-path", cert_path,
            "--key-path", key_path, "--reason", "cessationofoperation",
            "--no-delete-after-revoke")
    assert not glob.glob(os.path.join(workdir, "config", "accounts", "**",
                                      "regr.json"), recursive=True), \
        "certbot registered an account to revoke with the certificate key"
    assert_revoked(stack, got.der, 5, "certificate-key")
    assert_published(stack, workdir, cert_path, "cessationOfOperation",
                     "Cessation Of Operation")
    # the issuing account cannot revoke it again either
    r = c.revoke(got.der)
    assert_problem(r, "alreadyRevoked", 400)


def test_lego_revoke(stack, workdir, uniq):
    """lego issues then revokes (superseded) with its account key."""
    name = uniq("legorev")
    kid, hmac_key = stack.mint_eab()
    lego(stack, workdir, "--eab", "--kid", kid, "--hmac", hmac_key,
         "--key-type", "rsa2048", "--http", "--http.port",
         "127.0.0.1:%d" % stack.http01_port, "-d", name, "run")
    crt = os.path.join(workdir, "certificates", name + ".crt")
    cert = certcheck.split_pem(certcheck.read(crt))[0]
    der = cert.public_bytes(serialization.Encoding.DER)
    assert_not_revoked(stack, der)
    accts = glob.glob(os.path.join(workdir, "accounts", "**", "account.json"),
                      recursive=True)
    assert len(accts) == 1, accts
    with open(accts[0]) as f:
        acct = account_id(json.load(f)["registration"]["uri"])

    # lego wants the EAB options whenever the directory asks for EAB; the
    # account exists, so they are not used
    lego(stack, workdir, "--eab", "--kid", kid, "--hmac", hmac_key,
         "-d", name, "revoke", "--keep", "--reason", "4")
    assert os.path.exists(crt), "lego revoke --keep removed the certificate"
    assert_revoked(stack, der, 4, "account:%d" % acct)
    leaf_path = write(os.path.join(workdir, "leaf.pem"),
                      cert.public_bytes(serialization.Encoding.PEM))
    assert_published(stack, workdir, leaf_path, "superseded", "Superseded")
    key = serialization.load_pem_private_key(
        certcheck.read(os.path.join(workdir, "certificates", name + ".key")),
        None)
    assert_already_revoked(stack, der, key)


# ------------------------------------------------------ revocation, by hand


def test_revoke_bad_reasons(stack, issued):
    """Reasons other than 0, 1, 3, 4, 5 are refused (2 cACompromise and
    6 certificateHold, 8 removeFromCRL, 9 privilegeWithdrawn, 10
    aACompromise are not a subscriber's; 7 is unassigned)."""
    c = issued.client
    for reason in (2, 7, 6, 8, 9, 10, 11, -1, 2 ** 40):
        r = c.revoke(issued.der, reason=reason)
        doc = assert_problem(r, "badRevocationReason", 400)
        assert "reason" in doc["detail"], (reason, doc)
    # not an integer: refused too (either type is sane)
    for reason in ("1", 1.5, None, [1]):
        r = c.post(c.directory["revokeCert"], {
            "certificate": acmeclient.b64u(issued.der), "reason": reason})
        assert_problem(r, ("badRevocationReason", "malformed"), 400)
    # with the certificate's key too
    r = client(stack).revoke(issued.der, reason=2, key=issued.key)
    assert_problem(r, "badRevocationReason", 400)
    assert_not_revoked(stack, issued.der)


def test_revoke_unauthorized(stack, issued):
    """Another account without authorizations, and a key that is not the
    certificate's, may not revoke."""
    other = account(stack)
    r = other.revoke(issued.der, reason=1)
    doc = assert_problem(r, "unauthorized", 403)
    assert "authorizations" in doc["detail"], doc
    # a random key as "jwk" (no account)
    stranger = client(stack)
    r = stranger.revoke(issued.der, key=acmeclient.new_rsa_key())
    doc = assert_problem(r, "unauthorized", 403)
    assert "certificate's key" in doc["detail"], doc
    # the key of a registered account as "jwk" is still not the
    # certificate's key
    r = client(stack).revoke(issued.der, key=other.key)
    assert_problem(r, "unauthorized", 403)
    # the account key of the issuing account as "jwk" (not "kid")
    r = client(stack).revoke(issued.der, key=issued.client.key)
    assert_problem(r, "unauthorized", 403)
    assert_not_revoked(stack, issued.der)


def test_revoke_not_from_this_ca(stack, issued, uniq):
    """A certificate this CA did not issue is unknown (404), whoever
    signs; a "certificate" that is not one is malformed."""
    cert, key = foreign_certificate([uniq("foreign")])
    der = cert.public_bytes(serialization.Encoding.DER)
    r = issued.client.revoke(der)
    doc = assert_problem(r, "malformed", 404)
    assert "did not issue" in doc["detail"], doc
    r = client(stack).revoke(der, key=key)
    assert_problem(r, "malformed", 404)
    # the DER of this CA's certificate with one byte changed: same serial,
    # not the same certificate
    bad = bytearray(issued.der)
    bad[-10] ^= 0x01
    r = issued.client.revoke(bytes(bad))
    assert_problem(r, "malformed", 404)
    # not a certificate at all
    r = issued.client.post(issued.client.directory["revokeCert"],
                           {"certificate": acmeclient.b64u(b"nonsense")})
    assert_problem(r, "malformed", 400)
    r = issued.client.post(issued.client.directory["revokeCert"], {})
    assert_problem(r, "malformed", 400)
    assert_not_revoked(stack, issued.der)


def test_revoke_by_account_holding_authorizations(stack, uniq):
    """Another account may revoke once it holds valid authorizations for
    every name of the certificate; one name is not enough."""
    owner = account(stack)
    names = [uniq("authz"), uniq("authz2")]
    got = issue(stack, owner, names)
    other = account(stack)
    ready_order(stack, other, names[:1])
    r = other.revoke(got.der, reason=3)
    assert_problem(r, "unauthorized", 403)
    assert_not_revoked(stack, got.der)
    ready_order(stack, other, names[1:])
    r = other.revoke(got.der, reason=3)
    assert r.status_code == 200, "revokeCert: HTTP %d %s" % (r.status_code,
                                                            r.text)
    assert_revoked(stack, got.der, 3, "account:%d" % account_id(
        other.account_url))
    r = owner.revoke(got.der)
    assert_problem(r, "alreadyRevoked", 400)
    assert_already_revoked(stack, got.der, got.key)


def test_revoke_twice(stack, uniq):
    """The issuing account revokes without a reason (0, unspecified); the
    second time is alreadyRevoked, and the revocation is audited."""
    c = account(stack)
    got = issue(stack, c, [uniq("twice")])
    r = c.revoke(got.der)
    assert r.status_code == 200, "revokeCert: HTTP %d %s" % (r.status_code,
                                                            r.text)
    assert r.headers.get("Replay-Nonce"), r.headers
    actor = "account:%d" % account_id(c.account_url)
    assert_revoked(stack, got.der, 0, actor)
    r = c.revoke(got.der, reason=1)
    doc = assert_problem(r, "alreadyRevoked", 400)
    assert "already revoked" in doc["detail"], doc
    # the first revocation stays as it was
    assert_revoked(stack, got.der, 0, actor)
    rows = stack.psql(
        "SELECT a.actor, a.detail->>'reason' FROM audit_log a "
        "JOIN certificate c ON c.id = a.object_id "
        "WHERE a.action = 'revoke' AND a.object_type = 'certificate' "
        "AND c.der = decode('%s', 'hex')" % got.der.hex()).split()
    assert rows == [actor + "|0"], rows


# -------------------------------------------------------------- keyChange


def key_change_audit(stack, c):
    out = stack.psql(
        "SELECT actor, detail->>'old', detail->>'new' FROM audit_log "
        "WHERE action = 'key-change' AND object_type = 'account' "
        "AND object_id = '%d' ORDER BY id" % account_id(c.account_url))
    return [tuple(line.split("|")) for line in out.split()]


def test_key_change_rollover(stack, uniq):
    c = account(stack)
    old = c.key
    new = acmeclient.new_rsa_key()
    r = c.key_change(new)
    assert r.status_code == 200, "keyChange: HTTP %d %s" % (r.status_code,
                                                           r.text)
    assert r.json()["status"] == "valid", r.text
    assert r.headers.get("Location") == c.account_url, r.headers
    assert c.key is new

    # the old key: signing with it as "kid" of the account is a bad
    # signature, and as "jwk" it is nobody's key any more
    r = c.post_as_get(c.account_url, key=old)
    doc = assert_problem(r, "malformed", 400)
    assert "signature is invalid" in doc["detail"], doc
    r = c.post(c.directory["newOrder"], {"identifiers": [
        {"type": "dns", "value": uniq("oldkey")}]}, key=old)
    assert_problem(r, "malformed", 400)
    stale = client(stack, key=old)
    r = stale.new_account(only_return_existing=True)
    assert_problem(r, "accountDoesNotExist", 400)

    # the new key works: the account, a new order, and newAccount finds it
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "valid", r.text
    r = c.new_order([uniq("newkey")])
    assert r.status_code == 201, "newOrder: HTTP %d %s" % (r.status_code,
                                                           r.text)
    fresh = client(stack, key=new)
    r = fresh.new_account(only_return_existing=True)
    assert r.status_code == 200, r.text
    assert r.headers.get("Location") == c.account_url

    # a second rollover, to an EC key
    ec_key = acmeclient.new_ec_key()
    r = c.key_change(ec_key)
    assert r.status_code == 200, "keyChange: HTTP %d %s" % (r.status_code,
                                                           r.text)
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200, r.text
    r = c.post_as_get(c.account_url, key=new)
    assert_problem(r, "badSignatureAlgorithm", 400)

    # both are audited, with the thumbprints
    assert key_change_audit(stack, c) == [
        ("acme-fcgi", acmeclient.thumbprint(old),
         acmeclient.thumbprint(new)),
        ("acme-fcgi", acmeclient.thumbprint(new),
         acmeclient.thumbprint(ec_key)),
    ]


def test_key_change_to_key_of_another_account(stack):
    a = account(stack)
    b = account(stack)
    old = a.key
    r = a.key_change(b.key)
    doc = assert_problem(r, "malformed", 409)
    assert "another account" in doc["detail"], doc
    assert r.headers.get("Location") == b.account_url, r.headers
    assert a.key is old
    # nothing changed: both accounts still work with their keys
    for c in (a, b):
        r = c.post_as_get(c.account_url)
        assert r.status_code == 200, r.text
    assert key_change_audit(stack, a) == []


def test_key_change_refusals(stack):
    a = account(stack)
    b = account(stack)
    old = a.key
    new = acmeclient.new_rsa_key()
    url = a.directory["keyChange"]
    cases = [
        # the inner JWS carries a nonce
        ("malformed", 400, "nonce",
         a.key_change_inner(new, protected={"nonce": a.fresh_nonce()})),
        # its url is not keyChange's
        ("malformed", 400, "url",
         a.key_change_inner(new, url=a.directory["newAccount"])),
        ("malformed", 400, "url",
         a.key_change_inner(new, url=url + "/")),
        # oldKey is not the account's key
        ("unauthorized", 403, "oldKey",
         a.key_change_inner(new, old_key=acmeclient.new_rsa_key())),
        ("unauthorized", 403, "oldKey",
         a.key_change_inner(new, old_key=b.key)),
        # "account" is another account
        ("unauthorized", 403, "another account",
         a.key_change_inner(new, account=b.account_url)),
        # the new key is the current one
        ("malformed", 400, "current key", a.key_change_inner(old)),
        # payload without oldKey
        ("malformed", 400, "oldKey",
         a.key_change_inner(new, payload={"account": a.account_url})),
    ]
    # the inner JWS names the account with "kid" instead of carrying the
    # new key as "jwk"
    hdr = {"alg": "RS256", "kid": a.account_url, "url": url}
    ph = acmeclient.b64u(json.dumps(hdr))
    pl = acmeclient.b64u(json.dumps({"account": a.account_url,
                                     "oldKey": acmeclient.jwk_of(old)}))
    sig = acmeclient.sign(new, "RS256", ("%s.%s" % (ph, pl)).encode())
    cases.append(("malformed", 400, "jwk",
                  {"protected": ph, "payload": pl,
                   "signature": acmeclient.b64u(sig)}))
    # the inner JWS signed by a key other than its "jwk"
    good = a.key_change_inner(new)
    forged = a.key_change_inner(acmeclient.new_rsa_key())
    cases.append(("malformed", 400, "signature",
                  {"protected": good["protected"], "payload": good["payload"],
                   "signature": forged["signature"]}))
    for kind, status, words, inner in cases:
        r = a.key_change(new, inner=inner)
        doc = assert_problem(r, kind, status)
        assert words in doc["detail"], "%r not in %r" % (words, doc)
        assert a.key is old
    # the outer JWS signed by the new key (as the account's "kid")
    r = a.post(url, a.key_change_inner(new), key=new)
    assert_problem(r, "malformed", 400)
    # nothing changed
    r = a.post_as_get(a.account_url)
    assert r.status_code == 200, r.text
    assert key_change_audit(stack, a) == []


# --------------------------------------------------- renewal information


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def window(r):
    assert r.status_code == 200, "renewalInfo: HTTP %d %s" % (
        r.status_code, r.text)
    assert r.headers.get("Content-Type", "").split(";")[0] == \
        "application/json", r.headers
    w = r.json()["suggestedWindow"]
    return parse_time(w["start"]), parse_time(w["end"])


def test_renewal_info(stack, issued):
    c = issued.client
    assert c.directory["renewalInfo"] == stack.base_url + \
        "/acme/renewal-info", c.directory
    r = c.renewal_info(issued.certid)
    start, end = window(r)
    assert r.headers.get("Retry-After") == str(ARI_RETRY_AFTER), r.headers
    nb, na = issued.cert.not_valid_before, issued.cert.not_valid_after
    life = na - nb
    assert start < end, (start, end)
    assert nb + life * 2 / 3 - datetime.timedelta(seconds=2) <= start, \
        "the window starts before the last third of %s..%s: %s" % (
            nb, na, start)
    assert end <= na, (end, na)
    assert start > datetime.datetime.utcnow(), start
    # HEAD answers too; POST is not allowed
    r = c.session.head(c.directory["renewalInfo"] + "/" + issued.certid,
                       timeout=30)
    assert r.status_code == 200, r.status_code
    r = c.session.post(c.directory["renewalInfo"] + "/" + issued.certid,
                       data="{}", headers={
                           "Content-Type": "application/jose+json"},
                       timeout=30)
    assert r.status_code == 405, r.status_code


def test_renewal_info_unknown_and_garbage(stack, issued):
    c = issued.client
    aki, serial = issued.certid.split(".")
    raw = bytearray(acmeclient.b64u_decode(aki))
    raw[0] ^= 0xff
    # a wrong AKI with the right serial, a right AKI with another serial
    for certid in (acmeclient.b64u(bytes(raw)) + "." + serial,
                   aki + "." + acmeclient.b64u(b"\x42" + os.urandom(15))):
        r = c.renewal_info(certid)
        doc = assert_problem(r, "malformed", 404)
        assert "CertID" in doc["detail"], doc
    # not a CertID at all
    for certid in ("garbage", "." + serial, aki + ".", "!!!.@@@",
                   aki + "." + acmeclient.b64u(b"\x80\x01"),
                   aki + "." + acmeclient.b64u(os.urandom(21)),
                   "a" * 60 + "." + "b" * 70):
        r = c.renewal_info(certid)
        assert r.status_code in (400, 404), (certid, r.status_code, r.text)
        assert_problem(r, "malformed")
    for certid in ("garbage", "." + serial, aki + ".",
                   aki + "." + acmeclient.b64u(b"\x80\x01")):
        r = c.renewal_info(certid)
        assert_problem(r, "malformed", 400)


def test_renewal_info_revoked(stack, uniq):
    """A revoked certificate (here by its own key) should be renewed now:
    its window has begun."""
    c = account(stack)
    got = issue(stack, c, [uniq("arirev")])
    start, _ = window(c.renewal_info(got.certid))
    assert start > datetime.datetime.utcnow(), start
    r = client(stack).revoke(got.der, reason=1, key=got.key)
    assert r.status_code == 200, "revokeCert: HTTP %d %s" % (r.status_code,
                                                            r.text)
    assert_revoked(stack, got.der, 1, "certificate-key")
    r = c.renewal_info(got.certid)
    start, end = window(r)
    assert start < end, (start, end)
    assert start <= datetime.datetime.utcnow(), \
        "the window of a revoked certificate has not begun: %s" % start
    assert r.headers.get("Retry-After"), r.headers


def test_replaces(stack, issued, uniq):
    """newOrder "replaces" (RFC 9773 section 5): once per certificate while
    the replacing order lives; again once that order is invalid; never
    for another account's certificate."""
    c = account(stack)
    name = uniq("renew")
    got = issue(stack, c, [name])
    r = new_order(c, [name], replaces=got.certid)
    assert r.status_code == 201, "newOrder replaces: HTTP %d %s" % (
        r.status_code, r.text)
    first, first_url = r.json(), r.headers["Location"]
    assert first["identifiers"] == [{"type": "dns", "value": name}], first
    assert first["status"] == "pending", first
    r = new_order(c, [name], replaces=got.certid)
    doc = assert_problem(r, "alreadyReplaced", 409)
    assert "replaced" in doc["detail"], doc
    # the first replacing order ends: its authorization is deactivated
    r = c.post(first["authorizations"][0], {"status": "deactivated"})
    assert r.status_code == 200, "deactivate: HTTP %d %s" % (r.status_code,
                                                            r.text)
    assert r.json()["status"] == "deactivated", r.text
    order = c.post_as_get(first_url).json()
    assert order["status"] == "invalid", order
    r = new_order(c, [name], replaces=got.certid)
    assert r.status_code == 201, "newOrder replaces after invalid: " \
        "HTTP %d %s" % (r.status_code, r.text)
    r = new_order(c, [name], replaces=got.certid)
    assert_problem(r, "alreadyReplaced", 409)
    # another account's certificate
    r = new_order(c, [uniq("notmine")], replaces=issued.certid)
    doc = assert_problem(r, "malformed", 400)
    assert "another account" in doc["detail"], doc
    # not a CertID, not a string
    r = new_order(c, [uniq("bad")], replaces="garbage")
    assert_problem(r, "malformed", 400)
    r = new_order(c, [uniq("bad")], replaces=12)
    assert_problem(r, "malformed", 400)


def test_replaces_after_replacing_order_expired(stack, uniq):
    """A replacing order past its expiry is invalid (RFC 8555 section
    7.1.6): it no longer holds the certificate, as soon as it shows
    invalid (not only once the worker's housekeeping has run)."""
    c = account(stack)
    name = uniq("renexp")
    got = issue(stack, c, [name])
    r = new_order(c, [name], replaces=got.certid)
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    stack.psql("UPDATE orders SET expires_at = now() - interval '1 second' "
               "WHERE id = '%s'" % last_part(url))
    order = c.post_as_get(url).json()
    assert order["status"] == "invalid", order
    r = new_order(c, [name], replaces=got.certid)
    assert r.status_code == 201, "newOrder replacing a certificate whose " \
        "replacing order is invalid (expired): HTTP %d %s" % (
            r.status_code, r.text)


# ------------------------------------------------------------ orders list


def orders_page(c, url):
    """POST-as-GET one page of an orders list (signed over its exact URL,
    query included); return (order URLs, next URL or None)."""
    r = c.post_as_get(url)
    assert r.status_code == 200, "orders list %s: HTTP %d %s" % (
        url, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"orders"}, body
    nxt = r.links.get("next", {}).get("url")
    return body["orders"], nxt


def test_orders_list_pages(stack, uniq):
    """7 orders, pages of 3 (orders_page_size of the test stack): 3, 3, 1,
    following Link rel="next" exactly as given."""
    c = account(stack)
    created = []
    for i in range(7):
        r = c.new_order([uniq("page%d" % i)])
        assert r.status_code == 201, r.text
        created.append(r.headers["Location"])
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200, r.text
    url = r.json()["orders"]
    assert url == c.account_url + "/orders", r.text
    pages, seen = [], set()
    while url is not None:
        assert url not in seen, "Link rel=next loops: %s" % url
        seen.add(url)
        assert len(pages) < 5, "too many pages: %s" % pages
        orders, nxt = orders_page(c, url)
        pages.append(orders)
        if nxt is not None:
            assert nxt.startswith(c.account_url + "/orders?"), nxt
        url = nxt
    assert [len(p) for p in pages] == [3, 3, 1], pages
    listed = [u for p in pages for u in p]
    assert len(set(listed)) == 7, listed
    assert sorted(listed) == sorted(created), (listed, created)
    # keyset pagination on creation: the pages follow the creation order
    assert listed == created, (listed, created)
    # every URL is a complete order URL of this account
    for u in listed:
        r = c.post_as_get(u)
        assert r.status_code == 200, (u, r.text)
        assert r.json()["status"] == "pending", r.text


def test_orders_list_exact_page(stack, uniq):
    """3 orders, one page of 3: no Link rel=next; no orders: an empty
    list."""
    c = account(stack)
    orders, nxt = orders_page(c, c.account_url + "/orders")
    assert orders == [] and nxt is None, (orders, nxt)
    for i in range(3):
        assert c.new_order([uniq("exact%d" % i)]).status_code == 201
    orders, nxt = orders_page(c, c.account_url + "/orders")
    assert len(orders) == 3 and nxt is None, (orders, nxt)


def test_orders_list_bad_cursor(stack, uniq):
    """A cursor that names no order of this account gives an empty page
    (no 500, no other account's orders); other queries are malformed."""
    a = account(stack)
    b = account(stack)
    for i in range(4):
        assert a.new_order([uniq("cura%d" % i)]).status_code == 201
    r = b.new_order([uniq("curb")])
    assert r.status_code == 201, r.text
    b_order = last_part(r.headers["Location"])
    base = a.account_url + "/orders"
    _, nxt = orders_page(a, base)
    assert nxt is not None
    for cursor in ("bogus", b_order, "x" * 64, "%27%3B--"):
        orders, nxt = orders_page(a, base + "?cursor=" + cursor)
        assert orders == [] and nxt is None, (cursor, orders, nxt)
    for query in ("cursor=" + "x" * 65, "page=2", "cursor"):
        r = a.post_as_get(base + "?" + query)
        assert_problem(r, "malformed", 400)
    # another account's list, even with a cursor
    r = b.post_as_get(base + "?cursor=bogus")
    assert_problem(r, "unauthorized", 403)


# ------------------------------------------------- CAA re-check at issuance


def caa_recheck_order(stack, uniq, label, age):
    """A ready order for a fresh name without CAA; its validation made
    `age` old (SQL interval, or None to leave it); then a CAA record
    forbidding this CA for the name, then finalize. Returns the client,
    the final order and the order's id."""
    c = account(stack)
    name = uniq(label)
    order, order_url = ready_order(stack, c, [name])
    oid = last_part(order_url)
    if age is not None:
        n = stack.psql(
            "WITH u AS (UPDATE challenge SET validated_at = now() - "
            "interval '%s' WHERE status = 'valid' AND authorization_id IN "
            "(SELECT authorization_id FROM order_authorization "
            "WHERE order_id = '%s') RETURNING 1) SELECT count(*) FROM u"
            % (age, oid))
        assert n.strip() == "1", n
    nsupdate(stack, ['update add %s. 10 IN CAA 0 issue "other.example"'
                     % name])
    try:
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(stack.dns_port),
                              "+short", name, "CAA"], capture_output=True,
                             text=True, timeout=30).stdout
        assert "other.example" in out, "CAA record not published: %r" % out
        order, _ = finalize_and_wait(c, order, order_url, [name])
    finally:
        nsupdate(stack, ["update delete %s. CAA" % name])
    return c, order, oid


def test_caa_rechecked_for_old_validation(stack, uniq):
    """Validated 8 hours ago: CAA is checked again at issuance, and the
    new record refuses this CA."""
    c, order, oid = caa_recheck_order(stack, uniq, "caarc", "8 hours")
    assert order["status"] == "invalid", order
    err = order.get("error") or {}
    assert err.get("type") == ERR + "caa", order
    assert err.get("status") == 403, order
    assert err.get("detail", "").startswith(CAA_DETAIL_PREFIX), order
    assert 'issue "other.example"' in err["detail"], order
    assert "certificate" not in order, order
    n = stack.psql("SELECT count(*) FROM certificate WHERE order_id = '%s'"
                   % oid)
    assert n.strip() == "0", n


def test_caa_not_rechecked_for_recent_validation(stack, uniq):
    """Validated just now (within 7 hours): no CAA check at issuance, the
    certificate is issued despite the new record."""
    c, order, oid = caa_recheck_order(stack, uniq, "caanr", None)
    assert order["status"] == "valid", order
    assert order.get("certificate"), order
