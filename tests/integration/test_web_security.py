"""The web site (acme-web) attacked over HTTP, through nginx's two virtual
hosts (and acme-web's FastCGI socket directly for what nginx would not
let through), with a plain client (webclient.py: http.client, a cookie
jar, forms read from the pages as a browser would):

  - CSRF: a POST without the form's token, or with a wrong one, is
    refused (403) and changes nothing in the database;
  - session fixation: a cookie value planted before sign-in is not the
    session after it, and gives no access; neither does a signed-out one;
  - another organization's objects (documents, ACME accounts,
    certificates, e-mails, their downloads and POST actions) are 404 to a
    signed-in customer, and unchanged;
  - an HTML injection payload in every text field (sign-up, organization,
    domain, document reference and file name, ACME account, revocation
    reason, the office's reject and credit reasons, every search box and
    sign-in form) comes back escaped on every page that shows it, never
    raw;
  - cookies: __Host- prefix, Secure, HttpOnly, SameSite=Strict, Path=/;
    the security headers on every page;
  - the office: no TLS client certificate, or one of another CA, is
    refused by nginx; a certificate of the operators' CA that is not the
    operator's, with the operator's password, does not sign in; an
    operator's session does not follow another certificate; a customer's
    session is not an operator's; acme-web itself refuses /office/ outside
    the office area and the office area without a verified certificate;
  - sign-in rate limits (429 after web_login_max_failures failures for an
    address, 4 times that for a client address; operators too, whatever
    the password);
  - refusals: 400 for what is invalid, 404 for what is not found, 409 for
    a conflict with the object's state;
  - uploads: an executable named .pdf, an empty file, a file over
    web_upload_max (a page that states the limit, in both languages) and
    a body over nginx's limit are refused with a message and leave no row;
  - the look: every class the pages use has a rule of the stylesheet; the
    audit log's long JSON details wrap in Chromium's 1280 px window; the
    site's icon is served in both areas;
  - apache/acme-web.conf, rendered for loopback, serves both areas the
    same way (mod_proxy_fcgi, SSLVerifyClient require).

Each source address 127.0.0.N used here is its own client address for the
rate limits (nginx passes $remote_addr).
"""

import base64
import glob
import hashlib
import os
import re
import subprocess
import urllib.parse
import uuid

import pytest

import deploykit
import fcgiclient
import stack as stackmod
import test_revocation_status
import webclient
from test_notifications import Sink
from webclient import WebClient, visible_text

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
RAW = ("<script>alert(1)", "<img src=x onerror", "\"'><img")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


# ------------------------------------------------------------- helpers


def sql(stack, query):
    return stack.psql(query).strip()


