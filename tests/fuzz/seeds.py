#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/TARGET/seed-* (run once;
the files are kept in the repository). Crash inputs found later go next
to them under another name and are never overwritten by this script.

seeds.py [TARGET...]: without arguments, the seeds of every target; with
arguments, only those of the targets named, which must be in TARGETS
(most seeds are made with random keys: a second run would rewrite the
seeds of every other target with other bytes)."""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys

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


# The key of the issuer of fuzz_cert_issuer.c (the same PEM is there), so
# that a seed can be a certificate it really issued.
FUZZ_CA_KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHL3+YBgPhtQMJOFU
q9suHf139h0Ab5yc9VRztgaCzNChRANCAASd1M6sOeKQFO0NP7PcsIwF1fYGFRtq
MWi8juhnvJTxCyt70mdemXJuuk7i8PoBcWFoCFEKOh1BovLmpX+kAqS6
-----END PRIVATE KEY-----
"""


def ca_name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fuzz"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(issuer, key, serial, aki=None, subject_key=None, ca=False,
         extra=()):
    """The DER of a certificate of issuer (a Name) signed by key, with
    the authorityKeyIdentifier aki (none if None) and the extensions
    extra (critical); a leaf "leaf.example.org" of subject_key, or with
    ca the self-signed certificate of key."""
    pub = (key if ca else subject_key).public_key()
    b = x509.CertificateBuilder().issuer_name(issuer).subject_name(
        issuer if ca else x509.Name([x509.NameAttribute(
            NameOID.COMMON_NAME, "leaf.example.org")])).public_key(
        pub).serial_number(serial).not_valid_before(
        datetime.datetime(2025, 1, 1)).not_valid_after(
        datetime.datetime(2045, 1, 1))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True)
    if ca:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(pub),
                            critical=False)
    else:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("leaf.example.org")]), critical=False)
    if aki is not None:
        b = b.add_extension(aki, critical=False)
    for e in extra:
        b = b.add_extension(e, critical=True)
    return b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


