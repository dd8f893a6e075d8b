#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/TARGET/seed-* (run once;
the files are kept in the repository). Crash inputs found later go next
to them under another name and are never overwritten by this script."""

import base64
import hashlib
import hmac
import json
import os
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def jwk(key):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        return {"e": b64u(n.e.to_bytes(3, "big")), "kty": "RSA",
                "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big"))}
    n = pub.public_numbers()
    size = pub.curve.key_size // 8
    crv = "P-256" if size == 32 else "P-384"
    return {"crv": crv, "kty": "EC", "x": b64u(n.x.to_bytes(size, "big")),
            "y": b64u(n.y.to_bytes(size, "big"))}


def jws(key, alg, header, payload):
    ph = b64u(json.dumps(header))
    pl = b64u(json.dumps(payload)) if payload is not None else ""
    data = ("%s.%s" % (ph, pl)).encode()
    if alg == "RS256":
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "HS256":
        sig = hmac.new(key, data, hashlib.sha256).digest()
    else:
        h = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        size = 32 if alg == "ES256" else 48
        sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return json.dumps({"protected": ph, "payload": pl,
                       "signature": b64u(sig)})


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_msg(qname, qtype, answers, rcode=0):
    """A response: answers are (owner, type, rdata)."""
    h = struct.pack(">HHHHHH", 7, 0x8180 | rcode, 1, len(answers), 0, 0)
    q = dns_name(qname) + struct.pack(">HH", qtype, 1)
    an = b""
    for owner, t, rd in answers:
        an += dns_name(owner) + struct.pack(">HHIH", t, 1, 60, len(rd)) + rd
    return h + q + an


def txt(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


def caa(flags, tag, value):
    return bytes([flags, len(tag)]) + tag.encode() + value.encode()


def seq(*msgs):
    return b"".join(struct.pack(">H", len(m)) + m for m in msgs)


def csr(names, key, digest=hashes.SHA256(), extra=()):
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
    sans = [x509.DNSName(n) for n in names] + list(extra)
    b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(key, digest).public_bytes(serialization.Encoding.DER)


def main():
    # base64url
    for i, s in enumerate(["", "AQAB", "_-8", "aGVsbG8", "QQ", "QR", "AAA=",
                           "a+b/", "A"]):
        put("b64", str(i), s)
    # JSON
    put("json", "object", '{"a":[1,-2.5e3,true,false,null,{"b":"\\u00e9"}]}')
    put("json", "quotes", "{'a':1}")
    put("json", "dup", '{"a":1,"a":2}')
    put("json", "deep", "[" * 16 + "]" * 16)
    put("json", "surrogate", '["\\ud83d\\ude00","\\ud800"]')
    # JWS and JWK
    rkey = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ekey = ec.generate_private_key(ec.SECP256R1())
    pkey = ec.generate_private_key(ec.SECP384R1())
    url = "https://acme.test/acme/new-account"
    put("jws", "rs256-jwk", jws(rkey, "RS256", {
        "alg": "RS256", "nonce": "abc", "url": url, "jwk": jwk(rkey)},
        {"termsOfServiceAgreed": True}))
    put("jws", "es256-kid", jws(ekey, "ES256", {
        "alg": "ES256", "nonce": "abc", "url": url,
        "kid": "https://acme.test/acme/acct/1"}, None))
    put("jws", "es384-jwk", jws(pkey, "ES384", {
        "alg": "ES384", "nonce": "abc", "url": url, "jwk": jwk(pkey)}, {}))
    put("jws", "hs256-eab", jws(bytes([1, 2, 3]) + bytes(29), "HS256", {
        "alg": "HS256", "kid": "6136f1b5-39c8-4417-b8a7-c4114b092be6",
        "url": url}, jwk(rkey)))
    put("jws", "compact", "eyJhbGciOiJub25lIn0.e30.")
    put("jwk", "rsa", json.dumps(jwk(rkey)))
    put("jwk", "p256", json.dumps(jwk(ekey)))
    put("jwk", "p384", json.dumps(jwk(pkey)))
    priv = dict(jwk(ekey), d="AAAA")
    put("jwk", "private", json.dumps(priv))
    # CSR
    names = ["example.org", "www.example.org"]
    ckey = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = csr(names, ckey)
    put("csr", "good", good)
    put("csr", "sha1", csr(names, ckey, hashes.SHA1()))
    put("csr", "email", csr(names, ckey, extra=[
        x509.RFC822Name("a@example.org")]))
    put("csr", "trailing", good + b"\0")
    put("csr", "ec", csr(names, ekey))
    # identifiers
    for i, s in enumerate(["example.org", "*.example.org", "WWW.Example.ORG",
                           "xn--bcher-kva.example", "a..b", "1.2.3.4",
                           "-a.example", "a_b.example", "*.*.example",
                           "co.uk"]):
        put("ident", str(i), s)
    # DNS answers (length-prefixed messages, see fake_dns.c)
    q = "_acme-challenge.example.org"
    put("dns", "txt", seq(dns_msg(q, 16, [(q, 16, txt("abc", "def"))]),
                          dns_msg("www.example.org", 1,
                                  [("www.example.org", 1, bytes([1, 2, 3, 4]))]),
                          dns_msg("www.example.org", 28, [])))
    put("dns", "cname", seq(
        dns_msg(q, 16, [(q, 5, dns_name("v.example.net"))]),
        dns_msg("v.example.net", 16, [("v.example.net", 16, txt("x"))])))
    put("dns", "servfail", seq(dns_msg(q, 16, [], rcode=2)))
    put("dns", "nxdomain", seq(b"", b"\x02"))
    # CAA: one record's RDATA, then answers for the tree climb
    put("caa", "issue", caa(0, "issue", "certigna.com; accounturi="
                            "https://acme.test/acme/acct/1"))
    put("caa", "issuewild", caa(0, "issuewild", "acme.test; "
                                "validationmethods=http-01,dns-01"))
    put("caa", "critical", caa(128, "tbs", "x"))
    put("caa", "climb", seq(
        dns_msg("a.b.example.org", 257, []),
        dns_msg("b.example.org", 257, [("b.example.org", 257,
                                        caa(0, "issue", "certigna.com"))])))
    # HTTP responses (the first byte says where the input is cut)
    put("http", "length", b"\x80HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
        b"\r\nhello")
    put("http", "chunked", b"\x40HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        b"chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    put("http", "redirect", b"\xc0HTTP/1.1 302 Found\r\nLocation: "
        b"https://example.org:443/x?y#z\r\nContent-Length: 0\r\n\r\n")
    put("http", "close", b"\x10HTTP/1.0 200 OK\r\n\r\nbody until close")


if __name__ == "__main__":
    main()
