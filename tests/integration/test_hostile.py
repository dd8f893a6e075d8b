"""Hostile inputs through nginx, and the worker's validation safety.

Each refusal is checked for its RFC 8555 problem type and HTTP status, and
for leaving no row behind: the counts of the tables a request could write
(accounts and their EAB binding, orders, authorizations, challenges,
certificates, the credit ledger) are the same before and after. Where a
refused request carried a fresh EAB credential, the same credential then
binds an account, so nothing was consumed either.

The refusals test_protocol.py already covers (reused or invented nonce,
wrong url, unknown kid, alg none, GET on a resource...) are not repeated
here; their hostile variants are.
"""

import base64
import contextlib
import datetime
import hashlib
import hmac
import http.server
import json
import math
import os
import socket
import ssl
import subprocess
import threading
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
)
from cryptography.x509.oid import NameOID

import acmeclient
from acmeclient import ERR, AcmeClient, Http01Responder, b64u, make_csr

# ------------------------------------------------------------- helpers

TABLES = {
    "account": "SELECT count(*) FROM account",
    "bound": "SELECT count(*) FROM acme_account WHERE hmac_key IS NULL",
    "orders": "SELECT count(*) FROM orders",
    "authz": "SELECT count(*) FROM authorization_",
    "challenge": "SELECT count(*) FROM challenge",
    "certificate": "SELECT count(*) FROM certificate",
    "ledger": "SELECT count(*) FROM credit_ledger",
}


def counts(stack):
    """The row counts of the tables a request could write."""
    sql = "SELECT " + ", ".join("(%s)" % q for q in TABLES.values())
    vals = stack.psql(sql).strip().split("|")
    return dict(zip(TABLES, (int(v) for v in vals)))


@contextlib.contextmanager
def no_rows(stack):
    """Asserts that the block wrote no row (see TABLES)."""
    before = counts(stack)
    yield
    after = counts(stack)
    assert after == before, "rows were written: before %s, after %s" % (
        before, after)


def assert_problem(r, kind, status):
    """Asserts r is a problem document of type kind (or one of a tuple)
    with the HTTP status, a Replay-Nonce and a detail; returns it."""
    what = "HTTP %d %s: %s" % (r.status_code, r.headers.get("Content-Type"),
                               r.text[:800])
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ct == "application/problem+json", "not a problem document: " + what
    assert r.headers.get("Replay-Nonce"), "no Replay-Nonce: " + what
    kinds = kind if isinstance(kind, tuple) else (kind,)
    doc = r.json()
    assert doc.get("type") in [ERR + k for k in kinds], \
        "expected %s, got %s" % (" or ".join(kinds), what)
    assert r.status_code == status, "expected HTTP %d, got %s" % (status,
                                                                 what)
    assert doc.get("status") in (None, status), what
    assert doc.get("detail"), "no detail: " + what
    return doc


def client(stack, key=None):
    return AcmeClient(stack.directory_url, stack.tls_ca, key=key)


def account(stack, mint_eab, key=None):
    c = client(stack, key)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, "newAccount: HTTP %d %s" % (r.status_code,
                                                             r.text)
    return c


def binds(stack, eab, key=None):
    """Asserts that the EAB credential still binds a new account."""
    c = client(stack, key)
    r = c.new_account(eab=eab)
    assert r.status_code == 201, "the credential no longer binds: HTTP " \
        "%d %s" % (r.status_code, r.text)
    return c


def jwk_full(key):
    """The public JWK of an RSA, P-256 or P-384 key (acmeclient's knows
    P-256 only)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return acmeclient.jwk_of(key)
    nums = key.public_key().public_numbers()
    size = key.curve.key_size // 8
    return {"crv": "P-%d" % key.curve.key_size, "kty": "EC",
            "x": b64u_raw(nums.x.to_bytes(size, "big")),
            "y": b64u_raw(nums.y.to_bytes(size, "big"))}


def alg_full(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    return "ES256" if key.curve.key_size == 256 else "ES384"


def account_any(stack, mint_eab, key):
    """A client with a fresh account of any key (P-384 included), made by
    hand."""
    c = client(stack, key=key)
    url = c.directory["newAccount"]
    kid, hmac_key = mint_eab()
    inner = raw_jws(acmeclient.b64u_decode(hmac_key), "HS256",
                    {"alg": "HS256", "kid": kid, "url": url}, jwk_full(key))
    hdr = {"alg": alg_full(key), "nonce": c.fresh_nonce(), "url": url,
           "jwk": jwk_full(key)}
    r = post_raw(c, url, raw_jws(key, alg_full(key), hdr, {
        "termsOfServiceAgreed": True, "externalAccountBinding": inner}))
    assert r.status_code == 201, r.text
    c.account_url = r.headers["Location"]
    return c


def b64u_raw(data):
    """base64url of raw bytes (acmeclient.b64u takes text too)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_raw(key, alg, data):
    """The JWS signature of data: RS256, ES256, ES384, or HS256 keyed
    with bytes."""
    if alg == "HS256":
        return hmac.new(key, data, hashlib.sha256).digest()
    if alg == "RS256":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    h, n = (hashes.SHA256(), 32) if alg == "ES256" else (hashes.SHA384(), 48)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def raw_jws(key, alg, header, payload, sig_alg=None):
    """A flattened JWS from a header given as text (duplicates and all)
    or a dict, signed over exactly what is sent."""
    if not isinstance(header, str):
        header = json.dumps(header)
    ph = b64u(header)
    if payload is None:
        pl = ""
    elif isinstance(payload, str):
        pl = b64u(payload)
    else:
        pl = b64u(json.dumps(payload))
    sig = sign_raw(key, sig_alg or alg, ("%s.%s" % (ph, pl)).encode())
    return {"protected": ph, "payload": pl, "signature": b64u_raw(sig)}


def post_raw(c, url, body, content_type="application/jose+json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return c.session.post(url, data=data, timeout=60,
                          headers={"Content-Type": content_type})


def new_account_payload(c, eab):
    kid, hmac_key = eab
    inner = raw_jws(acmeclient.b64u_decode(hmac_key), "HS256",
                    {"alg": "HS256", "kid": kid,
                     "url": c.directory["newAccount"]}, jwk_full(c.key))
    return {"termsOfServiceAgreed": True, "externalAccountBinding": inner}


def order_payload(names):
    return {"identifiers": [{"type": "dns", "value": n} for n in names]}


def account_jwk_header(c, url, alg=None, **extra):
    h = {"alg": acmeclient.alg_of(c.key) if alg is None else alg,
         "nonce": c.fresh_nonce(),
         "url": url, "jwk": jwk_full(c.key)}
    h.update(extra)
    return h


