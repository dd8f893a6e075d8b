"""The protocol, driven by hand (tests/integration/acmeclient.py): accounts
with EAB, JWS checks, orders, authorizations, finalization and refusals.

Every refusal must be an application/problem+json document of the right
RFC 8555 type, carrying a fresh Replay-Nonce.
"""

import hashlib
import json
import os
import re
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import acmeclient
import certcheck
import stack as stackmod
from acmeclient import ERR, AcmeClient, Http01Responder


def assert_problem(r, kind, status=None):
    """Assert r is the problem document of type kind (or of one of the
    types in a tuple kind); return it."""
    what = "HTTP %d %s: %s" % (r.status_code, r.headers.get("Content-Type"),
                               r.text[:1000])
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ct == "application/problem+json", "not a problem document: " + what
    assert r.headers.get("Replay-Nonce"), "no Replay-Nonce on the error: " + what
    assert 400 <= r.status_code < 600, what
    assert 'rel="index"' in r.headers.get("Link", ""), \
        "no Link rel=index on the error: %r" % r.headers.get("Link")
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


def account(stack, mint_eab, key=None):
    """A client with a fresh bound account."""
    c = client(stack, key)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, "newAccount: HTTP %d %s" % (r.status_code,
                                                             r.text)
    return c


def ready_order(stack, c, names):
    """Create an order for names and validate it with http-01; return the
    order (status ready) and its URL."""
    r = c.new_order(names)
    assert r.status_code == 201, "newOrder: HTTP %d %s" % (r.status_code,
                                                           r.text)
    order_url = r.headers["Location"]
    order = r.json()
    with Http01Responder(stack.http01_port) as web:
        for authz_url in order["authorizations"]:
            authz = c.post_as_get(authz_url)
            assert authz.status_code == 200, authz.text
            authz = authz.json()
            if authz["status"] == "valid":
                continue
            ch = [x for x in authz["challenges"] if x["type"] == "http-01"]
            assert ch, "no http-01 challenge: %s" % authz
            ch = ch[0]
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
            r = c.post(ch["url"], {})
            assert r.status_code == 200, "challenge POST: HTTP %d %s" % (
                r.status_code, r.text)
        for authz_url in order["authorizations"]:
            authz = c.poll(authz_url, ("valid",), what="authorization")
            assert authz["status"] == "valid", \
                "authorization not valid: %s (responder saw %s)" % (
                    json.dumps(authz), web.requests)
    order = c.poll(order_url, ("ready", "valid"), what="order")
    assert order["status"] == "ready", order
    return order, order_url


# ------------------------------------------------------------- accounts


def test_new_account_with_eab(stack, mint_eab):
    c = client(stack)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    assert r.headers.get("Location", "").startswith(stack.base_url + "/acme/")
    assert r.headers.get("Replay-Nonce")
    body = r.json()
    assert body.get("status") == "valid", body
    assert body.get("contact") == ["mailto:admin@demo.test"], body
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200, r.text
    assert r.json().get("status") == "valid", r.text


def test_new_account_ec_key(stack, mint_eab):
    c = client(stack, key=acmeclient.new_ec_key())
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    assert isinstance(c.key, ec.EllipticCurvePrivateKey)


def test_new_account_without_eab(stack):
    c = client(stack)
    r = c.new_account()
    assert_problem(r, "externalAccountRequired")


def test_eab_wrong_hmac(stack, mint_eab):
    c = client(stack)
    kid, _ = mint_eab()
    wrong = acmeclient.b64u(b"\x01" * 32)
    r = c.new_account(eab=(kid, wrong))
    assert_problem(r, "unauthorized")


def test_eab_unknown_kid(stack):
    c = client(stack)
    r = c.new_account(eab=("6136f1b5-39c8-4417-b8a7-c4114b092be6",
                           acmeclient.b64u(b"\x02" * 32)))
    assert_problem(r, "unauthorized")


def test_eab_signed_over_another_key(stack, mint_eab):
    """The EAB payload must be the account key being registered."""
    c = client(stack)
    other = acmeclient.new_rsa_key()
    kid, hmac_key = mint_eab()
    r = c.new_account(eab_jws=c.eab(kid, hmac_key, key=other))
    assert_problem(r, ("unauthorized", "malformed"))


