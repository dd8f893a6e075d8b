"""CAA (RFC 8659, RFC 8657) through real orders: the worker checks the CAA
records of BIND's test zone (tests/stack.py, CAA_RECORDS) once control of
the name is proven, and a refusal makes the challenge, its authorization
and its order invalid with a caa problem (INVALID_DNSCAA, HTTP 403).

caa_identities of the stack is "certigna.com,acme.test".
"""

import hashlib
import os
import subprocess

import pytest

import acmeclient
import stack as stackmod
from acmeclient import ERR, AcmeClient, Http01Responder

CAA_DETAIL_PREFIX = "INVALID_DNSCAA:"


def account(stack, mint_eab):
    """A client with a fresh bound account."""
    c = AcmeClient(stack.directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, "newAccount: HTTP %d %s" % (r.status_code,
                                                             r.text)
    return c


def wildcard_account(stack, mint_eab):
    """A client whose account may order wildcard names: under the CA's
    account model that takes the OV_WILDCARD profile."""
    c = AcmeClient(stack.directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab(profile="OV_WILDCARD"))
    assert r.status_code == 201, "newAccount: HTTP %d %s" % (r.status_code,
                                                             r.text)
    return c


def new_order(c, name):
    """Create an order for one name; return (order URL, authorization
    URL)."""
    r = c.new_order([name])
    assert r.status_code == 201, "newOrder %s: HTTP %d %s" % (
        name, r.status_code, r.text)
    return r.headers["Location"], r.json()["authorizations"][0]


def challenge_of(c, authz_url, kind):
    authz = c.post_as_get(authz_url)
    assert authz.status_code == 200, authz.text
    chs = [x for x in authz.json()["challenges"] if x["type"] == kind]
    assert chs, "no %s challenge: %s" % (kind, authz.text)
    return chs[0]


def validate_http01(stack, c, authz_url):
    """Answer the http-01 challenge; return the final authorization."""
    ch = challenge_of(c, authz_url, "http-01")
    with Http01Responder(stack.http01_port) as web:
        web.tokens[ch["token"]] = c.key_authorization(ch["token"])
        r = c.post(ch["url"], {})
        assert r.status_code == 200, "challenge POST: HTTP %d %s" % (
            r.status_code, r.text)
        authz = c.poll(authz_url, ("valid",), what="authorization")
        assert web.requests, "the CA never fetched the http-01 token"
    return authz


def validate_dns01(stack, c, authz_url, name):
    """Publish the dns-01 TXT record with nsupdate (tests/hooks), answer
    the challenge; return the final authorization."""
    ch = challenge_of(c, authz_url, "dns-01")
    value = acmeclient.b64u(hashlib.sha256(
        c.key_authorization(ch["token"]).encode()).digest())
    env = dict(stack.dns_env(), CERTBOT_DOMAIN=name, CERTBOT_VALIDATION=value,
               PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    hooks = stackmod.HOOKS
    subprocess.run(["sh", os.path.join(hooks, "createtxt.sh")], env=env,
                   check=True, capture_output=True)
    try:
        r = c.post(ch["url"], {})
        assert r.status_code == 200, "challenge POST: HTTP %d %s" % (
            r.status_code, r.text)
        return c.poll(authz_url, ("valid",), what="authorization")
    finally:
        subprocess.run(["sh", os.path.join(hooks, "cleantxt.sh")], env=env,
                       capture_output=True)


def nsupdate(stack, commands):
    """Send update commands for the test zone to BIND (TSIG-signed)."""
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\nquit\n" % (
        stack.dns_port, stack.zone, "\n".join(commands))
    r = subprocess.run(["nsupdate", "-k", stack.tsig_key], input=script,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "nsupdate failed: %s%s" % (r.stdout, r.stderr)


def assert_caa_refused(c, order_url, authz, kind, detail_has=()):
    """The authorization, its challenge and the order are invalid with the
    CAA problem; return the challenge's error."""
    assert authz["status"] == "invalid", authz
    ch = [x for x in authz["challenges"] if x["type"] == kind][0]
    assert ch["status"] == "invalid", ch
    err = ch.get("error") or {}
    assert err.get("type") == ERR + "caa", ch
    assert err.get("status") == 403, ch
    assert err.get("detail", "").startswith(CAA_DETAIL_PREFIX), ch
    for text in detail_has:
        assert text in err["detail"], "%r not in %r" % (text, err["detail"])
    order = c.poll(order_url, ("ready", "valid"), what="order")
    assert order["status"] == "invalid", order
    oerr = order.get("error") or {}
    assert oerr.get("type") == ERR + "caa", order
    assert oerr.get("status") == 403, order
    assert oerr.get("detail", "").startswith(CAA_DETAIL_PREFIX), order
    return err


def assert_ready(c, order_url, authz):
    assert authz["status"] == "valid", authz
    order = c.poll(order_url, ("ready",), what="order")
    assert order["status"] == "ready", order


# ----------------------------------------------------------- allowed


@pytest.mark.parametrize("label", [
    "caa-allow",        # issue "certigna.com"
    "caa-iodef",        # only iodef: no issue property, allowed
    "caa-wild",         # issuewild is ignored for a plain name
])
def test_caa_allows(stack, mint_eab, label):
    c = account(stack, mint_eab)
    name = "%s.%s" % (label, stack.zone)
    order_url, authz_url = new_order(c, name)
    assert_ready(c, order_url, validate_http01(stack, c, authz_url))


def test_caa_absent(stack, mint_eab, uniq):
    """No CAA record at the name, the zone or the TLD."""
    c = account(stack, mint_eab)
    order_url, authz_url = new_order(c, uniq("nocaa"))
    assert_ready(c, order_url, validate_http01(stack, c, authz_url))


# ----------------------------------------------------------- refused


@pytest.mark.parametrize("label,detail_has", [
    ("caa-deny", ['issue "other.example"']),
    # the climb from sub.caa-parent finds caa-parent's records
    ("sub.caa-parent", ["(parent of sub.caa-parent.",
                        'issue "other.example"']),
    # RFC 8657 accounturi names another account
    ("caa-acct", ["accounturi=https://example.invalid/acme/acct/1"]),
    # RFC 8657 validationmethods=dns-01, validated with http-01
    ("caa-meth", ["validationmethods=dns-01"]),
    # a critical property of an unknown tag, next to an allowing issue
    ("caa-crit", ['unknown critical property tbs "x"']),
    # the parent zone of the name answers SERVFAIL: fail closed
    ("ok.caa-servfail", ["CAA lookup for caa-servfail.", "(SERVFAIL)"]),
])
def test_caa_refuses(stack, mint_eab, label, detail_has):
    c = account(stack, mint_eab)
    name = "%s.%s" % (label, stack.zone)
    order_url, authz_url = new_order(c, name)
    authz = validate_http01(stack, c, authz_url)
    err = assert_caa_refused(c, order_url, authz, "http-01", detail_has)
    if label not in ("sub.caa-parent", "ok.caa-servfail"):
        assert ("CAA records for %s " % name) in err["detail"], err


# ------------------------------------------------- wildcard, dns-01


def test_caa_issuewild_refuses_wildcard(stack, mint_eab):
    """caa-wild has issuewild "other.example" and issue "certigna.com": a
    wildcard order is refused (the plain name is allowed, above)."""
    c = wildcard_account(stack, mint_eab)
    name = "caa-wild." + stack.zone
    order_url, authz_url = new_order(c, "*." + name)
    authz = validate_dns01(stack, c, authz_url, "*." + name)
    assert authz.get("wildcard") is True, authz
    assert_caa_refused(c, order_url, authz, "dns-01", [
        'issuewild "other.example"', "wildcard", "CAA records for " + name])


def test_caa_wildcard_uses_issue(stack, mint_eab):
    """Without issuewild, a wildcard order follows issue (caa-allow)."""
    c = wildcard_account(stack, mint_eab)
    name = "*.caa-allow." + stack.zone
    order_url, authz_url = new_order(c, name)
    assert_ready(c, order_url, validate_dns01(stack, c, authz_url, name))


def test_caa_validationmethods_dns01(stack, mint_eab):
    """caa-meth allows dns-01 only: validated with dns-01, it is allowed."""
    c = account(stack, mint_eab)
    name = "caa-meth." + stack.zone
    order_url, authz_url = new_order(c, name)
    assert_ready(c, order_url, validate_dns01(stack, c, authz_url, name))


# -------------------------------------------------------- accounturi


def test_caa_accounturi(stack, mint_eab, uniq):
    """A CAA record naming this account's URL (RFC 8657) lets it have
    certificates for the name, and no other account."""
    owner = account(stack, mint_eab)
    name = uniq("caa-acctok")
    nsupdate(stack, [
        'update add %s. 10 CAA 0 issue "certigna.com; accounturi=%s"' % (
            name, owner.account_url),
        "update add %s. 10 A 127.0.0.1" % name,
    ])
    try:
        order_url, authz_url = new_order(owner, name)
        assert_ready(owner, order_url,
                     validate_http01(stack, owner, authz_url))

        other = account(stack, mint_eab)
        order_url, authz_url = new_order(other, name)
        authz = validate_http01(stack, other, authz_url)
        assert_caa_refused(other, order_url, authz, "http-01",
                           ["accounturi=" + owner.account_url])
    finally:
        nsupdate(stack, ["update delete %s." % name])