def kid_header(c, url, alg=None, **extra):
    h = {"alg": acmeclient.alg_of(c.key) if alg is None else alg,
         "nonce": c.fresh_nonce(),
         "url": url, "kid": c.account_url}
    h.update(extra)
    return h


def fire_together(stack, url, bodies):
    """POSTs the bodies to url at the same instant (one thread and session
    each); returns the responses in order."""
    results = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def fire(i):
        s = acmeclient.session(stack.tls_ca)
        s.get(stack.directory_url, timeout=30)  # connect first
        barrier.wait(30)
        results[i] = s.post(url if isinstance(url, str) else url[i],
                            data=json.dumps(bodies[i]), timeout=60,
                            headers={"Content-Type": "application/jose+json"})
    threads = [threading.Thread(target=fire, args=(i,))
               for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert all(r is not None for r in results), "a request did not answer"
    return results


def make_ready(stack, c, names):
    """A ready order of c for names (http-01); returns (order, url)."""
    r = c.post(c.directory["newOrder"], order_payload(names))
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    order = r.json()
    with Http01Responder(stack.http01_port) as web:
        for a in order["authorizations"]:
            az = c.post_as_get(a).json()
            ch = [x for x in az["challenges"] if x["type"] == "http-01"][0]
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
            assert c.post(ch["url"], {}).status_code == 200
        for a in order["authorizations"]:
            az = c.poll(a, ("valid",), what="authorization")
            assert az["status"] == "valid", az
    order = c.poll(url, ("ready",), what="order")
    assert order["status"] == "ready", order
    return order, url


# ---------------------------------------------------- transport, method


@pytest.mark.parametrize("ctype", [None, "", "application/json", "text/plain",
                                   "application/jose", "application/jose+json"
                                   "; charset=utf-8", "multipart/form-data"])
def test_content_type_refused(stack, mint_eab, ctype):
    eab = mint_eab()
    c = client(stack)
    body = c.jws(c.directory["newAccount"], new_account_payload(c, eab),
                 use_jwk=True)
    headers = {} if ctype is None else {"Content-Type": ctype}
    with no_rows(stack):
        r = c.session.post(c.directory["newAccount"], data=json.dumps(body),
                           headers=headers, timeout=30)
        assert_problem(r, "malformed", 415)
    binds(stack, eab)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("resource", ["newAccount", "newOrder", "revokeCert",
                                      "keyChange"])
def test_method_refused_on_post_resource(stack, method, resource):
    c = client(stack)
    with no_rows(stack):
        r = c.session.request(method, c.directory[resource], timeout=30)
        assert_problem(r, "malformed", 405)
    assert r.headers.get("Allow") == "POST", r.headers


def test_head_and_post_on_get_resource(stack):
    c = client(stack)
    r = c.session.head(c.directory["newAccount"], timeout=30)
    assert r.status_code == 405, r.status_code
    r = c.session.post(c.directory["newNonce"], data="{}", timeout=30,
                       headers={"Content-Type": "application/jose+json"})
    assert_problem(r, "malformed", 405)
    assert r.headers.get("Allow") == "GET, HEAD", r.headers


@pytest.mark.parametrize("size", [65537, 1024 * 1024])
def test_oversized_body(stack, mint_eab, size):
    """Over 64 KiB: refused before acme-fcgi reads it (nginx's
    client_max_body_size, then BODY_MAX), nothing written."""
    eab = mint_eab()
    c = client(stack)
    payload = new_account_payload(c, eab)
    payload["padding"] = "x" * size
    with no_rows(stack):
        r = c.post(c.directory["newAccount"], payload, use_jwk=True)
        assert r.status_code == 413, "HTTP %d %s" % (r.status_code,
                                                     r.text[:300])
    binds(stack, eab)


# -------------------------------------------------------- JWS structure


def test_jws_serializations_refused(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    good = c.jws(url, order_payload(["x.demo.test"]))
    compact = "%s.%s.%s" % (good["protected"], good["payload"],
                            good["signature"])
    general = {"payload": good["payload"], "signatures": [
        {"protected": good["protected"], "signature": good["signature"]}]}
    unprotected = dict(good, header={"kid": c.account_url})
    extra = dict(good, foo="bar")
    with no_rows(stack):
        doc = assert_problem(post_raw(c, url, compact), "malformed", 400)
        assert "compact" in doc["detail"], doc
        doc = assert_problem(post_raw(c, url, general), "malformed", 400)
        assert "signatures" in doc["detail"], doc
        doc = assert_problem(post_raw(c, url, unprotected), "malformed", 400)
        assert "header" in doc["detail"], doc
        assert_problem(post_raw(c, url, extra), "malformed", 400)
        for bad in ("[]", "null", '"x"', "{", ""):
            assert_problem(post_raw(c, url, bad), "malformed", 400)


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE", "", "RS512", "PS256",
                                 "EdDSA", "HS512"])
def test_unsupported_alg(stack, mint_eab, alg):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    hdr = kid_header(c, url, alg=alg)
    body = raw_jws(c.key, alg, hdr, order_payload(["x.demo.test"]),
                   sig_alg="RS256")
    with no_rows(stack):
        assert_problem(post_raw(c, url, body), "badSignatureAlgorithm", 400)


def test_alg_none_on_new_account(stack, mint_eab):
    eab = mint_eab()
    c = client(stack)
    url = c.directory["newAccount"]
    hdr = account_jwk_header(c, url, alg="none")
    body = {"protected": b64u(json.dumps(hdr)),
            "payload": b64u(json.dumps(new_account_payload(c, eab))),
            "signature": ""}
    with no_rows(stack):
        assert_problem(post_raw(c, url, body), "badSignatureAlgorithm", 400)
    binds(stack, eab)