def test_eab_kid_reused(stack, mint_eab):
    cred = mint_eab()
    first = client(stack)
    r = first.new_account(eab=cred)
    assert r.status_code == 201, r.text
    second = client(stack)
    r = second.new_account(eab=cred)
    assert_problem(r, "unauthorized")


def test_new_account_existing_key(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.account_url
    again = client(stack, key=c.key)
    r = again.new_account()
    assert r.status_code == 200, "HTTP %d %s" % (r.status_code, r.text)
    assert r.headers.get("Location") == url


def test_only_return_existing_known(stack, mint_eab):
    c = account(stack, mint_eab)
    again = client(stack, key=c.key)
    r = again.new_account(only_return_existing=True)
    assert r.status_code == 200, "HTTP %d %s" % (r.status_code, r.text)
    assert r.headers.get("Location") == c.account_url


def test_only_return_existing_unknown(stack):
    c = client(stack)
    r = c.new_account(only_return_existing=True)
    assert_problem(r, "accountDoesNotExist")


# ------------------------------------------------------------------ JWS


def test_reused_nonce(stack, mint_eab):
    c = account(stack, mint_eab)
    nonce = c.fresh_nonce()
    r = c.post_as_get(c.account_url, nonce=nonce)
    assert r.status_code == 200, r.text
    r = c.post_as_get(c.account_url, nonce=nonce)
    assert_problem(r, "badNonce", 400)
    assert r.headers["Replay-Nonce"] != nonce
    # the nonce handed out with the error is good
    r = c.post_as_get(c.account_url, nonce=r.headers["Replay-Nonce"])
    assert r.status_code == 200, r.text


def test_invented_nonce(stack, mint_eab):
    c = account(stack, mint_eab)
    r = c.post_as_get(c.account_url, nonce=acmeclient.b64u(b"\x00" * 32))
    assert_problem(r, "badNonce", 400)


def test_missing_nonce(stack, mint_eab):
    c = account(stack, mint_eab)
    r = c.post_as_get(c.account_url, drop=("nonce",))
    assert_problem(r, ("badNonce", "malformed"), 400)


def test_wrong_url(stack, mint_eab):
    c = account(stack, mint_eab)
    body = c.jws(c.directory["newOrder"], None)
    r = c.post_body(c.account_url, body)
    assert_problem(r, "unauthorized")


def test_url_from_host_header_not_trusted(stack, mint_eab):
    """The url is compared with base_url, not with the Host header."""
    c = account(stack, mint_eab)
    fake = c.account_url.replace("127.0.0.1", "localhost")
    body = c.jws(fake, None)
    r = c.session.post(c.account_url, data=json.dumps(body), headers={
        "Content-Type": "application/jose+json",
        "Host": fake.split("/")[2]}, timeout=30)
    assert_problem(r, "unauthorized")


def test_unknown_kid(stack, mint_eab):
    c = account(stack, mint_eab)
    base, last = c.account_url.rsplit("/", 1)
    if last.isdigit():
        other = str(int(last) + 987654321)
    else:
        other = acmeclient.b64u(b"\x07" * 16)[:len(last)] if last else "x"
    r = c.post_as_get(c.directory["newOrder"], kid=base + "/" + other)
    assert_problem(r, "accountDoesNotExist")


def test_alg_none(stack):
    c = client(stack)
    r = c.post(c.directory["newAccount"], {"termsOfServiceAgreed": True},
               alg="none", use_jwk=True)
    assert_problem(r, "badSignatureAlgorithm")


def test_alg_hs256_on_account_request(stack, mint_eab):
    c = account(stack, mint_eab)
    body = c.jws(c.account_url, None)
    hdr = json.loads(acmeclient.b64u_decode(body["protected"]))
    hdr["alg"] = "HS256"
    body["protected"] = acmeclient.b64u(json.dumps(hdr))
    r = c.post_body(c.account_url, body)
    assert_problem(r, "badSignatureAlgorithm")


def test_bad_signature(stack, mint_eab):
    c = account(stack, mint_eab)
    body = c.jws(c.account_url, None)
    sig = bytearray(acmeclient.b64u_decode(body["signature"]))
    sig[10] ^= 0xff
    body["signature"] = acmeclient.b64u(bytes(sig))
    r = c.post_body(c.account_url, body)
    assert_problem(r, ("malformed", "unauthorized"))


def test_wrong_content_type(stack, mint_eab):
    c = account(stack, mint_eab)
    r = c.post_body(c.account_url, c.jws(c.account_url, None),
                    content_type="application/json")
    assert_problem(r, "malformed", 415)


def test_jwk_and_kid_both(stack, mint_eab):
    c = account(stack, mint_eab)
    r = c.post_as_get(c.account_url,
                      protected={"jwk": acmeclient.jwk_of(c.key)})
    assert_problem(r, "malformed", 400)


def test_get_on_resource_refused(stack, mint_eab):
    c = account(stack, mint_eab)
    r = c.session.get(c.account_url, timeout=30)
    assert_problem(r, "malformed", 405)


def test_unknown_resource(stack):
    r = acmeclient.session(stack.tls_ca).get(
        stack.base_url + "/acme/no-such-thing", timeout=30)
    assert r.status_code == 404, r.text
    assert r.headers.get("Content-Type", "").startswith(
        "application/problem+json"), r.headers


def test_body_too_large(stack, mint_eab):
    c = account(stack, mint_eab)
    body = c.jws(c.account_url, {"contact": ["mailto:" + "a" * 70000
                                             + "@demo.test"]})
    r = c.post_body(c.account_url, body)
    assert r.status_code == 413, "HTTP %d %s" % (r.status_code, r.text[:300])


# --------------------------------------------------------------- orders


def test_order_and_authz_post_as_get(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("get"), uniq("get")]
    r = c.new_order(names)
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    assert order_url.startswith(stack.base_url + "/acme/")
    order = r.json()
    assert order["status"] == "pending", order
    assert sorted(i["value"] for i in order["identifiers"]) == sorted(names)
    assert len(order["authorizations"]) == 2, order
    assert order["finalize"].startswith(stack.base_url + "/acme/")
    assert "expires" in order, order

    r = c.post_as_get(order_url)
    assert r.status_code == 200, r.text
    assert r.json()["authorizations"] == order["authorizations"]

    seen = set()
    for authz_url in order["authorizations"]:
        r = c.post_as_get(authz_url)
        assert r.status_code == 200, r.text
        authz = r.json()
        assert authz["status"] == "pending", authz
        assert authz["identifier"]["type"] == "dns"
        seen.add(authz["identifier"]["value"])
        types = {ch["type"] for ch in authz["challenges"]}
        assert {"http-01", "dns-01"} <= types, authz
        for ch in authz["challenges"]:
            assert ch["status"] == "pending", ch
            assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", ch["token"]), ch
            r = c.post_as_get(ch["url"])
            assert r.status_code == 200, r.text
            assert r.json()["token"] == ch["token"]
            link = r.headers.get("Link", "")
            assert 'rel="up"' in link and authz_url in link, \
                "challenge without Link rel=up: %r" % link
    assert seen == set(names)


def test_other_account_cannot_read_order(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    r = c.new_order([uniq("own")])
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    other = account(stack, mint_eab)
    r = other.post_as_get(order_url)
    assert_problem(r, ("unauthorized", "malformed"))


def test_finalize_not_ready(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("early")]
    r = c.new_order(names)
    assert r.status_code == 201, r.text
    csr, _ = acmeclient.make_csr(names)
    r = c.finalize(r.json(), csr)
    assert_problem(r, "orderNotReady", 403)


def test_csr_names_differ(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("csr")]
    order, _ = ready_order(stack, c, names)
    csr, _ = acmeclient.make_csr(names + [uniq("extra")])
    assert_problem(c.finalize(order, csr), "badCSR")
    csr, _ = acmeclient.make_csr([uniq("other")])
    assert_problem(c.finalize(order, csr), "badCSR")


def test_csr_rsa_1024(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("weak")]
    order, _ = ready_order(stack, c, names)
    csr, _ = acmeclient.make_csr(names, bits=1024)
    assert_problem(c.finalize(order, csr), "badCSR")


def test_csr_account_key(stack, mint_eab, uniq):
    """A CSR for the account's own key is refused (RFC 8555 section 11.1)."""
    c = account(stack, mint_eab)
    names = [uniq("acctkey")]
    order, _ = ready_order(stack, c, names)
    csr, _ = acmeclient.make_csr(names, key=c.key)
    assert_problem(c.finalize(order, csr), ("badCSR", "badPublicKey"))


@pytest.mark.parametrize("bits", [2048, 3072])
def test_issue_http01(stack, mint_eab, uniq, bits):
    """The whole flow by hand; then the certificate and its profile."""
    c = account(stack, mint_eab)
    names = [uniq("own%d" % bits), uniq("alt")]
    order, order_url = ready_order(stack, c, names)
    csr, key = acmeclient.make_csr(names, bits=bits)
    r = c.finalize(order, csr)
    assert r.status_code == 200, "finalize: HTTP %d %s" % (r.status_code,
                                                          r.text)
    assert r.json()["status"] in ("processing", "valid"), r.text
    order = c.poll(order_url, ("valid",), what="order")
    assert order["status"] == "valid", order
    r = c.post_as_get(order["certificate"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == \
        "application/pem-certificate-chain", r.headers
    leaf = certcheck.check_certificate(r.content, acmeclient.key_pem(key),
                                       names, bits, stack.root_pem)
    certcheck.check_ov_profile(leaf)
    # finalizing again changes nothing (one certificate per order)
    csr2, _ = acmeclient.make_csr(names, bits=bits)
    r = c.finalize(order, csr2)
    assert_problem(r, "orderNotReady", 403)
    r = c.post_as_get(order_url)
    assert r.json()["certificate"] == order["certificate"]


def test_dns01_by_hand(stack, mint_eab, uniq):
    """dns-01 through BIND with nsupdate, the way hosting teams do it."""
    c = account(stack, mint_eab)
    name = uniq("txt")
    r = c.new_order([name])
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    authz_url = r.json()["authorizations"][0]
    authz = c.post_as_get(authz_url).json()
    ch = [x for x in authz["challenges"] if x["type"] == "dns-01"][0]
    value = acmeclient.b64u(hashlib.sha256(
        c.key_authorization(ch["token"]).encode()).digest())
    env = dict(stack.dns_env(), CERTBOT_DOMAIN=name, CERTBOT_VALIDATION=value,
               PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    hooks = stackmod.HOOKS
    subprocess.run(["sh", os.path.join(hooks, "createtxt.sh")], env=env,
                   check=True, capture_output=True)
    try:
        r = c.post(ch["url"], {})
        assert r.status_code == 200, r.text
        authz = c.poll(authz_url, ("valid",), what="authorization")
        assert authz["status"] == "valid", authz
        order = c.poll(order_url, ("ready",), what="order")
        assert order["status"] == "ready", order
    finally:
        subprocess.run(["sh", os.path.join(hooks, "cleantxt.sh")], env=env,
                       capture_output=True)


def test_http01_wrong_answer(stack, mint_eab, uniq):
    """A wrong key authorization makes the challenge and the order
    invalid, with the reason in the challenge's error."""
    c = account(stack, mint_eab)
    name = uniq("wrong")
    r = c.new_order([name])
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    authz_url = r.json()["authorizations"][0]
    authz = c.post_as_get(authz_url).json()
    ch = [x for x in authz["challenges"] if x["type"] == "http-01"][0]
    with Http01Responder(stack.http01_port) as web:
        web.tokens[ch["token"]] = ch["token"] + ".wrong"
        r = c.post(ch["url"], {})
        assert r.status_code == 200, r.text
        authz = c.poll(authz_url, ("valid",), what="authorization")
    assert authz["status"] == "invalid", authz
    ch = [x for x in authz["challenges"] if x["type"] == "http-01"][0]
    assert ch["status"] == "invalid", ch
    assert ch.get("error", {}).get("type") in (
        ERR + "incorrectResponse", ERR + "unauthorized"), ch
    order = c.post_as_get(order_url).json()
    assert order["status"] == "invalid", order