def q(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def no_raw(r, what):
    """The payload is nowhere raw in the response."""
    for bad in RAW:
        assert bad not in r.text, "%s (%s, HTTP %d) shows the payload raw " \
            "(%r):\n%s" % (what, r.url, r.status, bad, r.text[
                max(0, r.text.find(bad) - 300):r.text.find(bad) + 300])


def shows_escaped(r, what):
    """The page shows the payload, escaped (and never raw)."""
    no_raw(r, what)
    assert ESCAPED in r.text, "%s (%s, HTTP %d) does not show the payload " \
        "at all:\n%s" % (what, r.url, r.status, visible_text(r.text)[:3000])


def org_id(stack, email):
    return sql(stack, "SELECT organization_id FROM external_account WHERE "
               "lower(email) = lower(%s)" % q(email))


def xa_id(stack, email):
    return sql(stack, "SELECT id FROM external_account WHERE "
               "lower(email) = lower(%s)" % q(email))


def csrf_of(c, path):
    """The csrf field of the first form of a page."""
    r = c.get(path)
    assert r.status == 200, "%s: HTTP %d" % (path, r.status)
    for f in r.forms:
        v = f.get("csrf")
        if v:
            return v
    raise AssertionError("no csrf field on %s" % path)


def upload(c, kind, filename, ctype, data, reference="", domain=None):
    f = c.get("/documents").form("/documents")
    vals = {"kind": kind, "reference": reference}
    if domain is not None:
        vals["domain"] = domain
    return c.submit(f, vals, files={"file": (filename, ctype, data)})


def office_org_page(op, org):
    """The office page of an organization (via the search)."""
    r = op.get("/office/organizations?q=" + urllib.parse.quote(
        org))
    assert r.status == 200, r.status
    links = [h for h in r.links if re.fullmatch(r"/office/organizations/\d+",
                                                h)]
    assert links, "organization %r not found in the office search:\n%s" % (
        org, visible_text(r.text)[:2000])
    return op.get(links[0])


def post_form(c, page, action, button=None, values=None):
    """GET page, submit its form posting to action (regexp) whose button
    matches; returns the response (followed)."""
    r = c.get(page)
    assert r.status == 200, "%s: HTTP %d" % (page, r.status)
    return c.submit(r.form(action, button=button), values)


def make_valid(stack, op, cust, domain):
    """Makes a customer's organization VALID through the portal and the
    office: a domain, two documents, every validation, credit, the
    external account activated."""
    c = cust.c
    r = post_form(c, "/organization", "/organization/domains",
                  values={"domain": domain})
    assert r.status == 200 and domain in r.text, r.status
    r = upload(c, "ORGANIZATION_PROOF", "kbis.pdf", "application/pdf",
               webclient.tiny_pdf())
    assert r.status == 200, visible_text(r.text)[:1000]
    r = upload(c, "REQUEST_FORM", "form.png", "image/png",
               webclient.tiny_png())
    assert r.status == 200, visible_text(r.text)[:1000]
    page = office_org_page(op, cust.org).url
    oid = page.rsplit("/", 1)[1]
    for d in sql(stack, "SELECT id FROM document WHERE organization_id = %s"
                 % oid).split():
        r = post_form(op, page, r"^/office/documents/%s/decision$" % d,
                      values={"action": "validate"})
        assert r.status == 200, visible_text(r.text)[:1000]
    dom = sql(stack, "SELECT id FROM domain WHERE organization_id = %s AND "
              "name = %s" % (oid, q(domain)))
    r = post_form(op, page, r"^/office/domains/%s/status$" % dom,
                  button="^Validate")
    assert r.status == 200, visible_text(r.text)[:1000]
    r = post_form(op, page, r"^/office/organizations/%s/status$" % oid,
                  button="^Validate")
    assert r.status == 200, visible_text(r.text)[:1000]
    r = post_form(op, page, r"^/office/organizations/%s/credit$" % oid,
                  values={"amount": "5", "reason": "test credit"})
    assert r.status == 200, visible_text(r.text)[:1000]
    xa = xa_id(stack, cust.email)
    r = post_form(op, "/office/external-accounts/%s" % xa,
                  r"^/office/external-accounts/%s/status$" % xa,
                  button="^Activate")
    assert r.status == 200, visible_text(r.text)[:1000]
    st = sql(stack, "SELECT o.status || ' ' || x.status FROM organization o "
             "JOIN external_account x ON x.organization_id = o.id WHERE "
             "x.id = %s" % xa)
    assert st == "VALID VALID", st


def new_acme_account(c, domain):
    """Creates an ACME account for domain; returns (kid, hmac key)."""
    r = post_form(c, "/accounts/new", "/accounts/new",
                  values={"domain": domain})
    assert r.status == 200, visible_text(r.text)[:2000]
    kid = re.search(r'id="kid">([0-9a-f-]{36})<', r.text)
    hmac = re.search(r'id="hmac">([A-Za-z0-9_-]{43})<', r.text)
    assert kid and hmac, visible_text(r.text)[:2000]
    return kid.group(1), hmac.group(1)


def session_rows(stack):
    return int(sql(stack, "SELECT count(*) FROM web_session"))


# ------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def web(stack):
    assert stack.web, "%s/acme-web is missing: run make" % stack.build
    return stack


@pytest.fixture(scope="module")
def sink(web):
    s = Sink(os.path.join(web.state, "mail-web-security"), web.ports["smtp"])
    s.start()
    try:
        yield s
    finally:
        try:
            deploykit.wait_until(
                lambda: sql(web, "SELECT count(*) FROM outbox WHERE "
                            "status = 'pending'") == "0", 60,
                "the outbox to empty")
        finally:
            s.stop()


@pytest.fixture(scope="module")
def operator(web):
    return webclient.ensure_operator(web)


@pytest.fixture(scope="module")
def op(web, operator):
    """The operator, signed in to the office."""
    c = webclient.operator_client(web)
    r = webclient.operator_login(c, operator["name"], operator["password"])
    assert r.status == 200 and r.url.endswith("/office/"), \
        "operator sign-in: HTTP %d %s\n%s" % (r.status, r.url,
                                              visible_text(r.text)[:1500])
    return c


@pytest.fixture(scope="module")
def alice(web, sink):
    """A customer of a PENDING organization, signed in."""
    return webclient.new_customer(web, sink, "alice")


@pytest.fixture(scope="module")
def bob(web, sink, op, workdir_module):
    """A customer of another, VALID organization with a domain, documents,
    an ACME account, a certificate issued through it and e-mails."""
    cust = webclient.new_customer(web, sink, "bob")
    cust.domain = "bob-%s.%s" % (uuid.uuid4().hex[:8], web.zone)
    make_valid(web, op, cust, cust.domain)
    cust.kid, cust.hmac = new_acme_account(cust.c, cust.domain)
    test_revocation_status.issue(web, lambda: (cust.kid, cust.hmac),
                                 [cust.domain], workdir_module)
    got = sql(web, "SELECT c.id || ' ' || c.serial FROM certificate c JOIN "
              "account a ON a.id = c.account_id JOIN acme_account e ON "
              "e.id = a.acme_account_id WHERE e.kid = %s" % q(cust.kid))
    assert got, "no certificate of %s in the database" % cust.kid
    cust.cert_id, cust.serial = got.split()
    oid = org_id(web, cust.email)
    cust.doc = sql(web, "SELECT min(id) FROM document WHERE "
                   "organization_id = %s" % oid)
    cust.message = sql(web, "SELECT min(id) FROM outbox WHERE "
                       "lower(recipient) = lower(%s)" % q(cust.email))
    assert cust.doc and cust.message, (cust.doc, cust.message)
    return cust


@pytest.fixture(scope="module")
def workdir_module(web):
    d = os.path.join(web.state, "clients", "web-security-" +
                     uuid.uuid4().hex[:6])
    os.makedirs(d)
    return d


@pytest.fixture(scope="module")
def certs(web):
    """More TLS client certificates: of the operators' CA, registered to
    op.two (rate limit) or to nobody; and one of another CA."""
    other_ca = os.path.join(web.tls_dir, "other-ca.pem")
    other_key = os.path.join(web.tls_dir, "other-ca.key")
    if not os.path.exists(other_ca):
        web.make_ca(other_ca, other_key, "Not the operators CA")
    out = {
        "two": web.make_client_cert("operator-two", "Operator Two")[:2],
        "stranger": web.make_client_cert("operator-stranger",
                                         "Stranger")[:2],
        # same subject as the operator's own, another CA
        "other_ca": web.make_client_cert("operator-other-ca", "Operator One",
                                         ca=other_ca, ca_key=other_key)[:2],
    }
    return out


# ---------------------------------------------------- headers, cookies


def check_headers(r, what):
    h = {k: r.header(k) for k in (
        "content-security-policy", "x-content-type-options",
        "referrer-policy", "x-frame-options", "cache-control")}
    assert h["content-security-policy"] == CSP, (what, h)
    assert h["x-content-type-options"] == "nosniff", (what, h)
    assert h["referrer-policy"] == "no-referrer", (what, h)
    assert h["x-frame-options"] == "DENY", (what, h)
    if what.startswith("/static/") or what == "/favicon.ico":
        # the stylesheet and the icon, compiled in: cached
        assert "public" in (h["cache-control"] or ""), (what, h)
    else:
        assert "no-store" in (h["cache-control"] or ""), (what, h)


def test_security_headers_everywhere(web, alice, op):
    anon = WebClient(web.web_url, web.tls_ca)
    pages = [(anon, "/"), (anon, "/login"), (anon, "/signup"),
             (anon, "/password/forgot"), (anon, "/no-such-page"),
             (anon, "/confirm/not-a-token"), (anon, "/static/site.css"),
             (alice.c, "/dashboard"), (alice.c, "/documents"),
             (alice.c, "/certificates"), (alice.c, "/no/such/page"),
             (op, "/office/"), (op, "/office/audit"),
             (op, "/office/organizations/999999999"),
             (webclient.operator_client(web), "/office/login")]
    for c, path in pages:
        r = c.get(path, follow=False)
        assert r.status < 500, (path, r.status)
        check_headers(r, path)
    # a refused POST (no CSRF token) too
    r = anon.post("/login", {"email": "x@y.test", "password": "x"},
                  follow=False)
    assert r.status == 403, r.status
    check_headers(r, "POST /login without csrf")


def test_cookie_attributes(web, alice, op, sink):
    """Every cookie the site sets: __Host- ones are Secure, HttpOnly,
    SameSite=Strict, Path=/ and name no Domain; the others are Secure
    and SameSite too."""
    c = WebClient(web.web_url, web.tls_ca)
    c.get("/login?lang=fr")
    webclient.login(c, alice.email, alice.password)
    c.post("/logout", {"csrf": csrf_of(c, "/dashboard")})
    seen = c.seen + alice.c.seen + op.seen
    names = {k.name for k in seen}
    assert {"__Host-sid", "__Host-pre"} <= names, names
    for k in seen:
        a = k.attrs
        assert a.get("secure") is True, k.line
        assert str(a.get("samesite", "")).lower() in ("strict", "lax"), \
            k.line
        if k.name.startswith("__Host-"):
            assert a.get("httponly") is True, k.line
            assert str(a.get("samesite")).lower() == "strict", k.line
            assert a.get("path") == "/", k.line
            assert "domain" not in a, k.line
        if k.name in ("__Host-sid", "__Host-pre") and not k.cleared():
            # a 256-bit random token, base64url
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", k.value), k.line
    # the database keeps only the SHA-256 of the session token
    token = alice.c.cookie("__Host-sid")
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert sql(web, "SELECT count(*) FROM web_session WHERE token_hash = "
               "decode('%s', 'hex')" % digest) == "1"
    assert sql(web, "SELECT count(*) FROM web_session WHERE "
               "encode(token_hash, 'escape') LIKE %s" % q(
                   "%" + token + "%")) == "0"


# ---------------------------------------------------------------- CSRF


def test_csrf_signed_in(web, alice):
    c = alice.c
    oid = org_id(web, alice.email)
    name = "csrf-%s.%s" % (uuid.uuid4().hex[:8], web.zone)
    good = csrf_of(c, "/organization")
    wrong = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    pre = c.cookie("__Host-pre")
    attempts = [("no token", {"domain": name}),
                ("empty token", {"domain": name, "csrf": ""}),
                ("wrong token", {"domain": name, "csrf": wrong}),
                ("token of another length", {"domain": name,
                                             "csrf": good + "x"})]
    if pre:
        attempts.append(("the pre-session token", {"domain": name,
                                                   "csrf": pre}))
    for what, fields in attempts:
        r = c.post("/organization/domains", fields, follow=False)
        assert r.status == 403, "%s: HTTP %d" % (what, r.status)
        assert sql(web, "SELECT count(*) FROM domain WHERE name = %s"
                   % q(name)) == "0", what
    # a multipart form without its token is refused the same way
    r = c.post("/documents", [("kind", "REQUEST_FORM")], files=[
        ("file", "form.png", "image/png", webclient.tiny_png())],
        follow=False)
    assert r.status == 403, r.status
    assert sql(web, "SELECT count(*) FROM document WHERE organization_id = "
               "%s" % oid) == "0"
    # another customer's token is not this one's
    other = WebClient(web.web_url, web.tls_ca)
    r = other.post("/organization/domains", {"domain": name, "csrf": good},
                   follow=False)
    assert r.status in (303, 403), r.status
    assert r.status != 303 or r.location.endswith("/login"), r.location
    # the right token works (the refusals above were about the token)
    r = c.post("/organization/domains", {"domain": name, "csrf": good})
    assert r.status == 200, visible_text(r.text)[:1000]
    assert sql(web, "SELECT count(*) FROM domain WHERE name = %s AND "
               "organization_id = %s" % (q(name), oid)) == "1"


def test_csrf_anonymous_forms(web):
    c = WebClient(web.web_url, web.tls_ca)
    f = c.get("/signup").form("/signup")
    pre = c.cookie("__Host-pre")
    assert pre and f.get("csrf") == pre
    email = "csrf-%s@customer.test" % uuid.uuid4().hex[:8]
    vals = {"organization": "CSRF Org " + uuid.uuid4().hex[:6],
            "country": "FR", "email": email, "password": "Csrf-pass-12345",
            "password2": "Csrf-pass-12345"}
    for what, token in (("no token", None), ("wrong token", "A" * 43),
                        ("empty", "")):
        fields = dict(vals)
        if token is not None:
            fields["csrf"] = token
        r = c.post("/signup", fields, follow=False)
        assert r.status == 403, "%s: HTTP %d" % (what, r.status)
    # a token with no cookie to match (a cross-site form has no cookie)
    bare = WebClient(web.web_url, web.tls_ca)
    r = bare.post("/signup", dict(vals, csrf=pre), follow=False)
    assert r.status == 403, r.status
    assert sql(web, "SELECT count(*) FROM external_account WHERE "
               "lower(email) = lower(%s)" % q(email)) == "0"
    r = c.post("/login", {"email": email, "password": "x"}, follow=False)
    assert r.status == 403, r.status


def test_csrf_office(web, op, alice):
    oid = org_id(web, alice.email)
    before = sql(web, "SELECT credit_balance || '/' || (SELECT count(*) "
                 "FROM credit_ledger WHERE organization_id = %s) FROM "
                 "organization WHERE id = %s" % (oid, oid))
    for fields in ({"amount": "100", "reason": "csrf"},
                   {"amount": "100", "reason": "csrf", "csrf": "B" * 43}):
        r = op.post("/office/organizations/%s/credit" % oid, fields,
                    follow=False)
        assert r.status == 403, r.status
    r = op.post("/office/organizations/%s/status" % oid,
                {"action": "validate"}, follow=False)
    assert r.status == 403, r.status
    after = sql(web, "SELECT credit_balance || '/' || (SELECT count(*) "
                "FROM credit_ledger WHERE organization_id = %s) FROM "
                "organization WHERE id = %s" % (oid, oid))
    assert after == before
    assert sql(web, "SELECT status FROM organization WHERE id = %s"
               % oid) == "PENDING"


# ---------------------------------------------------- session fixation


def test_session_fixation(web, sink, alice):
    planted = "P" * 43
    c = WebClient(web.web_url, web.tls_ca)
    c.set_cookie("__Host-sid", planted)
    r = webclient.login(c, alice.email, alice.password)
    assert r.status == 200 and r.url.endswith("/dashboard"), r.url
    sid = c.cookie("__Host-sid")
    assert sid and sid != planted
    assert sid != c.cookie("__Host-pre")
    # the planted value gives no access
    c2 = WebClient(web.web_url, web.tls_ca)
    c2.set_cookie("__Host-sid", planted)
    r = c2.get("/dashboard", follow=False)
    assert r.status == 303 and r.location.endswith("/login"), r.status
    # a second sign-in from a client that holds a session: a new token
    r = c.post("/login", {"email": alice.email, "password": alice.password,
                          "csrf": csrf_of(c, "/dashboard")})
    assert r.url.endswith("/dashboard"), r.url
    sid2 = c.cookie("__Host-sid")
    assert sid2 and sid2 != sid
    # the pre-session token of the sign-in page is no session
    c3 = WebClient(web.web_url, web.tls_ca)
    c3.set_cookie("__Host-sid", c.cookie("__Host-pre") or "x")
    assert c3.get("/dashboard", follow=False).status == 303
    # signed out: the old token gives no access
    r = c.post("/logout", {"csrf": csrf_of(c, "/dashboard")})
    assert r.url.endswith("/login"), r.url
    c4 = WebClient(web.web_url, web.tls_ca)
    c4.set_cookie("__Host-sid", sid2)
    r = c4.get("/dashboard", follow=False)
    assert r.status == 303 and r.location.endswith("/login"), r.status
    digest = hashlib.sha256(sid2.encode()).hexdigest()
    assert sql(web, "SELECT count(*) FROM web_session WHERE token_hash = "
               "decode('%s', 'hex')" % digest) == "0"
    # and GET /logout does not sign out (POST only)
    r = alice.c.get("/logout", follow=False)
    assert r.status in (404, 405), r.status
    assert alice.c.get("/dashboard", follow=False).status == 200


def test_password_change_rotates_the_session(web, sink):
    """Changing the password ends the other sessions and moves this one
    to a new token: a copy of the old token (stolen: the reason for the
    change) no longer signs in."""
    cust = webclient.new_customer(web, sink, "rotate")
    c = cust.c
    old = c.cookie("__Host-sid")
    assert old
    other = WebClient(web.web_url, web.tls_ca)
    r = webclient.login(other, cust.email, cust.password)
    assert r.url.endswith("/dashboard"), r.url
    new_pw = "Pass-" + uuid.uuid4().hex
    r = post_form(c, "/settings", "/settings", button="^Change",
                  values={"current": cust.password, "password": new_pw,
                          "password2": new_pw})
    assert r.status == 200 and r.url.endswith("/settings"), \
        (r.status, r.url, visible_text(r.text)[:1000])
    new = c.cookie("__Host-sid")
    assert new and new != old, "the session kept its token"
    assert c.get("/dashboard", follow=False).status == 200
    for sid in (old, other.cookie("__Host-sid")):
        stale = WebClient(web.web_url, web.tls_ca)
        stale.set_cookie("__Host-sid", sid)
        r = stale.get("/dashboard", follow=False)
        assert r.status == 303 and r.location.endswith("/login"), r.status
    digest = hashlib.sha256(old.encode()).hexdigest()
    assert sql(web, "SELECT count(*) FROM web_session WHERE token_hash = "
               "decode('%s', 'hex')" % digest) == "0"


def test_closed_organization_gets_no_acme_credential(web):
    """A VALID external account of an organization the CA suspended (its
    external accounts are not suspended with it) creates no ACME account
    and regenerates no key from the portal. Run in a transaction rolled
    back."""
    tag = uuid.uuid4().hex[:8]
    kid, kid2 = str(uuid.uuid4()), str(uuid.uuid4())
    keys = [base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
            for _ in range(3)]
    out = sql(web, """BEGIN;
CREATE TEMP TABLE t ON COMMIT DROP AS SELECT
    (op_organization_insert('test', 'Closed %(t)s', 'FR', NULL, NULL,
    'VALID')).id AS org;
CREATE TEMP TABLE u ON COMMIT DROP AS SELECT
    (op_external_account_insert('test', (SELECT org FROM t),
    'closed-%(t)s@customer.test', 'en', 'VALID', NULL)).id AS xa;
SELECT 'made ' || (op_acme_account_create('test', '%(k2)s', '%(h0)s',
    (SELECT xa FROM u), 'OV', 365, 30, '["closed-%(t)s.test"]')
    ->> 'kid');
UPDATE acme_account SET expires_at = now() - interval '1 day'
    WHERE kid = '%(k2)s';
UPDATE organization SET status = 'SUSPENDED' WHERE id = (SELECT org FROM t);
SELECT 'create ' || portal_acme_account_create('web:x', (SELECT xa FROM u),
    '%(k)s', '%(h1)s', 'OV', '["closed-%(t)s.test"]')::text;
SELECT 'regenerate ' || portal_acme_account_regenerate_key('web:x',
    (SELECT xa FROM u), '%(k2)s', '%(h2)s')::text;
SELECT 'accounts ' || count(*) FROM acme_account WHERE kid = '%(k)s';
ROLLBACK;""" % {"t": tag, "k": kid, "k2": kid2, "h0": keys[0],
                  "h1": keys[1], "h2": keys[2]})
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1]
             for ln in out.splitlines() if " " in ln}
    assert lines.get("made") == kid2, out
    for what in ("create", "regenerate"):
        assert '"refused" : "organization_closed"' in lines[what].replace(
            '"refused": ', '"refused" : '), (what, out)
    assert lines["accounts"] == "0", out