def der_tlv(tag, content):
    """One DER TLV (tag a single byte)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b + content


def der_items(der):
    """The TLVs that der holds one after the other (definite lengths)."""
    out = []
    while der:
        n, h = der[1], 2
        if n & 0x80:
            h = 2 + (n & 0x7f)
            n = int.from_bytes(der[2:h], "big")
        out.append(der[:h + n])
        der = der[h + n:]
    return out


def der_contents(tlv):
    """The contents of one TLV (a definite length)."""
    return tlv[2 + (tlv[1] & 0x7f if tlv[1] & 0x80 else 0):]


def tbs_field(cert_der, i, tlv):
    """cert_der with the field i of its tbsCertificate (0 version, 1
    serial, 2 signature algorithm...) replaced by tlv; the signature,
    which ocsp_cert_issued_by does not check, is left as it was."""
    tbs, alg, sig = der_items(der_contents(cert_der))
    fields = der_items(der_contents(tbs))
    fields[i] = tlv
    return der_tlv(0x30, der_tlv(0x30, b"".join(fields)) + alg + sig)


def cert_issuer_seeds():
    """fuzz_cert_issuer.c: certificates issued (or not) by its CA
    "O=Fuzz, CN=Fuzz CA" of key FUZZ_CA_KEY, serial 1."""
    name = ca_name("Fuzz CA")
    key = serialization.load_pem_private_key(FUZZ_CA_KEY, None)
    keyid = x509.AuthorityKeyIdentifier.from_issuer_public_key(
        key.public_key())
    other = ec.derive_private_key(0x5eed, ec.SECP256R1())
    leaf = ec.derive_private_key(0x1eaf, ec.SECP256R1())
    serial = 0x3f8e0a41c2d95b7e6a1f04c3b2d8e9f7a6b5c4d3

    def dirname_aki(sn):
        return x509.AuthorityKeyIdentifier(
            keyid.key_identifier, [x509.DirectoryName(name)], sn)

    # accepted: really issued by the CA
    issued = cert(name, key, serial, keyid, leaf)
    put("cert_issuer", "issued", issued)
    put("cert_issuer", "issued-aki-serial",
        cert(name, key, 0x0abc, dirname_aki(1), leaf))
    put("cert_issuer", "no-aki", cert(name, key, 0x80, None, leaf))
    put("cert_issuer", "ca", cert(name, key, 1, ca=True))
    # the longest serial: 20 octets, the first ff (21 with the 00 the
    # DER needs)
    put("cert_issuer", "serial-20", tbs_field(
        issued, 1, der_tlv(0x02, b"\x00" + b"\xff" * 20)))
    # accepted too, though OpenSSL would not: a keyUsage that is not
    # one (X509_check_issued refuses any undecodable extension), and
    # a subject that is not a Name (d2i_X509 fails; the signature is not
    # checked, so the bytes can be changed after signing): the first
    # SEQUENCE of the subject's RDN made a SET
    put("cert_issuer", "bad-ext", cert(name, key, serial, keyid, leaf, extra=[
        x509.UnrecognizedExtension(x509.ExtensionOID.KEY_USAGE,
                                   b"\x01\x02")]))
    subject = x509.Name([x509.NameAttribute(
        NameOID.COMMON_NAME, "leaf.example.org")]).public_bytes()
    assert subject[4] == 0x30 and issued.count(subject) == 1
    put("cert_issuer", "bad-subject", issued.replace(
        subject, subject[:4] + b"\x31" + subject[5:]))
    # refused, though OpenSSL takes it: the subject's SEQUENCE tag made
    # primitive (0x10)
    put("cert_issuer", "subject-primitive", issued.replace(
        subject, b"\x10" + subject[1:]))
    # refused
    put("cert_issuer", "aki-other-serial",
        cert(name, key, 0x0abc, dirname_aki(2), leaf))
    bad_aki = x509.UnrecognizedExtension(
        x509.ExtensionOID.AUTHORITY_KEY_IDENTIFIER, b"\x30\x03\x04")
    put("cert_issuer", "aki-undecodable",
        cert(name, key, serial, None, leaf, extra=[bad_aki]))
    put("cert_issuer", "other-key", cert(
        name, other, serial, x509.AuthorityKeyIdentifier.
        from_issuer_public_key(other.public_key()), leaf))
    put("cert_issuer", "other-name",
        cert(ca_name("Other CA"), key, serial, keyid, leaf))
    put("cert_issuer", "rsa", cert(name, rsa.generate_private_key(
        public_exponent=65537, key_size=2048), serial, None, leaf))
    put("cert_issuer", "sigalg-unknown", tbs_field(
        issued, 2, der_tlv(0x30, der_tlv(0x06, b"\x2a\x03\x04"))))
    put("cert_issuer", "serial-zero", tbs_field(issued, 1, b"\x02\x01\x00"))
    put("cert_issuer", "serial-negative",
        tbs_field(issued, 1, b"\x02\x01\xff"))
    put("cert_issuer", "serial-21", tbs_field(
        issued, 1, der_tlv(0x02, b"\x01" + b"\x00" * 20)))
    put("cert_issuer", "truncated", issued[:-1])
    put("cert_issuer", "empty", b"")
    put("cert_issuer", "trailing", issued + b"\0")


def seeds_first():
    """The seeds of the first targets, written together."""
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


# the targets whose seeds a run can write alone (see the usage above)
TARGETS = {
    "cert_issuer": cert_issuer_seeds,
}


def main(args):
    for t in args:
        if t not in TARGETS:
            sys.exit("seeds.py: %s: not one of %s" % (t, " ".join(TARGETS)))
    if not args:
        seeds_first()
        args = list(TARGETS)
    for t in args:
        TARGETS[t]()


if __name__ == "__main__":
    main(sys.argv[1:])
