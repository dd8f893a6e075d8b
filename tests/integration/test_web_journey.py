"""The web site (acme-web) in a real browser: a customer's whole journey
and the operator's work on it, end to end through nginx's two virtual
hosts, with Debian's Chromium driven by the Node steps of tests/browser
(journey.js, playwright-core). This file orchestrates: each step is one
`node tests/browser/journey.js STEP` taking JSON arguments and printing a
JSON result; a step that fails fails the test with its output and a
screenshot of the page it failed on.

  1. the customer signs up; the confirmation e-mail, delivered by the
     worker to a real SMTP server (the Sink of test_notifications.py), is
     read and its link opened; the customer signs in;
  2. declares a domain under the stack's zone, uploads an
     ORGANIZATION_PROOF (a small real PDF) and a REQUEST_FORM (a PNG);
  3. an operator, in a browser presenting the operator's TLS client
     certificate to the office vhost, finds them in the queue, validates
     both documents (valid until a day typed in their form), the domain
     and the organization, adds credit and activates the external
     account;
  4. the customer creates an ACME account for the domain and copies its
     kid and HMAC key from the page; certbot (http-01) gets a certificate
     with them;
  5. the operator previews what revoking the ACME account would do (the
     cascade: 1 unexpired certificate) and does not confirm;
  6. the customer finds the certificate in the portal by name and revokes
     it with a reason; the database and OCSP say it is revoked;
  7. the operator reads every step in the audit log.

The screenshots of the main pages go to STATE/screenshots (the path is
printed; ACME_KEEP_STATE=1 keeps the state directory after a passing
run).
"""

import datetime
import json
import os
import re
import subprocess
import time
import uuid

import pytest

import stack as stackmod
import test_certbot
import test_revocation_status
import webclient
from test_notifications import Sink

BROWSER = os.path.join(stackmod.REPO, "tests", "browser")
JOURNEY = os.path.join(BROWSER, "journey.js")
NODE = "/usr/bin/node"

# The pages the run must have photographed (STATE/screenshots/NAME.png).
SHOTS = ("01-signup", "02-signup-done", "03-email-confirmed", "04-dashboard",
         "05-organization", "06-documents", "07-office-queue",
         "08-office-document", "09-office-organization",
         "10-office-external-account", "11-acme-account-created",
         "12-cascade-preview", "13-certificates", "14-certificate-revoked",
         "15-audit-log")


# ------------------------------------------------------------- helpers


