"""A small RFC 8555 client for the integration tests.

It builds every JWS by hand (so that a test can break any part of one: the
nonce, the url, the alg, the kid, the EAB MAC) with python3-cryptography, and
speaks HTTP with python3-requests. Nothing here retries or hides an error: the
tests look at the server's answers as they are.
"""

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
)
from cryptography.x509.oid import NameOID

ERR = "urn:ietf:params:acme:error:"


def b64u(data):
    """base64url without padding (RFC 7515 section 2)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int_b64u(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


def new_rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def jwk_of(key):
    """The public JWK (a dict) of a private key (RSA or EC P-256)."""
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"e": _int_b64u(nums.e), "kty": "RSA", "n": _int_b64u(nums.n)}
    nums = pub.public_numbers()
    return {"crv": "P-256", "kty": "EC", "x": _int_b64u(nums.x, 32),
            "y": _int_b64u(nums.y, 32)}


def thumbprint(key):
    """RFC 7638 thumbprint (base64url) of the key's JWK."""
    jwk = jwk_of(key)
    need = ("e", "kty", "n") if jwk["kty"] == "RSA" else \
        ("crv", "kty", "x", "y")
    canon = json.dumps({k: jwk[k] for k in need}, sort_keys=True,
                       separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def alg_of(key):
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"


def sign(key, alg, data):
    """Sign data with key under a JWS alg; return the raw signature."""
    if alg == "none":
        return b""
    if alg == "RS256":
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise ValueError("unsupported alg " + alg)


def make_csr(names, key=None, bits=2048, cn=True):
    """A CSR (DER) for names (SANs; CN = first name) and its key."""
    key = key or new_rsa_key(bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]
                        if cn else [])
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(subject)
           .add_extension(x509.SubjectAlternativeName(
               [x509.DNSName(n) for n in names]), critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.DER), key


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def session(ca_bundle):
    """A requests session trusting only ca_bundle, ignoring the caller's
    environment (REQUESTS_CA_BUNDLE, proxies)."""
    s = requests.Session()
    s.trust_env = False
    s.verify = ca_bundle
    return s