def audit_rows(stack, actor, action, object_type, object_id):
    return int(sql(stack, "SELECT count(*) FROM audit_log WHERE actor = %s "
                   "AND action = %s AND object_type = %s AND object_id = %s"
                   % (q(actor), q(action), q(object_type), q(object_id))))


def test_sign_in_and_out_are_audited(web, sink, alice, operator):
    """Each sign-in and sign-out of a customer or an operator writes its
    audit row (actor, object, client address)."""
    xid = xa_id(web, alice.email)
    actor = "web:" + alice.email
    before_in = audit_rows(web, actor, "sign_in", "external_account", xid)
    before_out = audit_rows(web, actor, "sign_out", "external_account", xid)
    c = WebClient(web.web_url, web.tls_ca)
    r = webclient.login(c, alice.email, alice.password)
    assert r.url.endswith("/dashboard"), r.url
    assert audit_rows(web, actor, "sign_in", "external_account",
                      xid) == before_in + 1
    addr = sql(web, "SELECT detail->>'address' FROM audit_log WHERE "
               "actor = %s AND action = 'sign_in' ORDER BY id DESC LIMIT 1"
               % q(actor))
    assert addr == "127.0.0.1", addr
    r = c.post("/logout", {"csrf": csrf_of(c, "/dashboard")})
    assert r.url.endswith("/login"), r.url
    assert audit_rows(web, actor, "sign_out", "external_account",
                      xid) == before_out + 1
    # a wrong password signs nobody in: no sign_in row
    c = WebClient(web.web_url, web.tls_ca)
    webclient.login(c, alice.email, alice.password + "x")
    assert audit_rows(web, actor, "sign_in", "external_account",
                      xid) == before_in + 1
    # an operator
    oid = sql(web, "SELECT id FROM web_operator WHERE name = %s"
              % q(operator["name"]))
    oactor = "operator:" + operator["name"]
    before = audit_rows(web, oactor, "sign_in", "web_operator", oid)
    oc = webclient.operator_client(web)
    r = webclient.operator_login(oc, operator["name"], operator["password"])
    assert r.url.endswith("/office/"), r.url
    assert audit_rows(web, oactor, "sign_in", "web_operator",
                      oid) == before + 1