def public_key_forms(key):
    """The byte strings an attacker would key HMAC with: the public key
    in PEM and DER, its JWK text, its modulus."""
    pub = key.public_key()
    pem = pub.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk = json.dumps(acmeclient.jwk_of(key), sort_keys=True,
                     separators=(",", ":")).encode()
    n = pub.public_numbers().n
    return [pem, der, jwk, n.to_bytes((n.bit_length() + 7) // 8, "big")]


def test_hs256_keyed_with_account_public_key(stack, mint_eab):
    """Algorithm confusion: HS256 whose MAC key is the account's public
    key, with kid (account requests) and with jwk (newAccount)."""
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    with no_rows(stack):
        for form in public_key_forms(c.key):
            body = raw_jws(form, "HS256", kid_header(c, url, alg="HS256"),
                           order_payload(["x.demo.test"]))
            assert_problem(post_raw(c, url, body), "badSignatureAlgorithm",
                           400)
    eab = mint_eab()
    fresh = client(stack)
    nurl = fresh.directory["newAccount"]
    with no_rows(stack):
        for form in public_key_forms(fresh.key):
            body = raw_jws(form, "HS256",
                           account_jwk_header(fresh, nurl, alg="HS256"),
                           new_account_payload(fresh, eab))
            assert_problem(post_raw(fresh, nurl, body),
                           "badSignatureAlgorithm", 400)
    binds(stack, eab, key=fresh.key)


def test_alg_does_not_match_key(stack, mint_eab):
    """ES256 with an RSA key or a P-384 key, ES384 with a P-256 key, RS256
    with an EC key: badSignatureAlgorithm, whatever the signature."""
    rsa_acct = account(stack, mint_eab)
    p384_acct = account_any(stack, mint_eab,
                            ec.generate_private_key(ec.SECP384R1()))
    p256_acct = account(stack, mint_eab, key=acmeclient.new_ec_key())
    url = rsa_acct.directory["newOrder"]
    cases = [
        (rsa_acct, "ES256", "RS256"),
        (p384_acct, "ES256", "ES384"),
        (p256_acct, "ES384", "ES256"),
        (p256_acct, "RS256", "ES256"),
    ]
    with no_rows(stack):
        for c, alg, really in cases:
            body = raw_jws(c.key, alg, kid_header(c, url, alg=alg),
                           order_payload(["x.demo.test"]), sig_alg=really)
            assert_problem(post_raw(c, url, body), "badSignatureAlgorithm",
                           400)
    # the same on newAccount, where the key comes with the request
    eab = mint_eab()
    fresh = client(stack, key=ec.generate_private_key(ec.SECP384R1()))
    nurl = fresh.directory["newAccount"]
    hdr = account_jwk_header(fresh, nurl, alg="ES256",
                             jwk=jwk_full(fresh.key))
    body = raw_jws(fresh.key, "ES256", hdr, new_account_payload(fresh, eab),
                   sig_alg="ES384")
    with no_rows(stack):
        assert_problem(post_raw(fresh, nurl, body), "badSignatureAlgorithm",
                       400)
    binds(stack, eab)


def test_jwk_kid_placement(stack, mint_eab):
    c = account(stack, mint_eab)
    # kid on newAccount (with or without jwk)
    eab = mint_eab()
    fresh = client(stack)
    nurl = fresh.directory["newAccount"]
    with no_rows(stack):
        r = fresh.post(nurl, new_account_payload(fresh, eab),
                       kid=c.account_url)
        assert_problem(r, "malformed", 400)
        r = fresh.post(nurl, new_account_payload(fresh, eab), use_jwk=True,
                       protected={"kid": c.account_url})
        assert_problem(r, "malformed", 400)
        # jwk on newOrder, by the account's own key
        r = c.post(c.directory["newOrder"], order_payload(["x.demo.test"]),
                   use_jwk=True)
        assert_problem(r, "malformed", 400)
        # neither
        r = c.post(c.directory["newOrder"], order_payload(["x.demo.test"]),
                   drop=("kid",))
        assert_problem(r, "malformed", 400)
        # jwk not an object, kid not a string
        r = c.post(c.directory["newOrder"], order_payload(["x.demo.test"]),
                   protected={"kid": 42})
        assert_problem(r, "malformed", 400)
        r = fresh.post(nurl, new_account_payload(fresh, eab), use_jwk=True,
                       protected={"jwk": "key"})
        assert_problem(r, "malformed", 400)
    binds(stack, eab, key=fresh.key)


# --------------------------------------------------------------- nonces


def test_hostile_nonces(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    good = c.fresh_nonce()
    # a nonce with a URL-safe character, so that its standard-base64 twin
    # differs from it (a nonce without one would be sent as is, and used)
    while "-" not in good and "_" not in good:
        good = c.fresh_nonce()
    with no_rows(stack):
        for nonce, kind in [
                (good[:-4], "badNonce"),                  # truncated
                (good + "AAAA", "badNonce"),              # lengthened
                (good[:-1] + ("A" if good[-1] != "A" else "B"), "badNonce"),
                (good + "=", "badNonce"),                  # padded
                ("A" * 10000, "badNonce"),                 # huge
                ("", "badNonce"),
                (good.replace("-", "+").replace("_", "/"), "badNonce"),
        ]:
            r = c.post(url, order_payload(["x.demo.test"]), nonce=nonce)
            assert_problem(r, kind, 400)
        for value in (42, None, [good], {"n": good}, True):
            r = c.post(url, order_payload(["x.demo.test"]),
                       protected={"nonce": value})
            assert_problem(r, ("malformed", "badNonce"), 400)
    # the untouched nonce is still good
    r = c.post(url, order_payload(["nonce-ok.demo.test"]), nonce=good)
    assert r.status_code == 201, r.text


def test_same_nonce_concurrently(stack, mint_eab, uniq):
    """The same nonce in two requests at once: exactly one is accepted."""
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    for _ in range(4):
        nonce = c.fresh_nonce()
        bodies = [c.jws(url, order_payload([uniq("race")]), nonce=nonce)
                  for _ in range(2)]
        before = counts(stack)["orders"]
        results = fire_together(stack, url, bodies)
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 400], [(r.status_code, r.text[:200])
                                     for r in results]
        loser = [r for r in results if r.status_code == 400][0]
        assert_problem(loser, "badNonce", 400)
        assert counts(stack)["orders"] == before + 1


# ----------------------------------------------------------------- url


def test_hostile_urls(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    base = stack.base_url
    host_port = base.split("://", 1)[1]
    wrong = [
        url.replace("https://", "http://"),               # other scheme
        url + "/",                                          # trailing slash
        url.replace("new-order", "new%2Dorder"),           # percent-encoded
        url.replace("/acme/", "/ACME/"),
        url.replace(host_port, "localhost:%s" % host_port.split(":")[1]),
        url.replace(host_port, host_port.split(":")[0]),   # port dropped
        url + "?x=1",
        url + "#frag",
        " " + url,
        url.upper(),
        "",
    ]
    with no_rows(stack):
        for u in wrong:
            body = c.jws(u, order_payload(["x.demo.test"]))
            assert_problem(post_raw(c, url, body), "unauthorized", 403)
        for value in (42, None, [url], {"url": url}, True, url + "\u0000"):
            r = c.post(url, order_payload(["x.demo.test"]),
                       protected={"url": value})
            assert_problem(r, "malformed", 400)
        r = c.post(url, order_payload(["x.demo.test"]), drop=("url",))
        assert_problem(r, "malformed", 400)


# ---------------------------------------------------------------- kid


def test_kid_of_another_account(stack, mint_eab):
    """kid of account A, signed by account B's key: the signature does
    not verify with A's key."""
    a = account(stack, mint_eab)
    b = account(stack, mint_eab)
    url = a.directory["newOrder"]
    with no_rows(stack):
        r = b.post(url, order_payload(["x.demo.test"]), kid=a.account_url)
        assert_problem(r, "malformed", 400)
        r = b.post_as_get(a.account_url, kid=a.account_url)
        assert_problem(r, "malformed", 400)
        # and B's kid on A's account resource, properly signed by B
        r = b.post_as_get(a.account_url)
        assert_problem(r, "unauthorized", 403)


def test_malformed_kid(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    prefix = stack.base_url + "/acme/acct/"
    kids = ["", "1", "not a url", prefix, prefix + "0", prefix + "-1",
            prefix + "01", prefix + "1x", prefix + "1/", prefix + " 1",
            prefix + "9" * 40, prefix + "99999999999999999",
            prefix.replace("https", "http") + "1",
            "https://other.example/acme/acct/1",
            c.account_url + "/orders", c.account_url + "?x",
            c.account_url.upper()]
    with no_rows(stack):
        for kid in kids:
            r = c.post(url, order_payload(["x.demo.test"]),
                       protected={"kid": kid})
            assert_problem(r, ("accountDoesNotExist", "malformed"), 400)


# -------------------------------------------------- the JWS, byte level


def test_duplicate_header_members(stack, mint_eab):
    """A protected header with a member twice is malformed, whichever
    copy is good (json-c alone would keep the last one)."""
    a = account(stack, mint_eab)
    b = account(stack, mint_eab)
    url = a.directory["newOrder"]
    alg = acmeclient.alg_of(a.key)

    def hdr(*members):
        return "{" + ",".join('"%s":%s' % (k, json.dumps(v))
                              for k, v in members) + "}"
    headers = [
        hdr(("alg", "none"), ("alg", alg), ("nonce", a.fresh_nonce()),
            ("url", url), ("kid", a.account_url)),
        hdr(("alg", alg), ("nonce", a.fresh_nonce()), ("url", "https://x/"),
            ("url", url), ("kid", a.account_url)),
        hdr(("alg", alg), ("nonce", "stale"), ("nonce", a.fresh_nonce()),
            ("url", url), ("kid", a.account_url)),
        hdr(("alg", alg), ("nonce", a.fresh_nonce()), ("url", url),
            ("kid", b.account_url), ("kid", a.account_url)),
        hdr(("alg", alg), ("nonce", a.fresh_nonce()), ("url", url),
            ("kid", a.account_url), ("k\\u0069d", a.account_url)),
        hdr(("alg", alg), ("nonce", a.fresh_nonce()), ("url", url),
            ("kid", a.account_url)).replace('"', "'"),
    ]
    with no_rows(stack):
        for h in headers:
            body = raw_jws(a.key, alg, h, order_payload(["x.demo.test"]))
            assert_problem(post_raw(a, url, body), "malformed", 400)
        # duplicates in the payload too
        body = raw_jws(a.key, alg, kid_header(a, url),
                       '{"identifiers":[],"identifiers":[{"type":"dns",'
                       '"value":"x.demo.test"}]}')
        assert_problem(post_raw(a, url, body), "malformed", 400)


def noncanonical(s):
    """Another base64url spelling of the same bytes: the unused low bits
    of the last character set (None if the length leaves none)."""
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")
    if len(s) % 4 not in (2, 3):
        return None
    v = alphabet.index(s[-1])
    mask = 0x0f if len(s) % 4 == 2 else 0x03
    return s[:-1] + alphabet[v | mask]


def test_noncanonical_base64url(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    alg = acmeclient.alg_of(c.key)
    with no_rows(stack):
        for part in ("protected", "payload"):
            for _ in range(10):
                hdr = kid_header(c, url)
                ph = b64u(json.dumps(hdr))
                pl = b64u(json.dumps(order_payload(["x.demo.test"])))
                if part == "protected":
                    ph = noncanonical(ph)
                else:
                    pl = noncanonical(pl)
                if ph is not None and pl is not None:
                    break
            assert ph is not None and pl is not None
            # signed over the odd spelling: only the encoding is wrong
            sig = sign_raw(c.key, alg, ("%s.%s" % (ph, pl)).encode())
            body = {"protected": ph, "payload": pl,
                    "signature": b64u_raw(sig)}
            assert_problem(post_raw(c, url, body), "malformed", 400)
        for spoil in (lambda s: s + "=", lambda s: s + "==",
                      lambda s: s.replace("-", "+").replace("_", "/") + "+/",
                      lambda s: s[:-1] if len(s) % 4 == 2 else s + "A",
                      lambda s: s + " ", lambda s: s + "\n"):
            body = c.jws(url, order_payload(["x.demo.test"]))
            body["signature"] = spoil(body["signature"])
            assert_problem(post_raw(c, url, body), "malformed", 400)
            body = c.jws(url, order_payload(["x.demo.test"]))
            body["protected"] = spoil(body["protected"])
            assert_problem(post_raw(c, url, body), "malformed", 400)


def test_ecdsa_signature_forms(stack, mint_eab):
    """ES256 signatures are r||s of 64 bytes: DER, all-zero, r = 0 or
    s = 0, the order n, and other lengths are refused."""
    c = account(stack, mint_eab, key=acmeclient.new_ec_key())
    url = c.directory["newOrder"]
    n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
    with no_rows(stack):
        body = c.jws(url, order_payload(["x.demo.test"]))
        data = ("%s.%s" % (body["protected"], body["payload"])).encode()
        der = c.key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sigs = [der, bytes(64), bytes(32) + s.to_bytes(32, "big"),
                r.to_bytes(32, "big") + bytes(32),
                n.to_bytes(32, "big") + s.to_bytes(32, "big"),
                r.to_bytes(32, "big") + s.to_bytes(32, "big") + b"\0",
                r.to_bytes(32, "big") + s.to_bytes(32, "big")[:-1],
                bytes(1)]
        for sig in sigs:
            body["signature"] = b64u_raw(sig)
            assert_problem(post_raw(c, url, body), "malformed", 400)
            body = c.jws(url, order_payload(["x.demo.test"]))
            data = ("%s.%s" % (body["protected"], body["payload"])).encode()
        # the proper form with a fresh nonce works (the control)
        good = c.jws(url, order_payload(["ecdsa-ok.demo.test"]))
    r = post_raw(c, url, good)
    assert r.status_code == 201, r.text


# --------------------------------------------------------- account keys


def rsa_jwk(n, e):
    def enc(v):
        return b64u_raw(v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big"))
    return {"kty": "RSA", "n": enc(n), "e": enc(e)}


def is_probable_prime(n, rounds=32):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(int.from_bytes(os.urandom(8), "big") % (n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def roca_key():
    """A 2048-bit RSA key of the ROCA family (CVE-2017-15361): primes
    k * M + (65537^a mod M), M the product of the primes up to 167."""
    m = 1
    for p in range(2, 168):
        if all(p % d for d in range(2, int(p ** 0.5) + 1)):
            m *= p
    lo = math.isqrt(1 << 2047) + 1

    def prime():
        while True:
            k = int.from_bytes(os.urandom(101), "big") >> 3 | (1 << 804)
            a = int.from_bytes(os.urandom(3), "big") + 1
            p = k * m + pow(65537, a, m)
            if lo <= p < (1 << 1024) and is_probable_prime(p):
                return p
    p, q = prime(), prime()
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1),
                                 pow(q, -1, p), pub).private_key()


def weak_keys():
    """(what, JWK, signing key or None, alg) of keys newAccount refuses."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ok = acmeclient.new_rsa_key()
    e3 = rsa.generate_private_key(public_exponent=3, key_size=2048)
    p256 = acmeclient.new_ec_key()
    big_n = (1 << 8191) | int.from_bytes(os.urandom(1023), "big") | 1
    nums = p256.public_key().public_numbers()
    off = acmeclient.jwk_of(p256)
    off["y"] = b64u_raw(((nums.y + 1) % (1 << 256)).to_bytes(32, "big"))
    roca = roca_key()
    keys = [
        ("ROCA", acmeclient.jwk_of(roca), roca, "RS256"),
        ("RSA 1024", acmeclient.jwk_of(small), small, "RS256"),
        ("RSA 8192", rsa_jwk(big_n, 65537), None, "RS256"),
        ("e = 3", acmeclient.jwk_of(e3), e3, "RS256"),
        ("e = 1", rsa_jwk(ok.public_key().public_numbers().n, 1), None,
         "RS256"),
        ("e even", rsa_jwk(ok.public_key().public_numbers().n, 65538),
         None, "RS256"),
        ("n even", rsa_jwk(ok.public_key().public_numbers().n + 1, 65537),
         None, "RS256"),
        ("EC point off the curve", off, None, "ES256"),
        ("EC point at zero", dict(acmeclient.jwk_of(p256),
                                  x=b64u_raw(bytes(32)),
                                  y=b64u_raw(bytes(32))), None, "ES256"),
        ("EC P-521", dict(acmeclient.jwk_of(p256), crv="P-521"), None,
         "ES256"),
        ("private member d", dict(acmeclient.jwk_of(p256),
                                  d=b64u_raw(p256.private_numbers()
                                             .private_value
                                             .to_bytes(32, "big"))),
         p256, "ES256"),
        ("private member p", dict(acmeclient.jwk_of(ok), p="AQAB"), ok,
         "RS256"),
        ("symmetric", {"kty": "oct", "k": b64u_raw(os.urandom(32))}, None,
         "HS256"),
        ("OKP", {"kty": "OKP", "crv": "Ed25519",
                 "x": b64u_raw(os.urandom(32))}, None, "EdDSA"),
    ]
    return keys


def test_weak_account_keys(stack, mint_eab):
    eab = mint_eab()
    for what, jwk, key, alg in weak_keys():
        c = client(stack, key=key or acmeclient.new_rsa_key())
        url = c.directory["newAccount"]
        hdr = {"alg": alg, "nonce": c.fresh_nonce(), "url": url, "jwk": jwk}
        payload = {"termsOfServiceAgreed": True,
                   "externalAccountBinding": c.eab(*eab)}
        ph = b64u(json.dumps(hdr))
        pl = b64u(json.dumps(payload))
        data = ("%s.%s" % (ph, pl)).encode()
        if key is not None and alg in ("RS256", "ES256"):
            sig = sign_raw(key, alg, data)
        else:
            sig = os.urandom(64 if alg != "RS256" else 256)
        body = {"protected": ph, "payload": pl, "signature": b64u_raw(sig)}
        with no_rows(stack):
            r = post_raw(c, url, body)
            doc = r.json()
            assert doc.get("type") in (ERR + "badPublicKey",
                                       ERR + "badSignatureAlgorithm"), \
                "%s: HTTP %d %s" % (what, r.status_code, r.text)
            assert r.status_code == 400, (what, r.text)
            if what == "ROCA":
                assert "ROCA" in doc["detail"], doc
    binds(stack, eab)


# ------------------------------------------------------------------ EAB


def eab_jws(c, kid, hmac_key, header=None, payload=None, alg="HS256",
            sign_key=None):
    """An EAB inner JWS with header and payload overrides."""
    hdr = {"alg": alg, "kid": kid, "url": c.directory["newAccount"]}
    hdr.update(header or {})
    pl = payload if payload is not None else acmeclient.jwk_of(c.key)
    mac_key = acmeclient.b64u_decode(hmac_key)
    return raw_jws(sign_key or mac_key, alg, hdr, pl)


def test_hostile_eab(stack, mint_eab):
    kid, key = eab = mint_eab()
    other_kid, other_key = mint_eab()
    c = client(stack)
    url = c.directory["newAccount"]
    attacker = acmeclient.new_rsa_key()
    cases = [
        ("ES256 inner JWS", eab_jws(c, kid, key, alg="ES256",
                                    sign_key=acmeclient.new_ec_key()),
         ("badSignatureAlgorithm", "malformed"), 400),
        ("RS256 with the account key", eab_jws(c, kid, key, alg="RS256",
                                               sign_key=c.key),
         ("badSignatureAlgorithm", "malformed"), 400),
        ("with a nonce", eab_jws(c, kid, key,
                                 header={"nonce": c.fresh_nonce()}),
         "malformed", 400),
        ("with a jwk", eab_jws(c, kid, key,
                               header={"jwk": acmeclient.jwk_of(c.key)}),
         "malformed", 400),
        ("another url", eab_jws(c, kid, key,
                                header={"url": c.directory["newOrder"]}),
         "unauthorized", 403),
        ("key mismatch", eab_jws(c, kid, key,
                                 payload=acmeclient.jwk_of(attacker)),
         "unauthorized", 403),
        ("another kid's MAC key", eab_jws(c, kid, other_key),
         "unauthorized", 403),
        ("kid not a UUID", eab_jws(c, "../" + kid, key), "unauthorized",
         403),
        ("duplicate kid", {"protected": b64u(
            '{"alg":"HS256","kid":"%s","kid":"%s","url":"%s"}' % (
                other_kid, kid, url)), "payload": b64u(json.dumps(
                    acmeclient.jwk_of(c.key))), "signature": "AAAA"},
         "malformed", 400),
        ("not a JWS", "%s" % kid, ("malformed", "externalAccountRequired"),
         401),
    ]
    for what, inner, kind, status in cases:
        payload = {"termsOfServiceAgreed": True,
                   "externalAccountBinding": inner}
        with no_rows(stack):
            r = c.post(url, payload, use_jwk=True)
            doc = r.json()
            kinds = kind if isinstance(kind, tuple) else (kind,)
            assert doc.get("type") in [ERR + k for k in kinds] and \
                r.status_code in (400, 401, 403), "%s: HTTP %d %s" % (
                    what, r.status_code, r.text)
            if status != 400:
                assert r.status_code == status, (what, r.text)
    binds(stack, eab, key=c.key)
    binds(stack, (other_kid, other_key))


def test_eab_bound_twice_in_parallel(stack, mint_eab):
    """Two keys race to bind one credential: exactly one account."""
    for _ in range(3):
        kid, key = mint_eab()
        a, b = client(stack), client(stack)
        bodies = []
        for c in (a, b):
            payload = {"termsOfServiceAgreed": True,
                       "externalAccountBinding": c.eab(kid, key)}
            bodies.append(c.jws(c.directory["newAccount"], payload,
                                use_jwk=True))
        before = counts(stack)
        results = fire_together(stack, a.directory["newAccount"], bodies)
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 403], [(r.status_code, r.text[:200])
                                     for r in results]
        assert_problem([r for r in results if r.status_code == 403][0],
                       "unauthorized", 403)
        after = counts(stack)
        assert after["account"] == before["account"] + 1
        assert after["bound"] == before["bound"] + 1
        rows = stack.psql("SELECT count(*) FROM account a JOIN acme_account "
                          "e ON e.id = a.acme_account_id WHERE e.kid = '%s'"
                          % kid)
        assert rows.strip() == "1", rows


# ------------------------------------------------------------- newOrder


def test_hostile_identifiers(stack, mint_eab):
    c = account(stack, mint_eab)
    url = c.directory["newOrder"]
    many = [{"type": "dns", "value": "n%d.demo.test" % i} for i in range(101)]
    cases = [
        ({}, "malformed", 400),
        ({"identifiers": []}, "malformed", 400),
        ({"identifiers": many}, "malformed", 400),
        ({"identifiers": "x.demo.test"}, "malformed", 400),
        ({"identifiers": [{"type": "dns"}]}, "malformed", 400),
        ({"identifiers": [{"value": "x.demo.test"}]}, "malformed", 400),
        ({"identifiers": [{"type": "dns", "value": 7}]}, "malformed", 400),
        ({"identifiers": [{"type": "dns", "value": "x.demo.test",
                           "extra": 1}]}, "malformed", 400),
        ({"identifiers": ["x.demo.test"]}, "malformed", 400),
        ({"identifiers": [{"type": "ip", "value": "127.0.0.1"}]},
         ("unsupportedIdentifier", "rejectedIdentifier"), 400),
        ({"identifiers": [{"type": "email", "value": "a@demo.test"}]},
         ("unsupportedIdentifier", "rejectedIdentifier"), 400),
        ({"identifiers": [{"type": "DNS", "value": "x.demo.test"}]},
         ("unsupportedIdentifier", "malformed"), 400),
        ({"identifiers": [{"type": "dns", "value": "x.demo.test"}],
          "notAfter": "2030-01-01T00:00:00Z"}, "malformed", 400),
    ]
    with no_rows(stack):
        for payload, kind, status in cases:
            r = c.post(url, payload)
            assert_problem(r, kind, status)
        r = c.post(url, "not json")
        assert_problem(r, "malformed", 400)
        r = c.post(url, None)
        assert_problem(r, "malformed", 400)


@pytest.mark.parametrize("bad", [
    "*.*.x.demo.test", "x.*.demo.test", "*x.demo.test", "x*.demo.test",
    "*", "*.", "**.demo.test", "*.demo.test.", "x.demo.test.",
    ".x.demo.test", "a" * 64 + ".demo.test",
    ".".join(["a" * 60] * 4) + ".x.demo.test",
    "a_b.demo.test", "a b.demo.test", "a-.demo.test", "\u00e9t\u00e9.demo.test",
    "x.demo.test\u0000", "xn--.demo.test", "XN--ZZ.demo.test", "[::1]",
    "1.2.3.4", "0x7f.0.0.1", "x.demo.123", "*.test", "x.demo.test/a",
    "x.demo.test:443", "@x.demo.test",
])
def test_invalid_names(stack, mint_eab, bad):
    c = account(stack, mint_eab)
    with no_rows(stack):
        r = c.post(c.directory["newOrder"], order_payload([bad]))
        doc = assert_problem(r, ("rejectedIdentifier", "malformed"), 400)
        if doc["type"] == ERR + "rejectedIdentifier":
            assert doc.get("code") in ("INVALID_DOMAIN",
                                       "INVALID_PROFILE_FOR_WILDCARD",
                                       "DOMAIN_NOT_FOUND"), doc


# ------------------------------------------------------------- finalize


def test_finalize_twice_in_parallel(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("fin2")]
    order, url = make_ready(stack, c, names)
    bodies = [c.jws(order["finalize"], {"csr": b64u_raw(make_csr(names)[0])},
                    nonce=c.fresh_nonce()) for _ in range(2)]
    before = counts(stack)
    results = fire_together(stack, order["finalize"], bodies)
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 403], [(r.status_code, r.text[:200])
                                 for r in results]
    assert_problem([r for r in results if r.status_code == 403][0],
                   "orderNotReady", 403)
    final = c.poll(url, ("valid",), what="order")
    assert final["status"] == "valid", final
    after = counts(stack)
    assert after["certificate"] == before["certificate"] + 1
    assert after["ledger"] == before["ledger"] + 1
    n = stack.psql("SELECT count(*) FROM certificate WHERE order_id = '%s'"
                   % url.rsplit("/", 1)[1])
    assert n.strip() == "1"


def der_tlv(data, off):
    """(tag, header length, content length) of the DER element at off."""
    tag = data[off]
    n = data[off + 1]
    if n < 0x80:
        return tag, 2, n
    k = n & 0x7f
    return tag, 2 + k, int.from_bytes(data[off + 2:off + 2 + k], "big")


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def csr_resign(der, key, patch=None, digest=hashes.SHA256()):
    """Rebuilds a CSR: its certificationRequestInfo patched (a function of
    the bytes), signed again with key (RSA, PKCS#1 v1.5)."""
    _, h, _ = der_tlv(der, 0)
    _, ih, il = der_tlv(der, h)
    info = der[h:h + ih + il]
    _, ah, al = der_tlv(der, h + ih + il)
    algid = der[h + ih + il:h + ih + il + ah + al]
    if patch is not None:
        info = patch(info)
    sig = key.sign(info, padding.PKCS1v15(), digest)
    bits = b"\x03" + der_len(len(sig) + 1) + b"\x00" + sig
    body = info + algid + bits
    return b"\x30" + der_len(len(body)) + body


def test_hostile_csrs(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    names = [uniq("csr"), uniq("csr2")]
    order, url = make_ready(stack, c, names)
    other = account(stack, mint_eab)
    good, key = make_csr(names)
    # a name spelled with a NUL (same length, then signed again)
    placeholder = names[1]
    nul_name = placeholder[:3] + "\x00" + placeholder[4:]
    with_nul = csr_resign(good, key, lambda info: info.replace(
        placeholder.encode(), nul_name.encode()))
    email = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    ).add_extension(x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in names] + [x509.RFC822Name("a@demo.test")]),
        critical=False).sign(key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)
    bad_sig = bytearray(good)
    bad_sig[-5] ^= 0x55
    sha1 = csr_resign(good, key, lambda info: info, digest=hashes.SHA1())
    # a SHA-1 signature must also say so in its algorithm identifier
    sha1 = sha1.replace(bytes.fromhex("2a864886f70d01010b"),
                        bytes.fromhex("2a864886f70d010105"))
    cases = [
        ("missing name", make_csr(names[:1])[0]),
        ("extra name", make_csr(names + [uniq("x")])[0]),
        ("account key", make_csr(names, key=c.key)[0]),
        ("SHA-1", sha1),
        ("bad signature", bytes(bad_sig)),
        ("e-mail SAN", email),
        ("embedded NUL", with_nul),
        ("trailing bytes", good + b"\x00"),
        ("trailing DER", good + b"\x05\x00"),
        ("RSA 1024", make_csr(names, bits=1024)[0]),
        ("ROCA key", make_csr(names, key=roca_key())[0]),
        ("EC key", x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([])).add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]), critical=False).sign(
                    acmeclient.new_ec_key(), hashes.SHA256()).public_bytes(
                        serialization.Encoding.DER)),
        ("not DER", b"hello"),
        ("empty", b""),
    ]
    with no_rows(stack):
        for what, der in cases:
            r = c.finalize(order, der)
            doc = r.json()
            assert doc.get("type") in (ERR + "badCSR", ERR + "malformed") \
                and r.status_code == 400, "%s: HTTP %d %s" % (
                    what, r.status_code, r.text)
            if what not in ("empty",):
                assert doc["type"] == ERR + "badCSR", (what, doc)
            if what == "ROCA key":
                assert "ROCA" in doc["detail"], doc
        std = base64.b64encode(good).decode()
        for csr_value in [None, 42, b64u_raw(good) + "=", b64u_raw(good) +
                          " "] + ([std] if set(std) & set("+/=") else []):
            r = c.post(order["finalize"], {"csr": csr_value})
            assert_problem(r, "malformed", 400)
        # another account's order is not found, and stays ready
        r = other.finalize(order, make_csr(names)[0])
        assert_problem(r, "malformed", 404)
    assert c.post_as_get(url).json()["status"] == "ready"
    # the good request still goes through (and the order ends valid)
    r = c.finalize(order, good)
    assert r.status_code == 200, r.text
    assert c.poll(url, ("valid",), what="order")["status"] == "valid"


# ----------------------------------------------------------- challenges


def test_parallel_challenge_responses(stack, mint_eab, uniq):
    """Two responses to one challenge at once: one validation."""
    c = account(stack, mint_eab)
    name = uniq("chal2")
    r = c.post(c.directory["newOrder"], order_payload([name]))
    assert r.status_code == 201, r.text
    authz_url = r.json()["authorizations"][0]
    az = c.post_as_get(authz_url).json()
    ch = [x for x in az["challenges"] if x["type"] == "http-01"][0]
    bodies = [c.jws(ch["url"], {}, nonce=c.fresh_nonce()) for _ in range(2)]
    with Http01Responder(stack.http01_port) as web:
        web.tokens[ch["token"]] = c.key_authorization(ch["token"])
        results = fire_together(stack, ch["url"], bodies)
        for res in results:
            assert res.status_code == 200, res.text
        az = c.poll(authz_url, ("valid",), what="authorization")
    assert az["status"] == "valid", az
    hits = [p for p in web.requests if ch["token"] in p]
    assert len(hits) == 1, "validated %d times: %s" % (len(hits), hits)
    row = stack.psql("SELECT status, attempts FROM challenge WHERE id = '%s'"
                     % ch["url"].rsplit("/", 1)[1]).strip()
    assert row == "valid|1", row


# --------------------------------------------- http-01 validation safety


def nsupdate(stack, *commands):
    """Sends a dynamic update to the stack's BIND (TSIG-signed)."""
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (
        stack.dns_port, stack.zone, "\n".join(commands))
    subprocess.run(["nsupdate", "-k", stack.tsig_key], input=script.encode(),
                   check=True, capture_output=True, timeout=30)


def challenge_of(c, name, kind):
    """(authorization URL, challenge) of a fresh order for name."""
    r = c.post(c.directory["newOrder"], order_payload([name]))
    assert r.status_code == 201, r.text
    authz_url = r.json()["authorizations"][0]
    az = c.post_as_get(authz_url).json()
    return authz_url, [x for x in az["challenges"] if x["type"] == kind][0]


def validate(c, authz_url, ch):
    """Responds to the challenge; returns (authorization, challenge)
    once decided."""
    r = c.post(ch["url"], {})
    assert r.status_code == 200, r.text
    az = c.poll(authz_url, ("valid",), what="authorization")
    return az, [x for x in az["challenges"] if x["url"] == ch["url"]][0]


class Redirector:
    """An HTTP server on the http-01 port answering every request with a
    fixed status and Location (by token), or the key authorization."""

    def __init__(self, port):
        self.routes = {}
        self.requests = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                me.requests.append(self.path)
                route = me.routes.get(self.path.rsplit("/", 1)[-1])
                if route is None:
                    self.send_error(404)
                    return
                status, value = route
                self.send_response(status)
                if status in range(300, 400):
                    self.send_header("Location", value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = value.encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                      Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@contextlib.contextmanager
def https_server(stack, routes, workdir, min_version=None):
    """A TLS server (self-signed, TLS 1.2+) on the stack's http01 https
    port, serving routes {token: body} like Redirector."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other.name")])
    now = time.time()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(datetime.datetime.utcfromtimestamp(now - 60))
            .not_valid_after(datetime.datetime.utcfromtimestamp(now + 3600))
            .sign(key, hashes.SHA256()))
    certfile = os.path.join(workdir, "tls.pem")
    with open(certfile, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = min_version or ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile)
    seen = {"sni": [], "requests": []}

    def sni(sock, server_name, context):
        seen["sni"].append(server_name)
    ctx.sni_callback = sni
    srv = Redirector(stack.http01_https_port)
    srv.routes = routes
    srv.server.socket = ctx.wrap_socket(srv.server.socket, server_side=True)
    with srv:
        yield seen, srv


def test_http01_redirect_to_https(stack, mint_eab, uniq, workdir):
    """http-01 follows a redirect to https (the configured test port):
    TLS 1.2+, SNI, a certificate for another name is fine."""
    c = account(stack, mint_eab)
    name = uniq("tls")
    authz_url, ch = challenge_of(c, name, "http-01")
    token = ch["token"]
    target = "https://%s:%d/.well-known/acme-challenge/%s" % (
        name, stack.http01_https_port, token)
    with Redirector(stack.http01_port) as web, \
            https_server(stack, {token: (200, c.key_authorization(token))},
                         workdir) as (seen, tls):
        web.routes[token] = (302, target)
        az, chal = validate(c, authz_url, ch)
    assert az["status"] == "valid", az
    assert seen["sni"] == [name], seen
    assert len(tls.requests) == 1, tls.requests


@pytest.mark.parametrize("how", ["303", "loop", "port", "ip", "ftp",
                                 "too-many"])
def test_http01_redirect_refused(stack, mint_eab, uniq, how):
    c = account(stack, mint_eab)
    name = uniq("redir")
    authz_url, ch = challenge_of(c, name, "http-01")
    token = ch["token"]
    base = "http://%s:%d/.well-known/acme-challenge/" % (name,
                                                        stack.http01_port)
    with Redirector(stack.http01_port) as web:
        if how == "303":
            web.routes[token] = (303, base + token + "-b")
            web.routes[token + "-b"] = (200, c.key_authorization(token))
            want = ("unauthorized", "303")
        elif how == "loop":
            web.routes[token] = (302, base + token + "-b")
            web.routes[token + "-b"] = (301, "/.well-known/acme-challenge/"
                                        + token)
            want = ("connection", "redirect loop")
        elif how == "port":
            web.routes[token] = (302, "http://%s:%d/x" % (
                name, stack.http01_port + 1))
            want = ("connection", "redirect to a port other than")
        elif how == "ip":
            web.routes[token] = (302, "http://127.0.0.1:%d/.well-known/"
                                 "acme-challenge/%s" % (stack.http01_port,
                                                        token))
            want = ("connection", "IP address")
        elif how == "ftp":
            web.routes[token] = (302, "ftp://%s/x" % name)
            want = ("connection", "unsupported redirect")
        else:
            for i in range(12):
                web.routes["%s-%d" % (token, i) if i else token] = (
                    307, base + "%s-%d" % (token, i + 1))
            want = ("connection", "too many redirects")
        az, chal = validate(c, authz_url, ch)
    assert az["status"] == "invalid", az
    err = chal.get("error", {})
    assert err.get("type") == ERR + want[0] and want[1] in err.get(
        "detail", ""), chal


def test_http01_special_purpose_address(stack, mint_eab, uniq):
    """A name resolving to a private address is refused without any
    connection (only loopback is allowed, by the test configuration)."""
    c = account(stack, mint_eab)
    name = uniq("priv")
    nsupdate(stack, "update add %s. 10 A 10.11.12.13" % name)
    authz_url, ch = challenge_of(c, name, "http-01")
    az, chal = validate(c, authz_url, ch)
    assert az["status"] == "invalid", az
    err = chal.get("error", {})
    assert err.get("type") == ERR + "connection", chal
    assert "10.11.12.13 is special-purpose (private-use)" in \
        err.get("detail", ""), chal


def test_http01_slow_server_times_out(stack, mint_eab, uniq):
    """A server that accepts and never answers: the validation ends at
    validation_timeout with a connection problem."""
    c = account(stack, mint_eab)
    name = uniq("slow")
    authz_url, ch = challenge_of(c, name, "http-01")
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", stack.http01_port))
    lsock.listen(8)
    try:
        t0 = time.monotonic()
        az, chal = validate(c, authz_url, ch)
        took = time.monotonic() - t0
    finally:
        lsock.close()
    assert az["status"] == "invalid", az
    assert "timeout" in chal["error"]["detail"], chal
    assert took < 30, took


# ------------------------------------------------------ dns-01 safety


def dns01_value(c, token):
    return b64u_raw(hashlib.sha256(c.key_authorization(token).encode())
                    .digest())


def test_dns01_cname_and_split_strings(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    # a CNAME chain to a TXT record elsewhere in the zone
    name = uniq("cname")
    target = "target-%s.%s" % (uuid.uuid4().hex[:8], stack.zone)
    hop = "hop-%s.%s" % (uuid.uuid4().hex[:8], stack.zone)
    authz_url, ch = challenge_of(c, name, "dns-01")
    nsupdate(stack, "update add _acme-challenge.%s. 10 CNAME %s." % (name, hop),
             "update add %s. 10 CNAME %s." % (hop, target),
             "update add %s. 10 TXT \"%s\"" % (target,
                                               dns01_value(c, ch["token"])))
    az, _ = validate(c, authz_url, ch)
    assert az["status"] == "valid", az
    # the value split in two character-strings of one record
    name = uniq("split")
    authz_url, ch = challenge_of(c, name, "dns-01")
    v = dns01_value(c, ch["token"])
    nsupdate(stack, 'update add _acme-challenge.%s. 10 TXT "%s" "%s"' % (
        name, v[:20], v[20:]))
    az, _ = validate(c, authz_url, ch)
    assert az["status"] == "valid", az


def test_dns01_cname_loop(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    name = uniq("loop")
    a = "la-%s.%s" % (uuid.uuid4().hex[:8], stack.zone)
    b = "lb-%s.%s" % (uuid.uuid4().hex[:8], stack.zone)
    authz_url, ch = challenge_of(c, name, "dns-01")
    nsupdate(stack, "update add _acme-challenge.%s. 10 CNAME %s." % (name, a),
             "update add %s. 10 CNAME %s." % (a, b),
             "update add %s. 10 CNAME %s." % (b, a))
    az, chal = validate(c, authz_url, ch)
    assert az["status"] == "invalid", az
    assert chal["error"]["type"] in (ERR + "dns", ERR + "unauthorized"), chal


def test_dns01_servfail_is_a_dns_problem(stack, mint_eab):
    """A zone its server cannot load answers SERVFAIL: a dns problem."""
    import stack as stackmod
    c = account(stack, mint_eab)
    name = "x%s.%s.%s" % (uuid.uuid4().hex[:6], stackmod.CAA_SERVFAIL,
                          stack.zone)
    authz_url, ch = challenge_of(c, name, "dns-01")
    az, chal = validate(c, authz_url, ch)
    assert az["status"] == "invalid", az
    assert chal["error"]["type"] == ERR + "dns", chal
    assert "SERVFAIL" in chal["error"]["detail"], chal