class AcmeClient:
    """One ACME account key talking to one server.

    Every request method returns the requests.Response untouched; the newest
    Replay-Nonce seen is kept for the next request.
    """

    def __init__(self, directory_url, ca_bundle, key=None):
        self.session = session(ca_bundle)
        self.session.headers["User-Agent"] = "acme-integration-tests"
        self.directory_url = directory_url
        r = self.session.get(directory_url, timeout=30)
        r.raise_for_status()
        self.directory = r.json()
        self.key = key or new_rsa_key()
        self.account_url = None
        self.nonce = None

    # --------------------------------------------------------------- JWS

    def fresh_nonce(self):
        r = self.session.head(self.directory["newNonce"], timeout=30)
        nonce = r.headers.get("Replay-Nonce")
        if not nonce:
            raise AssertionError("HEAD newNonce: no Replay-Nonce (HTTP %d)"
                                 % r.status_code)
        return nonce

    def take_nonce(self):
        nonce, self.nonce = self.nonce, None
        return nonce or self.fresh_nonce()

    def jws(self, url, payload, nonce=None, alg=None, key=None, kid=None,
            use_jwk=None, protected=None, drop=()):
        """Return the flattened JWS (a dict) of payload for url.

        payload: a dict (JSON), None for POST-as-GET (empty payload), or str.
        kid: account URL to put in "kid" (default: ours, if we have one);
        use_jwk: force "jwk" (default when we have no account yet);
        protected: extra or overriding header members; drop: members removed.
        """
        key = key or self.key
        alg = alg or alg_of(key)
        hdr = {"alg": alg, "nonce": nonce if nonce is not None
               else self.take_nonce(), "url": url}
        if use_jwk is None:
            use_jwk = kid is None and self.account_url is None
        if use_jwk:
            hdr["jwk"] = jwk_of(key)
        else:
            hdr["kid"] = kid or self.account_url
        hdr.update(protected or {})
        for k in drop:
            hdr.pop(k, None)
        if payload is None:
            pl = ""
        elif isinstance(payload, str):
            pl = b64u(payload)
        else:
            pl = b64u(json.dumps(payload))
        ph = b64u(json.dumps(hdr))
        sig = sign(key, alg, ("%s.%s" % (ph, pl)).encode())
        return {"protected": ph, "payload": pl, "signature": b64u(sig)}

    def post_body(self, url, body, content_type="application/jose+json"):
        """POST a ready body (dict -> JSON, or bytes) and keep its nonce."""
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        r = self.session.post(url, data=data,
                              headers={"Content-Type": content_type},
                              timeout=60)
        if r.headers.get("Replay-Nonce"):
            self.nonce = r.headers["Replay-Nonce"]
        return r

    def post(self, url, payload, **kw):
        return self.post_body(url, self.jws(url, payload, **kw))

    def post_as_get(self, url, **kw):
        return self.post(url, None, **kw)

    # ------------------------------------------------------------ account

    def eab(self, kid, hmac_key, url=None, key=None, alg="HS256"):
        """The externalAccountBinding JWS (RFC 8555 section 7.3.4)."""
        url = url or self.directory["newAccount"]
        ph = b64u(json.dumps({"alg": alg, "kid": kid, "url": url}))
        pl = b64u(json.dumps(jwk_of(key or self.key)))
        mac = hmac.new(b64u_decode(hmac_key), ("%s.%s" % (ph, pl)).encode(),
                       hashlib.sha256).digest()
        return {"protected": ph, "payload": pl, "signature": b64u(mac)}

    def new_account(self, eab=None, only_return_existing=False, tos=True,
                    contact=("mailto:admin@demo.test",), eab_jws=None):
        """newAccount; eab = (kid, hmac_key). On 200/201 remembers the
        account URL. Returns the response."""
        payload = {}
        if tos:
            payload["termsOfServiceAgreed"] = True
        if contact:
            payload["contact"] = list(contact)
        if only_return_existing:
            payload["onlyReturnExisting"] = True
        if eab_jws is not None:
            payload["externalAccountBinding"] = eab_jws
        elif eab is not None:
            payload["externalAccountBinding"] = self.eab(*eab)
        url = self.directory["newAccount"]
        r = self.post(url, payload, use_jwk=True)
        if r.status_code in (200, 201) and r.headers.get("Location"):
            self.account_url = r.headers["Location"]
        return r

    # -------------------------------------------------------------- orders

    def new_order(self, names):
        return self.post(self.directory["newOrder"], {
            "identifiers": [{"type": "dns", "value": n} for n in names]})

    def poll(self, url, until, timeout=60, what="object"):
        """POST-as-GET url until its status is in until (or invalid);
        return the last JSON body. Raise on timeout or HTTP error."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.post_as_get(url)
            if r.status_code != 200:
                raise AssertionError("polling %s %s: HTTP %d %s" % (
                    what, url, r.status_code, r.text))
            body = r.json()
            if body.get("status") in until or body.get("status") == "invalid":
                return body
            if time.monotonic() > deadline:
                raise AssertionError("%s %s still %r after %ds: %s" % (
                    what, url, body.get("status"), timeout, body))
            time.sleep(0.5)

    def key_authorization(self, token):
        return token + "." + thumbprint(self.key)

    def finalize(self, order, csr_der):
        return self.post(order["finalize"], {"csr": b64u(csr_der)})

    # ----------------------------------------------------------- lifecycle

    def revoke(self, cert_der, reason=None, key=None, **kw):
        """revokeCert (RFC 8555 section 7.6) of a DER certificate. Signed
        by the account key ("kid") by default; with key, by that key sent
        as "jwk" (the certificate's own key, or any other). reason: an
        RFC 5280 CRLReason code, or None to leave it out."""
        payload = {"certificate": b64u(cert_der)}
        if reason is not None:
            payload["reason"] = reason
        url = self.directory["revokeCert"]
        if key is not None:
            kw.setdefault("use_jwk", True)
            return self.post(url, payload, key=key, **kw)
        return self.post(url, payload, **kw)

    def key_change_inner(self, new_key, account=None, old_key=None,
                         url=None, protected=None, payload=None):
        """The inner JWS of keyChange (RFC 8555 section 7.3.5): signed by
        new_key, with "jwk" and "url" (no nonce), over {"account",
        "oldKey"}. Each argument overrides one part, to break it."""
        hdr = {"alg": alg_of(new_key), "jwk": jwk_of(new_key),
               "url": url or self.directory["keyChange"]}
        hdr.update(protected or {})
        if payload is None:
            payload = {"account": account or self.account_url,
                       "oldKey": jwk_of(old_key or self.key)}
        ph = b64u(json.dumps(hdr))
        pl = b64u(json.dumps(payload))
        sig = sign(new_key, hdr["alg"], ("%s.%s" % (ph, pl)).encode())
        return {"protected": ph, "payload": pl, "signature": b64u(sig)}

    def key_change(self, new_key, inner=None, **inner_kw):
        """keyChange to new_key (inner: a ready inner JWS, else one made
        by key_change_inner with inner_kw). On 200 the client signs with
        new_key from then on. Returns the response."""
        if inner is None:
            inner = self.key_change_inner(new_key, **inner_kw)
        r = self.post(self.directory["keyChange"], inner)
        if r.status_code == 200:
            self.key = new_key
        return r

    def renewal_info(self, certid):
        """GET renewalInfo/CertID (RFC 9773 section 4.1), unauthenticated."""
        return self.session.get(self.directory["renewalInfo"] + "/" + certid,
                                timeout=30)


def cert_id(cert):
    """The RFC 9773 CertID of a certificate (cryptography x509 object or
    DER): base64url(AKI keyIdentifier) "." base64url(serial DER content)."""
    if isinstance(cert, bytes):
        cert = x509.load_der_x509_certificate(cert)
    aki = cert.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier).value.key_identifier
    serial = cert.serial_number
    octets = serial.to_bytes(serial.bit_length() // 8 + 1, "big")
    return b64u(aki) + "." + b64u(octets)


class Http01Responder:
    """An http-01 responder on 127.0.0.1:port (the CA's http01_port)."""

    def __init__(self, port, delay=0.0):
        self.port = port
        self.tokens = {}
        self.requests = []
        self.delay = delay      # seconds before each answer
        responder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                responder.requests.append(self.path)
                if responder.delay:
                    time.sleep(responder.delay)
                prefix = "/.well-known/acme-challenge/"
                ka = None
                if self.path.startswith(prefix):
                    ka = responder.tokens.get(self.path[len(prefix):])
                if ka is None:
                    self.send_error(404)
                    return
                body = ka.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
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