def node_step(name, args, timeout=180):
    """Runs one browser step; returns its JSON result, or fails the test
    with everything the step printed."""
    assert os.access(NODE, os.X_OK), "node missing: run .ci/deps.sh"
    assert os.path.isdir(os.path.join(BROWSER, "node_modules",
                                      "playwright-core")), \
        "playwright-core missing in tests/browser: run .ci/deps.sh"
    env = dict(os.environ, NODE_PATH=os.path.join(BROWSER, "node_modules"))
    try:
        r = subprocess.run([NODE, JOURNEY, name], input=json.dumps(args),
                           capture_output=True, text=True, timeout=timeout,
                           cwd=BROWSER, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail("browser step %s: no result after %ds\n%s%s" % (
            name, timeout, e.stdout or "", e.stderr or ""), pytrace=False)
    lines = [x for x in r.stdout.splitlines() if x.startswith("{")]
    try:
        res = json.loads(lines[-1])
    except (IndexError, ValueError):
        res = None
    if r.returncode != 0 or not res or not res.get("ok"):
        detail = json.dumps(res, indent=1) if res else r.stdout
        pytest.fail("browser step %s failed (exit %d):\n%s\n--- stderr:\n%s"
                    % (name, r.returncode, detail, r.stderr[-4000:]),
                    pytrace=False)
    return res


def sql(stack, query):
    return stack.psql(query).strip()


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("timed out after %ds waiting for %s" % (timeout,
                                                                  what))
        time.sleep(0.3)


def mail_link(sink, rcpt, pattern, timeout=60):
    """The first URL matching pattern in a message to rcpt."""
    def found():
        for m in sink.messages(rcpt):
            hit = re.search(pattern, m["body"])
            if hit:
                return hit.group(0)
        return None
    return wait_for(found, timeout, "a message to %s with a link %s" % (
        rcpt, pattern))


# ------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def web(stack):
    assert stack.web, "%s/acme-web is missing: run make" % stack.build
    return stack


@pytest.fixture(scope="module")
def sink(web):
    s = Sink(os.path.join(web.state, "mail-web-journey"), web.ports["smtp"])
    s.start()
    try:
        yield s
    finally:
        try:
            wait_for(lambda: sql(web, "SELECT count(*) FROM outbox WHERE "
                                 "status = 'pending'") == "0", 60,
                     "the outbox to empty")
        finally:
            s.stop()


def say(request, text):
    """Prints a line on the terminal, past pytest's output capture."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        print(text)
        return
    with capman.global_and_fixture_disabled():
        print("\n" + text)


@pytest.fixture(scope="module")
def shots(web, request):
    d = os.path.join(web.state, "screenshots")
    os.makedirs(d, exist_ok=True)
    say(request, "acme-web screenshots: %s" % d)
    yield d
    say(request, "acme-web screenshots: %s (%d PNG; the state directory is "
        "removed after a passing run unless ACME_KEEP_STATE is set)" % (
            d, len([f for f in os.listdir(d) if f.endswith(".png")])))


@pytest.fixture(scope="module")
def operator(web):
    return webclient.ensure_operator(web)


class Journey:
    """What the steps share: the customer, the operator, the files."""

    def __init__(self, stack, shots, operator):
        tag = uuid.uuid4().hex[:8]
        self.stack = stack
        self.dir = os.path.join(stack.state, "clients", "web-journey-" + tag)
        os.makedirs(self.dir)
        self.email = "manager-%s@customer.test" % tag
        self.password = "Journey-pass-%s!" % tag
        self.org = "Journey Widgets %s" % tag
        self.domain = "web-%s.%s" % (tag, stack.zone)
        self.op = operator
        self.shots = shots
        self.customer_jar = os.path.join(self.dir, "customer-cookies.json")
        self.operator_jar = os.path.join(self.dir, "operator-cookies.json")
        self.pdf = webclient.write(os.path.join(self.dir, "kbis.pdf"),
                                   webclient.tiny_pdf("K-bis " + self.org))
        self.png = webclient.write(os.path.join(self.dir, "form.png"),
                                   webclient.tiny_png())
        self.kid = self.hmac = None
        self.serial = None
        self.audit_since = int(sql(stack, "SELECT coalesce(max(id), 0) "
                                   "FROM audit_log"))

    def customer(self, step, **args):
        a = {"base": self.stack.web_url, "jar": self.customer_jar,
             "shots": self.shots}
        a.update(args)
        return node_step(step, a)

    def operator(self, step, **args):
        a = {"base": self.stack.office_url, "jar": self.operator_jar,
             "shots": self.shots, "cert": self.stack.operator_cert,
             "key": self.stack.operator_key}
        a.update(args)
        return node_step(step, a)

    def org_id(self):
        return sql(self.stack, "SELECT o.id FROM organization o JOIN "
                   "external_account x ON x.organization_id = o.id WHERE "
                   "lower(x.email) = lower('%s')" % self.email)


@pytest.fixture(scope="module")
def journey(web, shots, operator):
    return Journey(web, shots, operator)


# --------------------------------------------------------------- tests
# The tests run in file order and each needs the ones before it (a test
# that fails leaves the next ones failing on what is missing).


def test_browser_works(web, shots):
    """Chromium starts headless here and renders a page of the portal."""
    r = node_step("probe", {"base": web.web_url, "shots": shots})
    assert r["status"] == 200, r
    assert r["css"], "the stylesheet is not applied: %r" % r


def test_signup_and_confirm(web, sink, journey):
    j = journey
    r = j.customer("signup", org=j.org, country="FR", state="Ile-de-France",
                   locality="Paris", email=j.email, password=j.password)
    assert j.email in r["text"] or "mail" in r["text"].lower(), r["text"]
    # not signed in yet, and nothing usable before the address is confirmed
    assert sql(web, "SELECT email_confirmed_at IS NULL FROM external_account"
               " WHERE lower(email) = lower('%s')" % j.email) == "t"
    link = mail_link(sink, j.email, r"https://127\.0\.0\.1:%d/confirm/\S+"
                     % web.ports["web_https"])
    r = j.customer("open", url=link, shot="03-email-confirmed")
    assert r["status"] == 200, r
    assert sql(web, "SELECT email_confirmed_at IS NOT NULL FROM "
               "external_account WHERE lower(email) = lower('%s')"
               % j.email) == "t"
    # the link serves once
    again = webclient.WebClient(web.web_url, web.tls_ca).get(link)
    assert again.status == 404, again.status


def test_login_dashboard(web, journey):
    j = journey
    r = j.customer("login", email=j.email, password=j.password)
    assert r["url"].endswith("/dashboard"), r
    assert j.org in r["text"], r["text"]
    sid = [c for c in json.load(open(j.customer_jar))
           if c["name"] == "__Host-sid"]
    assert sid and sid[0]["secure"] and sid[0]["httpOnly"] and \
        sid[0]["sameSite"] == "Strict", sid


def test_declare_domain(web, journey):
    j = journey
    r = j.customer("declare_domain", domain=j.domain)
    assert j.domain in r["text"], r["text"]
    assert sql(web, "SELECT count(*) FROM domain WHERE name = '%s' AND "
               "organization_id = %s" % (j.domain, j.org_id())) == "1"


def test_upload_documents(web, journey):
    j = journey
    j.customer("upload", kind="ORGANIZATION_PROOF", file=j.pdf,
               reference="K-bis 2026", shot=None)
    r = j.customer("upload", kind="REQUEST_FORM", file=j.png,
                   reference="Signed form", shot="06-documents")
    assert "kbis.pdf" in r["text"] and "form.png" in r["text"], r["text"]
    rows = sql(web, "SELECT d.kind || ':' || f.content_type || ':' || f.size "
               "FROM document d JOIN document_file f ON f.document_id = d.id"
               " WHERE d.organization_id = %s ORDER BY d.kind" % j.org_id())
    assert rows.splitlines() == [
        "ORGANIZATION_PROOF:application/pdf:%d" % os.path.getsize(j.pdf),
        "REQUEST_FORM:image/png:%d" % os.path.getsize(j.png)], rows


def test_operator_reviews(web, journey):
    """The operator signs in to the office with the client certificate,
    finds the organization in the queue, validates its two documents
    (valid until the day typed), its domain and itself, adds credit and
    activates the external account."""
    j = journey
    r = j.operator("office_login", name=j.op["name"],
                   password=j.op["password"])
    assert j.org in r["text"], "the queue does not show %s:\n%s" % (
        j.org, r["text"])
    # valid until a day the operator types, not the one the form offers
    until = (datetime.datetime.now(datetime.timezone.utc).date() +
             datetime.timedelta(days=500)).isoformat()
    r = j.operator("office_validate_documents", org=j.org, expires=until)
    assert r["validated"] == 2, r
    r = j.operator("office_organization", org=j.org, domain=j.domain,
                   credit="10", reason="Order 2026-42")
    r = j.operator("office_activate", org=j.org)
    st = sql(web, "SELECT o.status || ' ' || x.status || ' ' || "
             "o.credit_balance "
             "FROM organization o JOIN external_account x ON "
             "x.organization_id = o.id WHERE lower(x.email) = lower('%s')"
             % j.email)
    assert st.split() == ["VALID", "VALID", "10"], st
    assert sql(web, "SELECT status FROM domain WHERE name = '%s'"
               % j.domain) == "VALID"
    assert sql(web, "SELECT string_agg(status || ' ' || to_char(expires_at "
               "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), ',' ORDER BY kind) "
               "FROM document WHERE organization_id = %s" % j.org_id()) == \
        "VALID %s 00:00,VALID %s 00:00" % (until, until)


def test_acme_account_and_certbot(web, journey):
    """The customer creates an ACME account for the domain and copies the
    credentials from the page; certbot uses them."""
    j = journey
    r = j.customer("create_account", domain=j.domain)
    j.kid, j.hmac = r["kid"], r["hmac"]
    assert re.fullmatch(r"[0-9a-f-]{36}", j.kid), r
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", j.hmac), r
    # the page shows the key once: the account's page does not
    assert j.hmac not in r["again"], "the HMAC key is shown again"
    base = os.path.join(j.dir, "certbot")
    os.makedirs(base)
    test_certbot.certbot(
        web, base, "certonly", "--agree-tos", "-m", j.email,
        "--no-eff-email", "--eab-kid", j.kid, "--eab-hmac-key", j.hmac,
        "--standalone", "--preferred-challenges", "http-01",
        "--http-01-address", "127.0.0.1",
        "--http-01-port", str(web.http01_port), "--key-type", "rsa",
        "--rsa-key-size", "2048", "--cert-name", j.domain, "-d", j.domain)
    chain, _ = test_certbot.lineage(base, j.domain)
    j.cert_pem = os.path.join(base, "config", "live", j.domain, "cert.pem")
    j.serial = sql(web, "SELECT c.serial FROM certificate c JOIN account a "
                   "ON a.id = c.account_id JOIN acme_account e ON "
                   "e.id = a.acme_account_id WHERE e.kid = '%s'" % j.kid)
    assert j.serial, "no certificate of the ACME account in the database"


def test_cascade_preview(web, journey):
    """The operator's preview of revoking the ACME account counts its
    unexpired certificate; nothing is changed without the confirmation."""
    j = journey
    r = j.operator("office_preview", kid=j.kid, action="revoke")
    assert re.search(r"\b1\b", r["text"]), r["text"]
    assert sql(web, "SELECT status FROM acme_account WHERE kid = '%s'"
               % j.kid) == "VALID"
    assert sql(web, "SELECT revoked_at IS NULL FROM certificate WHERE "
               "serial = '%s'" % j.serial) == "t"


def test_customer_revokes(web, journey):
    j = journey
    r = j.customer("find_and_revoke", name=j.domain, reason="keyCompromise")
    assert j.domain in r["found"], r
    got = sql(web, "SELECT revocation_reason FROM certificate WHERE "
              "serial = '%s' AND revoked_at IS NOT NULL" % j.serial)
    assert got == "1", "certificate %s: revocation reason %r" % (j.serial,
                                                                  got)
    out = test_revocation_status.ocsp_seen(web, j.cert_pem, "revoked")
    assert re.search(r"Reason:\s*keyCompromise", out), out


def test_audit_log(web, journey):
    """Every step is in the audit log the operator reads: each row the
    journey wrote (about its organization, documents, domain, external
    account, ACME account and certificate, or by its customer or its
    operator) is on the office's audit pages, with its actor and action;
    and among them the document validations, the organization's
    validation, the account's activation, the ACME account's creation,
    the issuance and the revocation."""
    j = journey
    org = j.org_id()
    xa = sql(web, "SELECT id FROM external_account WHERE lower(email) = "
             "lower('%s')" % j.email)
    docs = sql(web, "SELECT string_agg(id::text, ',') FROM document WHERE "
               "organization_id = %s" % org).split(",")
    dom = sql(web, "SELECT id FROM domain WHERE name = '%s'" % j.domain)
    cert = sql(web, "SELECT id FROM certificate WHERE serial = '%s'"
               % j.serial)
    objects = {("organization", org), ("external_account", xa),
               ("domain", dom), ("acme_account", j.kid),
               ("certificate", cert), ("certificate", j.serial)}
    objects |= {("document", d) for d in docs}
    actors = ("web:" + j.email, "operator:" + j.op["name"])
    want = []
    for line in sql(web, "SELECT id || '|' || actor || '|' || action || '|' "
                    "|| object_type || '|' || coalesce(object_id, '') FROM "
                    "audit_log WHERE id > %d ORDER BY id" % j.audit_since
                    ).splitlines():
        i, actor, action, otype, oid = line.split("|", 4)
        if actor in actors or (otype, oid) in objects:
            want.append((i, actor, action, otype, oid))
    r = j.operator("office_audit", since=j.audit_since)
    shown = {row[0]: row for row in r["rows"] if len(row) >= 5}
    missing = [w for w in want if w[0] not in shown or
               shown[w[0]][2] != w[1] or shown[w[0]][3] != w[2] or
               not shown[w[0]][4].startswith(w[3])]
    assert not missing, "audit rows not shown as they are: %s\nshown: %s" % (
        missing, json.dumps(r["rows"], indent=0)[:6000])

    def some(otype, actor_prefix, action_re):
        return any(w[3] == otype and w[1].startswith(actor_prefix) and
                   re.search(action_re, w[2], re.I) for w in want)
    steps = {
        "document validations": sum(
            1 for w in want if w[3] == "document" and
            w[1].startswith("operator:") and
            re.search(r"valid|decid", w[2], re.I)) >= 2,
        "organization validation": some("organization", "operator:",
                                        r"valid|status"),
        "account activation": some("external_account", "operator:",
                                   r"activ|status"),
        "ACME account creation": some("acme_account", "web:", r"creat"),
        "issuance": any(w[3] == "certificate" and
                        re.search(r"issue", w[2], re.I) for w in want),
        "revocation": some("certificate", "web:", r"revok"),
    }
    absent = [k for k, ok in steps.items() if not ok]
    assert not absent, "no audit row for %s among:\n%s" % (
        absent, "\n".join(map(str, want)))


def test_screenshots(shots):
    """The run photographed every main page: real PNG files."""
    missing = []
    for name in SHOTS:
        path = os.path.join(shots, name + ".png")
        try:
            with open(path, "rb") as f:
                head = f.read(24)
        except OSError:
            missing.append(name)
            continue
        assert head[:8] == b"\x89PNG\r\n\x1a\n", path
        w = int.from_bytes(head[16:20], "big")
        h = int.from_bytes(head[20:24], "big")
        assert w >= 800 and h >= 300, "%s is %dx%d" % (path, w, h)
    assert not missing, "no screenshot of %s in %s" % (missing, shots)