# ---------------------------------------- another organization's objects


def test_other_organizations_objects(web, alice, bob):
    c = alice.c
    gets = ["/documents/%s/file" % bob.doc,
            "/accounts/%s" % bob.kid,
            "/certificates/%s" % bob.cert_id,
            "/certificates/%s" % bob.serial,
            "/certificates/%s/pem" % bob.cert_id,
            "/certificates/%s/pem" % bob.serial,
            "/notifications/%s" % bob.message]
    for path in gets:
        r = c.get(path, follow=False)
        assert r.status in (403, 404), "%s: HTTP %d" % (path, r.status)
        assert bob.domain not in r.text and bob.kid not in r.text.replace(
            path, ""), path
        assert b"%PDF" not in r.body and b"BEGIN CERTIFICATE" not in r.body
    # the same pages work for bob (the refusals are about the owner)
    for path in gets:
        r = bob.c.get(path, follow=False)
        assert r.status == 200, "bob %s: HTTP %d" % (path, r.status)
    # searches do not find them (the search box shows what was typed)
    for term in (bob.domain, bob.serial, bob.cert_id):
        r = c.get("/certificates?q=" + term)
        assert r.status == 200, r.status
        page = re.sub(r"(?s)<form.*?</form>", "", r.text)
        assert bob.domain not in page and bob.cert_id not in page and \
            bob.serial not in page.replace(":", "").lower(), term
    # POST actions: refused, nothing changed
    before = sql(web, "SELECT status || ' ' || coalesce(hmac_key, '-') || "
                 "' ' || coalesce(bound_at::text, '-') FROM acme_account "
                 "WHERE kid = %s" % q(bob.kid))
    token = csrf_of(c, "/dashboard")
    for path in ("/accounts/%s/suspend" % bob.kid,
                 "/accounts/%s/regenerate" % bob.kid,
                 "/accounts/%s/reactivate" % bob.kid,
                 "/certificates/%s/revoke" % bob.cert_id,
                 "/certificates/%s/revoke" % bob.serial):
        r = c.post(path, {"csrf": token, "reason": "keyCompromise"},
                   follow=False)
        assert r.status in (403, 404), "%s: HTTP %d" % (path, r.status)
        no_leak = bob.domain not in r.text
        assert no_leak, path
    assert sql(web, "SELECT status || ' ' || coalesce(hmac_key, '-') || ' '"
               " || coalesce(bound_at::text, '-') FROM acme_account WHERE "
               "kid = %s" % q(bob.kid)) == before
    assert sql(web, "SELECT revoked_at IS NULL FROM certificate WHERE "
               "id = %s" % q(bob.cert_id)) == "t"
    # bob's own objects are not on alice's lists
    for path in ("/documents", "/accounts", "/certificates", "/credit",
                 "/notifications", "/dashboard", "/organization"):
        r = c.get(path)
        assert r.status == 200, path
        for secret in (bob.domain, bob.kid, bob.org, bob.email):
            assert secret not in r.text, "%s shows %s" % (path, secret)
    # the office is not reachable from the portal, even signed in
    for path in ("/office/", "/office/organizations/%s" % org_id(
            web, bob.email), "/office/audit"):
        r = c.get(path, follow=False)
        assert r.status in (403, 404), (path, r.status)


# ------------------------------------------------------ HTML injection


def test_html_injection_everywhere(web, sink, op, bob):
    """The payload in every text field, then every page that shows it."""
    P = PAYLOAD
    tag = uuid.uuid4().hex[:4]
    org_name = P + " " + tag
    anon = WebClient(web.web_url, web.tls_ca)

    # sign-up refused (bad country, bad e-mail): the form comes back with
    # the values typed, escaped; the passwords are not sent back
    r = webclient.signup(anon, P, "Xss-password-1234", P, country=P,
                         state=P, locality=P)
    assert r.status == 400, r.status
    shows_escaped(r, "refused sign-up")
    assert "Xss-password-1234" not in r.text
    # a sign-up that works, with the payload in the organization's name,
    # state and locality
    x = webclient.new_customer(web, sink, "xss", org=org_name, state=P,
                               locality=P)
    oid = org_id(web, x.email)
    assert sql(web, "SELECT name = %s AND state = %s AND locality = %s FROM"
               " organization WHERE id = %s" % (q(org_name), q(P), q(P),
                                                oid)) == "t"
    for path in ("/dashboard", "/organization"):
        shows_escaped(x.c.get(path), path)
    # the organization's details edited (PENDING): the payload again
    r = post_form(x.c, "/organization", "/organization",
                  values={"name": org_name, "state": P + "2",
                          "locality": P + "3"})
    assert r.status == 200, visible_text(r.text)[:1000]
    shows_escaped(r, "organization saved")
    # a domain that is not one: refused, echoed escaped (or not at all)
    r = post_form(x.c, "/organization", "/organization/domains",
                  values={"domain": P})
    assert r.status == 400, r.status
    no_raw(r, "bad domain")
    assert sql(web, "SELECT count(*) FROM domain WHERE organization_id = %s"
               % oid) == "0"
    # a document whose reference and file name hold the payload
    r = upload(x.c, "ORGANIZATION_PROOF", P + ".pdf", "application/pdf",
               webclient.tiny_pdf(), reference=P)
    assert r.status == 200, visible_text(r.text)[:1000]
    shows_escaped(r, "documents")
    doc = sql(web, "SELECT id FROM document WHERE organization_id = %s"
              % oid)
    r = x.c.get("/documents/%s/file" % doc)
    assert r.status == 200
    cd = r.header("content-disposition") or ""
    assert "<" not in cd and "\r" not in cd and "\n" not in cd, cd
    # a reference refused (too long) comes back escaped
    r = upload(x.c, "REQUEST_FORM", "form.png", "image/png",
               webclient.tiny_png(), reference=P * 5)
    assert r.status == 400, r.status
    no_raw(r, "reference too long")
    # searches and sign-in forms echo what was typed
    for c, path in ((x.c, "/certificates?q="), (anon, "/signup/resend?email="),
                    (op, "/office/organizations?q="),
                    (op, "/office/certificates?q="), (op, "/office/audit?q=")):
        r = c.get(path + urllib.parse.quote(P))
        assert r.status in (200, 400), (path, r.status)
        no_raw(r, path)
        if r.status == 200 and "q=" in path:
            shows_escaped(r, path)
    for form_page, values in (
            ("/login", {"email": P, "password": "x"}),
            ("/password/forgot", {"email": P}),
            ("/signup/resend", {"email": P})):
        c = WebClient(web.web_url, web.tls_ca)
        r = post_form(c, form_page, form_page, values=values)
        assert r.status < 500, (form_page, r.status)
        no_raw(r, "POST " + form_page)
    c = webclient.operator_client(web)
    r = webclient.operator_login(c, P, "x")
    assert r.status in (400, 401, 403), r.status
    no_raw(r, "office sign-in")
    # the operator's pages: queue, organization, document
    shows_escaped(op.get("/office/"), "office queue")
    page = office_org_page(op, org_name)
    shows_escaped(page, "office organization")
    shows_escaped(op.get("/office/documents/%s" % doc), "office document")
    r = op.get("/office/documents/%s/file" % doc)
    assert r.status == 200 and r.body.startswith(b"%PDF"), r.status
    cd = r.header("content-disposition") or ""
    assert "<" not in cd and "\r" not in cd and "\n" not in cd and \
        cd.count('"') in (0, 2), cd
    shows_escaped(op.get("/office/external-accounts/%s" % xa_id(
        web, x.email)), "office external account")
    # the operator rejects the document with the payload as reason, and
    # adds credit with the payload as reason
    r = post_form(op, "/office/documents/%s" % doc,
                  r"^/office/documents/%s/decision$" % doc, button="Reject",
                  values={"reason": P})
    assert r.status == 200, visible_text(r.text)[:1000]
    assert sql(web, "SELECT status || ' ' || decision_reason FROM document "
               "WHERE id = %s" % doc) == "REJECTED " + P
    r = post_form(op, page.url, r"^/office/organizations/%s/credit$" % oid,
                  values={"amount": "3", "reason": P})
    assert r.status == 200, visible_text(r.text)[:1000]
    shows_escaped(r, "office organization after credit")
    shows_escaped(x.c.get("/documents"), "portal documents (rejected)")
    shows_escaped(x.c.get("/credit"), "portal credit")
    # the audit log shows the payload (organization name, reasons...)
    r = op.get("/office/audit?q=" + urllib.parse.quote(x.email))
    shows_escaped(r, "audit log of the customer")
    r = op.get("/office/audit?q=organization%20" + oid)
    shows_escaped(r, "audit log of the organization")
    # ACME account form (bob's account is VALID): names, domain, profile
    for values in ({"names": P}, {"domain": P}, {"profile": P,
                                                 "domain": bob.domain}):
        r = post_form(bob.c, "/accounts/new", "/accounts/new", values=values)
        assert r.status == 400, (values, r.status)
        no_raw(r, "new ACME account %s" % list(values))
    # revocation reasons (portal and office) that are none
    r = bob.c.post("/certificates/%s/revoke" % bob.cert_id,
                   {"csrf": csrf_of(bob.c, "/certificates/%s" % bob.cert_id),
                    "reason": P})
    assert r.status == 400, r.status
    no_raw(r, "portal revocation reason")
    r = op.post("/office/certificates/%s/revoke" % bob.cert_id,
                {"csrf": csrf_of(op, "/office/certificates/%s" %
                                 bob.cert_id), "reason": P})
    assert r.status == 400, r.status
    no_raw(r, "office revocation reason")
    assert sql(web, "SELECT revoked_at IS NULL FROM certificate WHERE id = "
               "%s" % q(bob.cert_id)) == "t"
    # settings: a language that is none
    r = post_form(x.c, "/settings", "/settings", button="Save",
                  values={"language": P})
    assert r.status == 400, r.status
    no_raw(r, "settings")
    # every page of the customer, once more
    for path in ("/dashboard", "/organization", "/documents", "/accounts",
                 "/certificates", "/credit", "/notifications", "/settings"):
        no_raw(x.c.get(path), path)


