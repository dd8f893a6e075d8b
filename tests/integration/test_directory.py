"""The directory and newNonce resources (RFC 8555 sections 7.1.1, 7.2)."""

import re

import stack as stackmod
from acmeclient import session

RESOURCES = ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange")


def get(stack, url, method="GET"):
    return session(stack.tls_ca).request(method, url, timeout=30)


def link_index(stack, r):
    """Assert the response has Link: <directory>;rel="index"."""
    links = r.headers.get("Link", "")
    pat = r'<%s>\s*;\s*rel="?index"?' % re.escape(stack.directory_url)
    assert re.search(pat, links), "no index Link in %r" % links


def test_directory(stack):
    r = get(stack, stack.directory_url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == \
        "application/json"
    d = r.json()
    for name in RESOURCES:
        assert name in d, "directory lacks %s: %s" % (name, d)
        assert d[name].startswith(stack.base_url + "/acme/"), \
            "%s = %s is not under %s/acme/" % (name, d[name], stack.base_url)
    meta = d.get("meta")
    assert isinstance(meta, dict), d
    assert meta.get("externalAccountRequired") is True, meta
    assert meta.get("caaIdentities") == \
        stackmod.CAA_IDENTITIES.split(","), meta
    assert meta.get("termsOfService") == stack.base_url + "/terms", meta
    assert meta.get("website") == "https://www.certigna.com", meta


def test_directory_urls_answer(stack):
    """Every resource URL is routed to acme-fcgi (no nginx 404)."""
    d = get(stack, stack.directory_url).json()
    for name in RESOURCES:
        r = session(stack.tls_ca).post(
            d[name], data=b"{}", timeout=30,
            headers={"Content-Type": "application/jose+json"})
        if name == "newNonce":
            continue
        ct = r.headers.get("Content-Type", "").split(";")[0].strip()
        assert ct == "application/problem+json", \
            "POST %s (%s): HTTP %d %s %r" % (name, d[name], r.status_code,
                                            ct, r.text[:300])
        assert r.headers.get("Replay-Nonce"), "no Replay-Nonce on %s" % name


def test_new_nonce_head(stack):
    url = get(stack, stack.directory_url).json()["newNonce"]
    r = get(stack, url, "HEAD")
    assert r.status_code == 200, r.status_code
    assert r.headers.get("Replay-Nonce"), r.headers
    assert re.fullmatch(r"[A-Za-z0-9_-]+", r.headers["Replay-Nonce"]), \
        "nonce is not base64url: %r" % r.headers["Replay-Nonce"]
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    link_index(stack, r)


def test_new_nonce_get(stack):
    url = get(stack, stack.directory_url).json()["newNonce"]
    r = get(stack, url)
    assert r.status_code == 204, r.status_code
    assert r.headers.get("Replay-Nonce"), r.headers
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    link_index(stack, r)


def test_nonces_differ(stack):
    url = get(stack, stack.directory_url).json()["newNonce"]
    seen = {get(stack, url, "HEAD").headers["Replay-Nonce"]
            for _ in range(10)}
    assert len(seen) == 10, seen