def test_html_injection_in_a_real_browser(web, sink, op, tmp_path):
    """Chromium opens the office's pages that show the payload: no
    script runs (no dialog), no <img> element is made from it."""
    import test_web_journey
    P = PAYLOAD
    x = webclient.new_customer(web, sink, "xssb",
                               org=P + " " + uuid.uuid4().hex[:4])
    oid = org_id(web, x.email)
    jar = str(tmp_path / "op-cookies.json")
    test_web_journey.node_step("office_login", {
        "base": web.office_url, "jar": jar, "cert": web.operator_cert,
        "key": web.operator_key,
        "name": webclient.ensure_operator(web)["name"],
        "password": webclient.ensure_operator(web)["password"]})
    r = test_web_journey.node_step("no_injection", {
        "base": web.office_url, "jar": jar, "cert": web.operator_cert,
        "key": web.operator_key,
        "paths": ["/office/", "/office/organizations/%s" % oid,
                  "/office/audit?q=" + urllib.parse.quote(
                      x.email)],
        "payload": P})
    assert r["dialogs"] == [] and r["images"] == 0, r
    # the payload reads as text (JSON-escaped in the audit's details)
    shown = (P, P.replace('"', '\\"'))
    assert all(any(p in t for p in shown) for t in r["texts"]), r["texts"]


# ------------------------------------------------- stylesheet and icon


def page_classes():
    """{(tag or None, class): [file...]} of every class="..." of the pages
    (web/*.c), the tag when it is in the same C string."""
    out = {}
    for path in sorted(glob.glob(os.path.join(stackmod.REPO, "web",
                                              "*.c"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                for m in re.finditer(r'class=\\"([^"\\]*)', line):
                    t = re.search(r'<(\w+)(?:\\.|[^<>"\\])*$',
                                  line[:m.start()])
                    for c in m.group(1).split():
                        if c.endswith("-"):     # badge-STATUS
                            continue
                        key = (t.group(1).lower() if t else None, c)
                        out.setdefault(key, []).append(
                            os.path.basename(path))
    return out


def css_selectors(css):
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [x.strip() for block in re.findall(r"([^{}]+)\{", css)
            for x in block.split(",")]


def test_stylesheet_styles_every_class(web):
    """Every class the pages use has a rule of the one stylesheet, as
    .CLASS or as TAG.CLASS for the element that carries it; so do the
    checkboxes (in tables), <pre class="json"> and the code of a table
    cell, which wrap."""
    r = WebClient(web.web_url, web.tls_ca).get("/static/site.css")
    assert r.status == 200, r.status
    sels = css_selectors(r.text)
    used = page_classes()
    assert len(used) > 20, used     # the scan found the pages' classes
    missing = []
    for (tag, c), files in sorted(used.items(), key=str):
        ok = False
        for sel in sels:
            for m in re.finditer(r"(?:^|[\s>+~])([\w-]*)\.%s(?![\w-])"
                                 % re.escape(c), sel):
                if tag is None or m.group(1) in ("", tag):
                    ok = True
        if not ok:
            missing.append("%s.%s (%s)" % (tag or "", c,
                                           ", ".join(sorted(set(files)))))
    assert not missing, "no rule in web/site.css for: " + "; ".join(missing)
    src = "".join(open(p, encoding="utf-8").read() for p in glob.glob(
        os.path.join(stackmod.REPO, "web", "*.c")))
    assert 'type=\\"checkbox\\"' in src
    assert any('input[type="checkbox"]' in x for x in sels), sels
    # the code of a table cell (the audit's JSON) and <pre> wrap anywhere
    for sel in ("td code", "pre"):
        assert re.search(r"(?:^|[,}]\s*)%s\s*[,{][^}]*overflow-wrap:\s*"
                         r"anywhere" % re.escape(sel), re.sub(
                             r"/\*.*?\*/", "", r.text, flags=re.S)), sel


def test_audit_log_fits_the_window(web, op, tmp_path):
    """Chromium, 1280 px wide: the audit log, whose Detail column shows
    JSON without spaces, is no wider than the window (it wraps), and so
    are the office's other long pages."""
    import test_web_journey
    tag = "layout-check-" + uuid.uuid4().hex[:8]
    long_json = "{%s}" % ", ".join('"sha256_%d": "%s"' % (
        i, hashlib.sha256(b"%d" % i).hexdigest()) for i in range(12))
    sql(web, "SELECT audit('operator:layout', %s, 'document', '0', %s::jsonb)"
        % (q(tag), q(long_json)))
    jar = str(tmp_path / "op-cookies.json")
    who = webclient.ensure_operator(web)
    test_web_journey.node_step("office_login", {
        "base": web.office_url, "jar": jar, "cert": web.operator_cert,
        "key": web.operator_key, "name": who["name"],
        "password": who["password"]})
    r = test_web_journey.node_step("page_widths", {
        "base": web.office_url, "jar": jar, "cert": web.operator_cert,
        "key": web.operator_key,
        "paths": ["/office/audit?q=" + tag, "/office/audit", "/office/"]})
    for p in r["pages"]:
        assert p["styled"], p
        assert p["viewport"] == 1280, p
        assert p["scrollWidth"] <= p["viewport"], \
            "%s is %d px wide in a %d px window" % (
                p["path"], p["scrollWidth"], p["viewport"])


def test_site_icon(web, op):
    """Each area's pages link the icon, served from the binary (200, an
    image, cached), and browsers' own /favicon.ico is it too."""
    anon_office = webclient.operator_client(web)
    for c, page in ((WebClient(web.web_url, web.tls_ca), "/login"),
                    (anon_office, "/office/login"), (op, "/office/")):
        r = c.get(page)
        assert r.status == 200, (page, r.status)
        m = re.search(r'<link rel="icon" type="image/svg\+xml" '
                      r'href="(/static/favicon\.svg\?v=[0-9a-f]{8})">',
                      r.text)
        assert m, r.text[:800]
        for path in (m.group(1), "/favicon.ico"):
            got = c.get(path, follow=False)
            assert got.status == 200, (page, path, got.status)
            assert got.header("content-type") == "image/svg+xml", \
                (path, got.headers)
            assert got.body.startswith(b"<svg ") and \
                got.body.rstrip().endswith(b"</svg>"), got.body[:200]
            check_headers(got, path.split("?")[0])


# ------------------------------------------------------------ the office


def test_office_needs_a_client_certificate(web, certs):
    host, port = "127.0.0.1", web.ports["office_https"]
    status, why = webclient.tls_handshake_refused(host, port, web.tls_ca)
    assert status is None or status == 400, (status, why)
    status, why = webclient.tls_handshake_refused(
        host, port, web.tls_ca, *certs["other_ca"])
    assert status is None or status == 400, (status, why)
    # the operators' CA is enough for nginx (acme-web then wants a sign-in)
    status, why = webclient.tls_handshake_refused(
        host, port, web.tls_ca, *certs["stranger"])
    assert status == 303, (status, why)
    # the portal asks for no certificate
    status, _ = webclient.tls_handshake_refused(
        host, web.ports["web_https"], web.tls_ca)
    assert status == 404, status


def test_operator_password_needs_the_operators_certificate(web, operator,
                                                            certs):
    before = session_rows(web)
    c = webclient.operator_client(web, *certs["stranger"])
    r = webclient.operator_login(c, operator["name"], operator["password"])
    assert r.status in (401, 403), (r.status, r.url)
    assert c.cookie("__Host-sid") is None
    assert "/office/login" in r.url or r.status in (401, 403)
    c = webclient.operator_client(web)
    r = webclient.operator_login(c, operator["name"], "wrong-" +
                                 operator["password"])
    assert r.status in (401, 403), r.status
    assert c.cookie("__Host-sid") is None
    # by e-mail address, right password, right certificate: signed in
    r = webclient.operator_login(c, operator["email"], operator["password"])
    assert r.status == 200 and r.url.endswith("/office/"), r.url
    assert session_rows(web) == before + 1
    sid = c.cookie("__Host-sid")
    # that session does not follow another certificate of the same CA
    other = webclient.operator_client(web, *certs["stranger"])
    other.set_cookie("__Host-sid", sid)
    r = other.get("/office/", follow=False)
    assert r.status == 303 and r.location.endswith("/office/login"), \
        r.status


def test_customer_session_is_not_an_operator(web, alice):
    c = webclient.operator_client(web)
    c.set_cookie("__Host-sid", alice.c.cookie("__Host-sid"))
    r = c.get("/office/", follow=False)
    assert r.status == 303 and r.location.endswith("/office/login"), \
        r.status
    r = c.get("/office/audit", follow=False)
    assert r.status == 303, r.status


def test_acme_web_checks_the_area_itself(web):
    """Straight to acme-web's FastCGI socket (what nginx never sends):
    /office/ outside the office area, the office area without a verified
    certificate, and the portal's pages in the office area are refused."""
    addr = "127.0.0.1:%d" % web.ports["web_fcgi"]
    with open(web.operator_cert) as f:
        pem = f.read()
    cases = [
        ({"ACME_WEB_AREA": "portal"}, "/office/login", (403, 404)),
        ({}, "/office/", (403, 404)),
        ({"ACME_WEB_AREA": "portal", "SSL_CLIENT_VERIFY": "SUCCESS",
          "SSL_CLIENT_CERT": pem}, "/office/login", (403, 404)),
        ({"ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "NONE"},
         "/office/login", (403,)),
        ({"ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "FAILED:x",
          "SSL_CLIENT_CERT": pem}, "/office/login", (403,)),
        ({"ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "SUCCESS"},
         "/office/login", (403,)),
        ({"ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "SUCCESS",
          "SSL_CLIENT_CERT": "garbage"}, "/office/login", (403,)),
        ({"ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "SUCCESS",
          "SSL_CLIENT_CERT": pem}, "/dashboard", (403, 404)),
    ]
    for extra, path, want in cases:
        r = fcgiclient.request(addr, "GET", path, extra=dict(
            extra, REMOTE_ADDR="127.0.0.1"))
        assert r.status in want, (extra.get("ACME_WEB_AREA"),
                                  extra.get("SSL_CLIENT_VERIFY"), path,
                                  r.status)
    # the same certificate, plain PEM (Apache) or URL-escaped (nginx):
    # the office's sign-in page
    for cert in (pem, urllib.parse.quote(pem)):
        r = fcgiclient.request(addr, "GET", "/office/login", extra={
            "ACME_WEB_AREA": "office", "SSL_CLIENT_VERIFY": "SUCCESS",
            "SSL_CLIENT_CERT": cert, "REMOTE_ADDR": "127.0.0.1"})
        assert r.status == 200, r.status


def test_refusal_statuses(web, bob):
    """A refused request is answered by the kind of its refusal: 400 for
    what is invalid (an unknown profile), 404 for what is not found, 409
    for a conflict with the state of the object (reactivating an ACME
    account that is not suspended, editing a validated organization)."""
    c = bob.c
    r = post_form(c, "/accounts/new", "/accounts/new",
                  values={"profile": "NO_SUCH_PROFILE",
                          "domain": bob.domain})
    assert r.status == 400, r.status
    assert "Choose a certificate profile." in visible_text(r.text), \
        visible_text(r.text)[:1500]
    csrf = csrf_of(c, "/accounts")
    r = c.post("/accounts/%s/reactivate" % bob.kid, {"csrf": csrf})
    assert r.status == 409, r.status
    assert "This ACME account is not suspended." in visible_text(r.text), \
        visible_text(r.text)[:1500]
    r = c.post("/accounts/%s/suspend" % uuid.uuid4(), {"csrf": csrf})
    assert r.status == 404, r.status
    # (a validated organization's page has no form: posted as it was)
    r = c.post("/organization", {"csrf": csrf, "name": "Renamed " +
                                 uuid.uuid4().hex[:6], "country": "FR",
                                 "state": "", "locality": ""})
    assert r.status == 409, r.status
    assert "The organization was validated" in visible_text(r.text), \
        visible_text(r.text)[:1500]
    assert sql(web, "SELECT status FROM acme_account WHERE kid = %s"
               % q(bob.kid)) == "VALID"
    assert sql(web, "SELECT o.name = %s FROM organization o JOIN "
               "external_account x ON x.organization_id = o.id WHERE "
               "lower(x.email) = lower(%s)" % (q(bob.org), q(bob.email))) \
        == "t"


# ---------------------------------------------------------- rate limits


def test_customer_sign_in_rate_limit(web, sink):
    cust = webclient.new_customer(web, sink, "ratelimit",
                                  source="127.0.0.21")
    limit = 5   # web_login_max_failures (default)
    c = WebClient(web.web_url, web.tls_ca, source="127.0.0.21")
    for i in range(limit):
        r = webclient.login(c, cust.email, "wrong-%d-%s" % (i,
                                                            cust.password))
        assert r.status == 401, "failure %d: HTTP %d" % (i + 1, r.status)
    r = webclient.login(c, cust.email, cust.password)
    assert r.status == 429, "after %d failures: HTTP %d" % (limit, r.status)
    assert r.header("retry-after"), r.headers
    assert c.cookie("__Host-sid") is None
    # per address: from another client address too
    c2 = WebClient(web.web_url, web.tls_ca, source="127.0.0.22")
    r = webclient.login(c2, cust.email.upper(), cust.password)
    assert r.status == 429, r.status
    # the other customers are not concerned
    other = webclient.new_customer(web, sink, "ratelimit-other",
                                   source="127.0.0.22")
    assert other.c.cookie("__Host-sid")


def test_client_address_rate_limit(web):
    limit = 5 * 4
    c = WebClient(web.web_url, web.tls_ca, source="127.0.0.23")
    for i in range(limit):
        r = webclient.login(c, "nobody-%d-%s@customer.test" % (
            i, uuid.uuid4().hex[:6]), "wrong password %d" % i)
        assert r.status == 401, "failure %d: HTTP %d" % (i + 1, r.status)
    r = webclient.login(c, "someone-else@customer.test", "another one")
    assert r.status == 429, r.status
    # another address is not concerned
    c2 = WebClient(web.web_url, web.tls_ca, source="127.0.0.24")
    r = webclient.login(c2, "someone-else@customer.test", "another one")
    assert r.status == 401, r.status


def test_signup_limit_per_client_address(web):
    """At most web_signup_max_per_hour sign-ups per client address in an
    hour (sql/016_signup_limit.sql): the next one is refused with 429, in
    English or French, before anything is written; another address still
    signs up. The suite's stack allows stackmod.Stack.SIGNUP_MAX (its
    tests sign up from 127.0.0.1): the count of this test's address is
    filled up to 5 below the limit first."""
    addr, other = "127.0.0.31", "127.0.0.32"
    subject = "signup:ip:%s" % addr
    sql(web, "INSERT INTO web_login_failure (subject) SELECT '%s' FROM "
        "generate_series(1, %d)" % (subject, stackmod.Stack.SIGNUP_MAX - 5))

    def attempt(source, lang="en"):
        c = WebClient(web.web_url, web.tls_ca, source=source, lang=lang)
        tag = uuid.uuid4().hex[:8]
        email = "limit-%s@customer.test" % tag
        r = webclient.signup(c, email, "Pass-" + uuid.uuid4().hex,
                             "Org limit %s" % tag)
        return r, email, "Org limit %s" % tag

    for i in range(5):
        r, email, _ = attempt(addr)
        assert r.status == 200, "sign-up %d: HTTP %d %s" % (
            i + 1, r.status, visible_text(r.text)[:500])
        assert sql(web, "SELECT count(*) FROM external_account WHERE "
                   "email = '%s'" % email) == "1"
    counts = ("SELECT (SELECT count(*) FROM organization) || ' ' || "
              "(SELECT count(*) FROM external_account) || ' ' || "
              "(SELECT count(*) FROM outbox) || ' ' || "
              "(SELECT count(*) FROM web_login_failure)")
    before = sql(web, counts)
    r, email, org = attempt(addr)
    assert r.status == 429, r.status
    assert "Too many sign-ups from your network; try again in an hour" in \
        visible_text(r.text), visible_text(r.text)[:500]
    r, _, _ = attempt(addr, lang="fr")
    assert r.status == 429, r.status
    assert "Trop d'inscriptions depuis votre réseau ; réessayez dans une " \
        "heure" in visible_text(r.text), visible_text(r.text)[:500]
    assert sql(web, counts) == before
    assert sql(web, "SELECT count(*) FROM organization WHERE name = '%s'"
               % org) == "0"
    # another address is not concerned
    r, email, _ = attempt(other)
    assert r.status == 200, r.status
    assert sql(web, "SELECT count(*) FROM external_account WHERE email = "
               "'%s'" % email) == "1"
    assert sql(web, "SELECT count(*) FROM web_login_failure WHERE "
               "subject = 'signup:ip:%s'" % other) == "1"


def test_client_rate_limit_groups_an_ipv6_64(web):
    """The per-client limit counts an IPv6 /64 as one client (a customer's
    line holds a whole /64), an IPv4 address as itself."""
    net = "2001:db8:%x:1" % (uuid.uuid4().int & 0xffff)
    sql(web, "SELECT web_login_failed('v6-%d@customer.test', '%s::%x')"
        % (0, net, 1))
    assert sql(web, "SELECT web_client_subject('%s::1')" % net) == \
        "ip:%s::/64" % net
    assert sql(web, "SELECT web_client_subject('%s:ffff:ffff:ffff:ffff')"
               % net) == "ip:%s::/64" % net
    assert sql(web, "SELECT web_client_subject('192.0.2.7')") == \
        "ip:192.0.2.7"
    assert sql(web, "SELECT web_client_subject('not an address')") == \
        "ip:not an address"
    # 4 * max failures from as many addresses of one /64 block the next
    for i in range(1, 4 * 5):
        sql(web, "SELECT web_login_failed('v6-%d@customer.test', "
            "'%s::%x')" % (i, net, i + 1))
    assert sql(web, "SELECT web_login_blocked('fresh@customer.test', "
               "'%s:abcd::99', 5)" % net) == "t"
    # another /64 is not concerned
    other = net[:-1] + "2"  # the next /64
    assert sql(web, "SELECT web_login_blocked('fresh@customer.test', "
               "'%s::99', 5)" % other) == "f"


def test_operator_sign_in_rate_limit(web, certs):
    pwfile = os.path.join(web.tls_dir, "operator-two.password")
    password = "Operator-two-" + uuid.uuid4().hex[:12]
    with open(pwfile, "w") as f:
        f.write(password + "\n")
    web.acmectl("operator", "create", "op.two", "--email", "op.two@ca.test",
                "--cert", certs["two"][0], "--password-file", pwfile)
    c = webclient.operator_client(web, *certs["two"], source="127.0.0.25")
    for i in range(5):
        r = webclient.operator_login(c, "op.two", "wrong %d" % i)
        assert r.status in (401, 403), r.status
    # the right password and certificate are refused now, as the portal
    # does (429, Retry-After), and a wrong one alike: the password is not
    # checked, and the attempt is not counted as one more failure
    failures = sql(web, "SELECT count(*) FROM web_login_failure WHERE "
                   "subject = 'op.two'")
    for pw in (password, "wrong again"):
        r = webclient.operator_login(c, "op.two", pw)
        assert r.status == 429, r.status
        assert r.header("retry-after") == "900", r.headers
        assert re.search(r"Too many failed sign-ins.*wait 15 minutes",
                         visible_text(r.text)), visible_text(r.text)[:1500]
    assert sql(web, "SELECT count(*) FROM web_login_failure WHERE "
               "subject = 'op.two'") == failures
    assert c.cookie("__Host-sid") is None
    assert sql(web, "SELECT count(*) FROM web_session s JOIN web_operator o"
               " ON o.id = s.operator_id WHERE o.name = 'op.two'") == "0"


# -------------------------------------------------------------- uploads


def test_upload_refusals(web, alice):
    c = alice.c
    oid = org_id(web, alice.email)

    def rows():
        return sql(web, "SELECT count(*) FROM document WHERE "
                   "organization_id = %s" % oid)
    before = rows()
    # an executable named and typed as a PDF
    r = upload(c, "ORGANIZATION_PROOF", "kbis.pdf", "application/pdf",
               webclient.fake_exe())
    assert r.status in (400, 415), r.status
    assert re.search(r"PDF, PNG (and|or) JPEG", r.text), \
        visible_text(r.text)[:1500]
    # an empty file
    r = upload(c, "ORGANIZATION_PROOF", "empty.pdf", "application/pdf", b"")
    assert r.status == 400, r.status
    assert re.search(r"file", visible_text(r.text), re.I)
    # the form states the limit (web_upload_max: 5 MiB)
    r = c.get("/documents")
    assert "A PDF, PNG or JPEG file of at most 5 MiB." in visible_text(
        r.text), visible_text(r.text)[:1500]
    # one byte over web_upload_max, a real PDF start: a page saying the
    # file is too large and what the limit is, in English and in French
    big = webclient.tiny_pdf() + b"%" + b"x" * (5 * 1024 * 1024)
    r = upload(c, "ORGANIZATION_PROOF", "big.pdf", "application/pdf", big)
    assert r.status == 413, r.status
    assert "The file is too large: the limit is 5 MiB." in visible_text(
        r.text), visible_text(r.text)[:1500]
    # on a page of the signed-in customer (navigation, sign-out)
    assert 'href="/documents"' in r.text and alice.email in r.text, \
        r.text[:2000]
    c.get("/documents?lang=fr")
    try:
        r = upload(c, "ORGANIZATION_PROOF", "big.pdf", "application/pdf",
                   big)
        assert r.status == 413, r.status
        assert "Le fichier est trop volumineux : la limite est de 5 Mio." \
            in visible_text(r.text), visible_text(r.text)[:1500]
    finally:
        c.get("/documents?lang=en")
    # over what nginx lets through (6 MiB): nginx refuses
    huge = webclient.tiny_pdf() + b"%" + b"x" * (7 * 1024 * 1024)
    r = upload(c, "ORGANIZATION_PROOF", "huge.pdf", "application/pdf", huge)
    assert r.status == 413, r.status
    assert rows() == before
    # still works with a good file
    r = upload(c, "ORGANIZATION_PROOF", "good.pdf", "application/pdf",
               webclient.tiny_pdf())
    assert r.status == 200, visible_text(r.text)[:1000]
    assert int(rows()) == int(before) + 1


# ---------------------------------------------------- apache/acme-web.conf


APACHE_WEB = os.path.join(stackmod.REPO, "apache", "acme-web.conf")


class ApacheWeb(deploykit.Proc):
    """Apache httpd serving apache/acme-web.conf on loopback, in front of
    the stack's acme-web (its FastCGI port), with the stack's TLS
    certificate and operators' CA."""

    MODULES = deploykit.Apache.MODULES + deploykit.Apache.PROXY_MODULES

    def __init__(self, stack, name):
        self.dir = deploykit.workdir(stack, name)
        for sub in ("run", "htdocs"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.portal = stackmod.free_port()
        self.office = stackmod.free_port()
        self.http = stackmod.free_port()
        self.error_log = stack.log(name + "-error")
        self.site = os.path.join(self.dir, "acme-web.conf")
        with open(self.site, "w") as f:
            f.write(self.render(stack))
        user = deploykit.apache_user()
        lines = [
            "# written by tests/integration/test_web_security.py",
            'ServerRoot "%s"' % self.dir,
            'PidFile "%s/run/httpd.pid"' % self.dir,
            'DefaultRuntimeDir "%s/run"' % self.dir,
            "Mutex file:%s/run default" % self.dir,
            "ServerName 127.0.0.1",
            'DocumentRoot "%s/htdocs"' % self.dir,
            "Listen 127.0.0.1:%d" % self.portal,
            "Listen 127.0.0.1:%d" % self.office,
            "Listen 127.0.0.1:%d" % self.http,
            'ErrorLog "%s"' % self.error_log,
            "LogLevel info",
            "StartServers 1", "ServerLimit 2", "ThreadsPerChild 16",
            "MaxRequestWorkers 32", "GracefulShutdownTimeout 5",
        ]
        if user is not None:
            lines += ["User %s" % user, "Group %s" % user]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (
            m, deploykit.APACHE_MODULES, m) for m in self.MODULES]
        lines += ["SSLSessionCache shmcb:%s/run/ssl_scache(512000)" %
                  self.dir, 'Include "%s"' % self.site]
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        apache2 = stackmod.need_tool("apache2")
        env = deploykit.Apache.env()
        r = subprocess.run([apache2, "-t", "-f", self.conf, "-d", self.dir],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, "apache2 -t:\n%s%s" % (r.stdout, r.stderr)
        super().__init__(stack, name, [apache2, "-DFOREGROUND", "-f",
                                       self.conf, "-d", self.dir], env=env)
        self.logs.append(self.error_log)
        deploykit.wait_until(lambda: self.alive() and deploykit.tcp_open(
            self.office), 30, "apache %s" % name)

    def render(self, stack):
        with open(APACHE_WEB) as f:
            s = f.read()
        what = "apache/acme-web.conf"
        rep = deploykit._replace
        s = rep(s, '"unix:/run/acme/acme-web.sock|fcgi://acme-web/"',
                '"fcgi://127.0.0.1:%d"' % stack.ports["web_fcgi"], what)
        s = rep(s, "<VirtualHost *:80>", "<VirtualHost 127.0.0.1:%d>"
                % self.http, what)
        first = s.index("<VirtualHost *:443>")
        s = s[:first] + "<VirtualHost 127.0.0.1:%d>" % self.portal + \
            s[first + len("<VirtualHost *:443>"):]
        s = rep(s, "<VirtualHost *:443>", "<VirtualHost 127.0.0.1:%d>"
                % self.office, what)
        for name in ("www", "office"):
            s = rep(s, "/etc/ssl/acme/%s.example.com.fullchain.pem" % name,
                    os.path.join(stack.tls_dir, "server.pem"), what)
            s = rep(s, "/etc/ssl/private/%s.example.com.key" % name,
                    os.path.join(stack.tls_dir, "server.key"), what)
        s = rep(s, "ServerName www.example.com", "ServerName 127.0.0.1", what)
        s = rep(s, "ServerName office.example.com", "ServerName 127.0.0.1",
                what)
        s = rep(s, "https://www.example.com/", "https://127.0.0.1:%d/"
                % self.portal, what)
        s = rep(s, "/etc/acme/operators-ca.pem", stack.operator_ca, what)
        for log in ("acme-web.error.log", "acme-office.error.log"):
            s = rep(s, "/var/log/apache2/" + log, self.error_log, what)
        for log in ("acme-web.access.log", "acme-office.access.log"):
            s = rep(s, "/var/log/apache2/" + log,
                    os.path.join(self.dir, log), what)
        return s


def test_apache_vhosts(web, operator):
    a = ApacheWeb(web, "apache-web")
    try:
        portal = WebClient("https://127.0.0.1:%d" % a.portal, web.tls_ca)
        r = portal.get("/login")
        assert r.status == 200 and r.form("/login"), r.status
        check_headers(r, "apache portal /login")
        assert "max-age" in (r.header("strict-transport-security") or "")
        r = portal.get("/office/login", follow=False)
        assert r.status in (403, 404), r.status
        # the office: no certificate, no handshake
        status, why = webclient.tls_handshake_refused(
            "127.0.0.1", a.office, web.tls_ca)
        assert status is None or status in (400, 403), (status, why)
        # with the operator's: its sign-in works (the certificate came as
        # plain PEM, SSLOptions +ExportCertData)
        c = WebClient("https://127.0.0.1:%d" % a.office, web.tls_ca,
                      cert=web.operator_cert, key=web.operator_key)
        r = c.get("/", follow=False)
        assert r.status == 303 and r.location.endswith("/office/"), r.status
        r = webclient.operator_login(c, operator["name"],
                                     operator["password"])
        assert r.status == 200 and r.url.endswith("/office/"), \
            (r.status, r.url, visible_text(r.text)[:1000])
        check_headers(r, "apache office queue")
        # the portal's pages are not in the office area
        r = c.get("/dashboard", follow=False)
        assert r.status in (403, 404), r.status
    finally:
        a.stop()


# ------------------------------------------------------ nginx/acme-web.conf


NGINX_WEB = os.path.join(stackmod.REPO, "nginx", "acme-web.conf")


class NginxWeb(deploykit.Proc):
    """nginx serving the sample site nginx/acme-web.conf (its lines
    marked EDIT rendered for loopback) in front of the stack's acme-web,
    with nginx/acme-web-locations.conf included unchanged."""

    def __init__(self, stack, name):
        self.dir = deploykit.workdir(stack, name)
        for t in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(self.dir, t), exist_ok=True)
        self.portal = stackmod.free_port()
        self.office = stackmod.free_port()
        self.http = stackmod.free_port()
        self.error_log = stack.log(name + "-error")
        self.site = os.path.join(self.dir, "acme-web.conf")
        with open(self.site, "w") as f:
            f.write(self.render(stack))
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = """# written by tests/integration/test_web_security.py
%(user)sdaemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(err)s info;
events { worker_connections 128; }
http {
	client_body_temp_path %(d)s/body;
	fastcgi_temp_path %(d)s/fastcgi;
	proxy_temp_path %(d)s/proxy;
	scgi_temp_path %(d)s/scgi;
	uwsgi_temp_path %(d)s/uwsgi;
	default_type application/octet-stream;
	include %(site)s;
}
""" % {"user": user, "d": self.dir, "err": self.error_log, "site": self.site}
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        nginx = stackmod.need_tool("nginx")
        r = subprocess.run([nginx, "-t", "-p", self.dir, "-c", self.conf,
                            "-e", self.error_log], capture_output=True,
                           text=True)
        assert r.returncode == 0, "nginx -t:\n%s%s" % (r.stdout, r.stderr)
        super().__init__(stack, name, [nginx, "-p", self.dir, "-c",
                                       self.conf, "-e", self.error_log])
        self.logs.append(self.error_log)
        deploykit.wait_until(lambda: deploykit.tcp_open(self.office), 30,
                             "nginx %s" % name)

    def render(self, stack):
        with open(NGINX_WEB) as f:
            s = f.read()
        what = "nginx/acme-web.conf"
        rep = deploykit._replace
        s = rep(s, "server unix:/run/acme/acme-web.sock ",
                "server 127.0.0.1:%d " % stack.ports["web_fcgi"], what)
        s = rep(s, "listen 80;", "listen 127.0.0.1:%d;" % self.http, what)
        s = rep(s, "\tlisten [::]:80;\n", "", what)
        first = s.index("listen 443 ssl http2;")
        s = s[:first] + "listen 127.0.0.1:%d ssl http2;" % self.portal + \
            s[first + len("listen 443 ssl http2;"):]
        s = rep(s, "listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;"
                % self.office, what)
        s = s.replace("\tlisten [::]:443 ssl http2;\n", "")
        s = rep(s, "server_name www.example.com;", "server_name 127.0.0.1;",
                what)
        s = rep(s, "server_name office.example.com;",
                "server_name 127.0.0.1;", what)
        for name in ("www", "office"):
            s = rep(s, "/etc/ssl/acme/%s.example.com.fullchain.pem" % name,
                    os.path.join(stack.tls_dir, "server.pem"), what)
            s = rep(s, "/etc/ssl/private/%s.example.com.key" % name,
                    os.path.join(stack.tls_dir, "server.key"), what)
        s = rep(s, "/etc/acme/operators-ca.pem", stack.operator_ca, what)
        for log in ("acme-web.access.log", "acme-office.access.log"):
            s = rep(s, "/var/log/nginx/" + log, os.path.join(self.dir, log),
                    what)
        for log in ("acme-web.error.log", "acme-office.error.log"):
            s = rep(s, "/var/log/nginx/" + log, self.error_log, what)
        s = rep(s, "/usr/local/share/acme/acme-web-locations.conf",
                stackmod.WEB_LOCATIONS, what)
        return s


def test_nginx_sample_site(web, operator):
    """nginx/acme-web.conf as shipped (but for the lines marked EDIT)."""
    n = NginxWeb(web, "nginx-web")
    try:
        portal = WebClient("https://127.0.0.1:%d" % n.portal, web.tls_ca)
        r = portal.get("/login")
        assert r.status == 200 and r.form("/login"), r.status
        check_headers(r, "nginx sample portal /login")
        assert "max-age" in (r.header("strict-transport-security") or "")
        assert portal.get("/office/login", follow=False).status == 404
        status, why = webclient.tls_handshake_refused(
            "127.0.0.1", n.office, web.tls_ca)
        assert status is None or status == 400, (status, why)
        c = WebClient("https://127.0.0.1:%d" % n.office, web.tls_ca,
                      cert=web.operator_cert, key=web.operator_key)
        r = c.get("/", follow=False)
        assert r.status == 303 and r.location.endswith("/office/"), r.status
        r = webclient.operator_login(c, operator["name"],
                                     operator["password"])
        assert r.status == 200 and r.url.endswith("/office/"), \
            (r.status, r.url, visible_text(r.text)[:1000])
        assert c.get("/dashboard", follow=False).status in (403, 404)
        # a document of 5 MiB (web_upload_max) gets through nginx
        assert "client_max_body_size 6m;" in open(
            stackmod.WEB_LOCATIONS).read()
    finally:
        n.stop()


# ------------------------------------------------------------- health


def test_acme_web_still_healthy(web):
    """acme-web ran every test above without dying or a sanitizer
    report."""
    import test_zz_health
    assert web.procs["acme-web"].alive(), stackmod.tail(web.log("acme-web"))
    found = test_zz_health.scan(web, ("acme-web",))
    assert not found, "\n".join(found[:50])
