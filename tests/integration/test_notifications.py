"""E-mail notifications (common/notify.c, common/smtp.c, worker/notify.c,
sql/007_notifications.sql), end to end: each of the four digests made by
a run (acmectl notify run-daily: the stack's workers never make them on
their own, notify_hour = -1) from a situation set up with acmectl and the
ACME API, delivered by the workers over SMTP to a real server on loopback
(python3-aiosmtpd, a sink writing each message to a file of the state
directory), once, with the content a customer needs, in the account's
language. Also: two workers and the scheduled run elected once; the SMTP
server down (the message waits, then goes); permanent refusals and the
outbox commands; STARTTLS with AUTH; a broken template.

Where the situation needs days to pass (a document or a certificate near
its expiry, a reminder a week later), the test moves the timestamps in the
database with psql instead, and says so.
"""

import asyncio
import datetime
import email
import email.policy
import glob
import json
import os
import shutil
import signal
import ssl
import subprocess
import threading
import time
import uuid

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509

import acmeclient
import stack as stackmod
import test_zz_health
from acmeclient import AcmeClient
from test_protocol import ready_order

FROM = "acme@ca.test"


# ------------------------------------------------------------- the sink


class _Handler:
    """aiosmtpd handler: refuses the addresses in sink.refuse at RCPT TO
    (550), writes every message accepted to NNNNNN.eml and its envelope to
    NNNNNN.json."""

    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        with self.sink.lock:
            Sink.counter += 1
            n = Sink.counter
        base = os.path.join(self.sink.dir, "%06d-%s" % (n, uuid.uuid4().hex))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) \
            else None
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from,
                       "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None,
                       "login": login}, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 OK queued as %d" % n


class Sink:
    """An SMTP server on 127.0.0.1:port keeping each message in a file of
    directory; started and stopped at will (stopped: connections are
    refused)."""

    counter = 0

    def __init__(self, directory, port, **smtp_kw):
        self.dir = directory
        self.port = port
        self.smtp_kw = smtp_kw
        self.refuse = set()
        self.delay = 0
        self.lock = threading.Lock()
        self.controller = None
        os.makedirs(directory, exist_ok=True)

    def start(self):
        if self.controller is None:
            self.controller = Controller(_Handler(self), hostname="127.0.0.1",
                                         port=self.port, **self.smtp_kw)
            self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self, rcpt=None):
        """The messages received (to rcpt only, if given), oldest first:
        dicts with env (the envelope), msg (email.message.EmailMessage),
        raw (bytes), subject and body (decoded)."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.json"))):
            with open(path) as f:
                env = json.load(f)
            if rcpt is not None and rcpt not in env["rcpt_tos"]:
                continue
            with open(path[:-5] + ".eml", "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            out.append({"env": env, "msg": msg, "raw": raw,
                        "subject": str(msg["Subject"]),
                        "body": msg.get_content()})
        return out


@pytest.fixture(scope="module")
def sink(stack):
    s = Sink(os.path.join(stack.state, "mail"), stack.ports["smtp"])
    s.start()
    try:
        yield s
    finally:
        # leave nothing pending that the workers would retry for the rest
        # of the session
        try:
            wait_for(lambda: sql(stack, "SELECT count(*) FROM outbox WHERE "
                                 "status = 'pending'") == "0", 60,
                     "the outbox to empty")
        finally:
            s.stop()


# -------------------------------------------------------------- helpers


def sql(stack, query):
    return stack.psql(query).strip()


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ds waiting for %s" % (
                timeout, what))
        time.sleep(0.3)


def run_daily(stack, conf=None):
    """acmectl notify run-daily; returns its JSON result."""
    args = ["notify", "run-daily", "--json"]
    if conf is None:
        return json.loads(stack.acmectl(*args))
    return json.loads(stack.run([os.path.join(stack.build, "acmectl"), "-c",
                                 conf] + args, "acmectl notify run-daily",
                                log="acmectl"))


def acmectl_fails(stack, *args, conf=None):
    """Runs acmectl expecting exit 1; returns its stderr."""
    r = subprocess.run([os.path.join(stack.build, "acmectl"), "-c",
                        conf or stack.conf, *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, "acmectl %s: exit %d, %s%s" % (
        " ".join(args), r.returncode, r.stdout, r.stderr)
    return r.stderr


def outbox(stack, recipient, kind=None):
    """The outbox rows to recipient (of kind): dicts, oldest first."""
    q = ("SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind,"
         " 'status', status, 'attempts', attempts, 'last_error', last_error,"
         " 'subject', subject, 'body', body, 'resent_from', resent_from)"
         " ORDER BY id), '[]') FROM outbox WHERE recipient = '%s'" %
         recipient)
    if kind is not None:
        q += " AND kind = '%s'" % kind
    return json.loads(sql(stack, q))


def delivered(stack, sink, recipient, kind, n=1, timeout=30):
    """Waits until the n messages of kind to recipient are sent; returns
    the sink's copies of the messages to recipient with that subject."""
    def sent():
        rows = outbox(stack, recipient, kind)
        return len(rows) >= n and all(r["status"] == "sent" for r in rows)
    wait_for(sent, timeout, "%d %s message(s) to %s sent" % (n, kind,
                                                              recipient))
    subjects = {r["subject"] for r in outbox(stack, recipient, kind)}
    return [m for m in sink.messages(recipient) if m["subject"] in subjects]


def new_email():
    return "notify-%s@example.com" % uuid.uuid4().hex[:10]


class Customer:
    """An organization with its external (administrator) account."""

    def __init__(self, stack, uniq, language="en", documents=True):
        self.stack = stack
        self.email = new_email()
        self.org = json.loads(stack.acmectl(
            "organization", "create", "--name", uniq("notify-org"),
            "--country", "FR", "--json"))["id"]
        self.name = json.loads(stack.acmectl(
            "organization", "show", str(self.org), "--json"))["name"]
        if documents:
            for kind in ("ORGANIZATION_PROOF", "REQUEST_FORM"):
                self.document(kind, 365)
            stack.acmectl("organization", "validate", str(self.org))
            stack.acmectl("credit", "add", "--org", str(self.org),
                          "--amount", "50")
        self.ext = json.loads(stack.acmectl(
            "external-account", "create", "--org", str(self.org),
            "--email", self.email, "--language", language,
            "--json"))["id"]
        if documents:
            stack.acmectl("external-account", "activate", str(self.ext))
        self.domain_ok = False

    def document(self, kind, days, reference=None, validate=True):
        args = ["document", "add", "--org", str(self.org), "--kind", kind,
                "--days", str(days), "--json"]
        if reference:
            args += ["--reference", reference]
        doc = json.loads(self.stack.acmectl(*args))["id"]
        if validate:
            self.stack.acmectl("document", "validate", str(doc), "--days",
                               str(days))
        return doc

    def client(self):
        """A bound ACME client of a new ACME account of this customer."""
        cred = json.loads(self.stack.acmectl(
            "acme-account", "create", "--external-account", str(self.ext),
            "--domain", self.stack.zone, "--json"))
        if not self.domain_ok:
            self.stack.acmectl("domain", "validate", "--org", str(self.org),
                               self.stack.zone)
            self.domain_ok = True
        c = AcmeClient(self.stack.directory_url, self.stack.tls_ca)
        r = c.new_account(eab=(cred["kid"], cred["hmac_key"]))
        assert r.status_code == 201, r.text
        c.kid = cred["kid"]
        return c


def finish(stack, c, order, url, names):
    """Finalizes a ready order; returns (serial as stored, certificate)."""
    csr, _ = acmeclient.make_csr(names)
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    order = c.poll(url, ("valid",), what="order")
    assert order["status"] == "valid", order
    pem = c.post_as_get(order["certificate"]).text
    cert = x509.load_pem_x509_certificate(pem.encode())
    serial = sql(stack, "SELECT serial FROM certificate WHERE order_id = "
                 "'%s'" % url.rstrip("/").rsplit("/", 1)[1])
    assert serial, "no certificate row for %s" % url
    return serial, cert


def issue(stack, c, names):
    order, url = ready_order(stack, c, names)
    return finish(stack, c, order, url, names)


def not_after(cert):
    t = getattr(cert, "not_valid_after_utc", None) or \
        cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return t


def fmt(t, language):
    return t.strftime("%d/%m/%Y %H:%M UTC" if language == "fr"
                      else "%Y-%m-%d %H:%M UTC")


def worker(stack, conf, name):
    """Starts one more acme-worker with conf, logging to STATE/logs/NAME.log;
    returns its Popen (stop it with stop(stack, p))."""
    log = open(stack.log(name), "ab")
    try:
        p = subprocess.Popen([os.path.join(stack.build, "acme-worker"), "-c",
                              conf], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, cwd=stack.state,
                             start_new_session=True)
    finally:
        log.close()
    time.sleep(0.3)
    assert p.poll() is None, "%s exited at once; see %s" % (
        name, stack.log(name))
    p.log_name = name
    return p


def stop(stack, p):
    """Stops a worker of ours; fails on a sanitizer report or a crash in
    its log (the session's own scan reads only the stack's logs)."""
    if p is None:
        return
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    found = test_zz_health.scan(stack, names=(p.log_name,))
    assert not found, "\n".join(found[:50])
    assert p.returncode == 0, "%s exited with %s" % (p.log_name,
                                                     p.returncode)


def conf_copy(stack, name, **changes):
    """A copy of the stack's configuration with some keys changed."""
    with open(stack.conf) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key in changes:
            continue
        out.append(line)
    out += ["%s = %s" % (k, v) for k, v in changes.items()]
    path = os.path.join(stack.state, name)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def check_headers(m, recipient):
    msg = m["msg"]
    assert m["env"]["mail_from"] == FROM, m["env"]
    assert m["env"]["rcpt_tos"] == [recipient], m["env"]
    assert msg["From"] == "ACME test CA <%s>" % FROM, msg["From"]
    assert msg["To"] == recipient, msg["To"]
    assert msg["Date"].datetime is not None
    assert msg["Message-ID"].endswith("@ca.test>"), msg["Message-ID"]
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert b"\r\n\r\n" in m["raw"]


# ----------------------------------------------------------------- tests


def test_certificates_issued_digest(stack, uniq, sink):
    """The certificates issued since the last run, once, with their serials,
    names and dates; the next run has nothing to say to that account."""
    cust = Customer(stack, uniq)
    c = cust.client()
    n1, n2, n3 = uniq("iss1"), uniq("iss2"), uniq("iss3")
    s1, c1 = issue(stack, c, [n1])
    s2, c2 = issue(stack, c, [n2, n3])
    out = run_daily(stack)
    assert out["messages"] >= 1, out
    [m] = delivered(stack, sink, cust.email, "certificates_issued")
    check_headers(m, cust.email)
    assert m["subject"] == "%s: 2 certificate(s) issued in the last 24 " \
        "hours" % cust.name, m["subject"]
    body = m["body"]
    for want in (s1, s2, n1, "%s, %s" % (n2, n3), c.kid,
                 fmt(not_after(c1), "en"), fmt(not_after(c2), "en")):
        assert want in body, "%r not in:\n%s" % (want, body)
    assert body.index(s1) < body.index(s2)
    # once: the next run has nothing more to tell this account
    run_daily(stack)
    time.sleep(1)
    assert len(outbox(stack, cust.email)) == 1, outbox(stack, cust.email)
    assert len(sink.messages(cust.email)) == 1
    # acmectl outbox show: what was sent
    row = outbox(stack, cust.email)[0]
    shown = json.loads(stack.acmectl("outbox", "show", str(row["id"]),
                                     "--json"))
    assert shown["status"] == "sent" and shown["sent_at"], shown
    assert s1 in shown["body"] and shown["recipient"] == cust.email, shown


def test_missing_documents_french(stack, uniq, sink):
    """A pending account of an organization without its documents gets the
    list of what is missing, in French; again a week later only."""
    cust = Customer(stack, uniq, language="fr", documents=False)
    # the proof is received but not yet checked; the form is missing
    cust.document("ORGANIZATION_PROOF", 365, validate=False)
    run_daily(stack)
    [m] = delivered(stack, sink, cust.email, "missing_documents")
    check_headers(m, cust.email)
    assert m["subject"] == "%s : des documents sont nécessaires avant " \
        "toute émission de certificat" % cust.name, m["subject"]
    assert b"\r\nSubject: =?UTF-8?B?" in m["raw"], \
        "the subject is not RFC 2047 encoded"
    body = m["body"]
    for want in ("Bonjour", cust.email,
                 "formulaire de demande de certificat signé (REQUEST_FORM) "
                 ": non reçu",
                 "(ORGANIZATION_PROOF) : reçu, en cours de vérification",
                 "en attente (PENDING)", "https://ca.test/documents"):
        assert want in body, "%r not in:\n%s" % (want, body)
    # no second reminder within missing_documents_days (7)...
    run_daily(stack)
    time.sleep(1)
    assert len(outbox(stack, cust.email)) == 1
    # ... but one a week later: the first message is made 8 days old
    # (waiting a week is not possible in a test)
    sql(stack, "UPDATE outbox SET created_at = created_at - interval "
        "'8 days' WHERE recipient = '%s'" % cust.email)
    run_daily(stack)
    delivered(stack, sink, cust.email, "missing_documents", n=2)
    assert len(sink.messages(cust.email)) == 2
    # documents provided and checked: nothing more to say
    sql(stack, "UPDATE outbox SET created_at = created_at - interval "
        "'8 days' WHERE recipient = '%s'" % cust.email)
    for d in json.loads(stack.acmectl("document", "list", "--org",
                                      str(cust.org), "--json")):
        stack.acmectl("document", "validate", str(d["id"]), "--days",
                      "365")
    cust.document("REQUEST_FORM", 365)
    stack.acmectl("organization", "validate", str(cust.org))
    stack.acmectl("external-account", "activate", str(cust.ext))
    run_daily(stack)
    time.sleep(1)
    assert len(outbox(stack, cust.email)) == 2


def test_expiring_documents(stack, uniq, sink):
    """A document reaching a lead time before its expiry (30, 7, 1 days) is
    announced once per lead time; one that a newer valid document of its
    kind replaces is not."""
    cust = Customer(stack, uniq)
    manager = cust.document("MANAGER_AUTHORIZATION", 5, reference="MA-2026")
    # an older proof, outlived by the 365-day one: nothing to renew
    replaced = cust.document("ORGANIZATION_PROOF", 3, reference="OLD-PROOF")
    run_daily(stack)
    [m] = delivered(stack, sink, cust.email, "expiring_documents")
    check_headers(m, cust.email)
    assert m["subject"] == "%s: 1 document(s) about to expire" % cust.name
    expires = sql(stack, "SELECT to_char(expires_at AT TIME ZONE 'UTC', "
                  "'YYYY-MM-DD HH24:MI') FROM document WHERE id = %d"
                  % manager)
    body = m["body"]
    for want in ("authorization of the certificate manager "
                 "(MANAGER_AUTHORIZATION), reference MA-2026",
                 "expires on %s UTC (in 5 day(s))" % expires,
                 "back to PENDING", "https://ca.test/documents"):
        assert want in body, "%r not in:\n%s" % (want, body)
    assert "OLD-PROOF" not in body
    assert replaced
    # the next run: the 7-day lead time was announced already
    run_daily(stack)
    time.sleep(1)
    assert len(outbox(stack, cust.email)) == 1
    # the document now expires within a day (moved there rather than
    # waiting four days): the 1-day lead time is announced
    sql(stack, "UPDATE document SET expires_at = now() + interval "
        "'12 hours' WHERE id = %d" % manager)
    run_daily(stack)
    msgs = delivered(stack, sink, cust.email, "expiring_documents", n=2)
    assert len(msgs) == 2
    assert "(in 1 day(s))" in msgs[-1]["body"], msgs[-1]["body"]


def test_expiring_certificates_french(stack, uniq, sink):
    """A certificate near its end that was neither renewed nor revoked is
    announced, in French; one renewed by a newer certificate for its names,
    one replaced by a renewal order (RFC 9773 replaces) and a revoked one
    are not."""
    cust = Customer(stack, uniq, language="fr")
    c = cust.client()
    a, b, x, y, r = (uniq("exa"), uniq("exb"), uniq("exc1"), uniq("exc2"),
                     uniq("exr"))
    sa, ca = issue(stack, c, [a])
    sb, _ = issue(stack, c, [b])
    sc, cc = issue(stack, c, [x, y])
    sr, _ = issue(stack, c, [r])
    # b: a newer certificate for the same name
    issue(stack, c, [b])
    # x, y: a renewal order replacing it, for x only (so no newer
    # certificate covers both of its names)
    resp = c.post(c.directory["newOrder"], {
        "identifiers": [{"type": "dns", "value": x}],
        "replaces": acmeclient.cert_id(cc)})
    assert resp.status_code == 201, resp.text
    url = resp.headers["Location"]
    order = validate_pending(stack, c, resp.json(), url)
    finish(stack, c, order, url, [x])
    stack.acmectl("certificate", "revoke", sr)
    # 20 days left for all four (waiting 179 days is not possible)
    sql(stack, "UPDATE certificate SET not_after = date_trunc('minute', "
        "now()) + interval '20 days' WHERE serial IN ('%s', '%s', '%s', "
        "'%s')" % (sa, sb, sc, sr))
    na = sql(stack, "SELECT to_char(not_after AT TIME ZONE 'UTC', "
             "'DD/MM/YYYY HH24:MI') FROM certificate WHERE serial = '%s'" % sa)
    run_daily(stack)
    [m] = delivered(stack, sink, cust.email, "expiring_certificates")
    check_headers(m, cust.email)
    assert m["subject"] == "%s : 1 certificat(s) arrivent à expiration" % \
        cust.name, m["subject"]
    body = m["body"]
    for want in ("Bonjour", "Numéro de série : %s" % sa, a,
                 "Expire le :       %s UTC (dans 20 jour(s))" % na,
                 "Compte ACME :     %s" % c.kid):
        assert want in body, "%r not in:\n%s" % (want, body)
    for other in (sb, sc, sr):
        assert other not in body, "%s announced:\n%s" % (other, body)
    assert ca is not None
    # the certificates issued were announced too, in their own digest
    [issued] = delivered(stack, sink, cust.email, "certificates_issued")
    assert "émis" in issued["subject"], issued["subject"]
    # once
    run_daily(stack)
    time.sleep(1)
    assert len(outbox(stack, cust.email, "expiring_certificates")) == 1


def validate_pending(stack, c, order, url):
    """Validates the pending authorizations of an order with http-01;
    returns the order once ready."""
    with acmeclient.Http01Responder(stack.http01_port) as web:
        for authz_url in order["authorizations"]:
            authz = c.post_as_get(authz_url).json()
            if authz["status"] == "valid":
                continue
            ch = [x for x in authz["challenges"] if x["type"] == "http-01"][0]
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
            assert c.post(ch["url"], {}).status_code == 200
        for authz_url in order["authorizations"]:
            c.poll(authz_url, ("valid",), what="authorization")
    order = c.poll(url, ("ready",), what="order")
    assert order["status"] == "ready", order
    return order


def test_smtp_down_then_back(stack, uniq, sink):
    """With the SMTP server down, the message waits (attempts grow, the
    error is kept) and issuance goes on; it is delivered, once, when the
    server is back. A pending message cannot be resent."""
    sink.stop()
    try:
        cust = Customer(stack, uniq, documents=False)
        run_daily(stack)
        [row] = outbox(stack, cust.email)

        def waiting():
            r = outbox(stack, cust.email)[0]
            return r["status"] == "pending" and r["attempts"] >= 2 and \
                r["last_error"]
        wait_for(waiting, 30, "attempts to grow")
        row = outbox(stack, cust.email)[0]
        assert "cannot connect to 127.0.0.1" in row["last_error"], row
        listed = json.loads(stack.acmectl("outbox", "list", "--pending",
                                          "--kind", "missing_documents",
                                          "--json"))
        assert row["id"] in [x["id"] for x in listed], listed
        err = acmectl_fails(stack, "outbox", "resend", str(row["id"]))
        assert "still waiting" in err, err
        # issuance does not wait for the mail
        other = Customer(stack, uniq)
        c = other.client()
        issue(stack, c, [uniq("down")])
    finally:
        sink.start()
    [m] = delivered(stack, sink, cust.email, "missing_documents")
    assert len(sink.messages(cust.email)) == 1
    assert outbox(stack, cust.email)[0]["attempts"] >= 3


def test_refused_recipient_and_resend(stack, uniq, sink):
    """A recipient the server refuses (5xx) fails the message at once;
    outbox resend puts a failed message back, and copies a sent one; both
    are audited."""
    cust = Customer(stack, uniq, documents=False)
    sink.refuse.add(cust.email)
    try:
        run_daily(stack)
        wait_for(lambda: outbox(stack, cust.email)[0]["status"] == "failed",
                 30, "the message to fail")
        row = outbox(stack, cust.email)[0]
        assert row["attempts"] == 1, row
        assert "550" in row["last_error"] and "RCPT TO" in \
            row["last_error"], row
        failed = json.loads(stack.acmectl("outbox", "list", "--failed",
                                          "--json"))
        assert row["id"] in [x["id"] for x in failed]
        assert row["id"] not in [x["id"] for x in json.loads(stack.acmectl(
            "outbox", "list", "--sent", "--json"))]
    finally:
        sink.refuse.discard(cust.email)
    out = json.loads(stack.acmectl("outbox", "resend", str(row["id"]),
                                   "--actor", "ops-test", "--json"))
    assert out["id"] == row["id"] and out["status"] == "pending", out
    [m] = delivered(stack, sink, cust.email, "missing_documents")
    # a sent message: resent as a copy
    out = json.loads(stack.acmectl("outbox", "resend", str(row["id"]),
                                   "--actor", "ops-test", "--json"))
    assert out["id"] != row["id"] and out["resent_from"] == row["id"], out
    delivered(stack, sink, cust.email, "missing_documents", n=2)
    msgs = sink.messages(cust.email)
    assert len(msgs) == 2 and msgs[0]["body"] == msgs[1]["body"]
    audit = sql(stack, "SELECT string_agg(actor || ' ' || action || ' ' || "
                "detail::text, E'\\n' ORDER BY id) FROM audit_log WHERE "
                "object_type = 'outbox' AND object_id = '%d'" % row["id"])
    assert audit.count("ops-test resend") == 2, audit
    assert '"reset": true' in audit and '"copy": %d' % out["id"] in audit, \
        audit
    # refusals
    assert "no message" in acmectl_fails(stack, "outbox", "show",
                                         "999999999")
    assert "not a kind" in acmectl_fails(stack, "outbox", "list", "--kind",
                                         "spam")
    r = subprocess.run([os.path.join(stack.build, "acmectl"), "-c",
                        stack.conf, "outbox", "list", "--sent", "--failed"],
                       capture_output=True, timeout=60)
    assert r.returncode == 2, r


def sent_lines(stack, names, recipient):
    """The "sent" lines of the workers' logs (names) for recipient."""
    found = []
    for name in names:
        with open(stack.log(name), errors="replace") as f:
            found += [line for line in f
                      if " sent to %s" % recipient in line and
                      "notifications: message" in line]
    return found


def test_two_workers_deliver_once(stack, uniq, sink):
    """Messages queued while the server is down, then two workers (the
    stack's and one more, same configuration) deliver them to a slow
    server, side by side: each message goes once, by one worker."""
    sink.stop()
    sink.delay = 0.3
    extra = None
    try:
        customers = [Customer(stack, uniq, documents=False)
                     for _ in range(8)]
        run_daily(stack)
        for cust in customers:
            assert len(outbox(stack, cust.email)) == 1
        extra = worker(stack, stack.conf, "acme-worker-notify-2")
        time.sleep(1)
    finally:
        sink.start()
    try:
        for cust in customers:
            delivered(stack, sink, cust.email, "missing_documents")
        time.sleep(2)
        by = {"acme-worker": 0, "acme-worker-notify-2": 0}
        for cust in customers:
            got = sink.messages(cust.email)
            assert len(got) == 1, "%d messages to %s" % (len(got),
                                                        cust.email)
            for name in by:
                by[name] += len(sent_lines(stack, [name], cust.email))
        assert sum(by.values()) == len(customers), by
        print("messages sent per worker: %s" % by)
    finally:
        sink.delay = 0
        stop(stack, extra)


def test_daily_run_elected_once(stack, uniq, sink):
    """Two workers that both may make today's digests (notify_hour = 0):
    the database elects one run for the date; its messages go once."""
    cust = Customer(stack, uniq, documents=False)
    conf = conf_copy(stack, "acme-notify-daily.conf", notify_hour="0")
    before = sql(stack, "SELECT count(*) FROM notification_run WHERE job = "
                 "'daily'")
    workers = []
    try:
        for i in range(2):
            workers.append(worker(stack, conf, "acme-worker-daily-%d" % i))
        wait_for(lambda: sql(stack, "SELECT count(*) FROM notification_run "
                             "WHERE job = 'daily'") != before, 30,
                 "the daily run")
        time.sleep(2)
        runs = sql(stack, "SELECT period || ' ' || actor FROM "
                   "notification_run WHERE job = 'daily'").splitlines()
        today = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d")
        assert runs == ["%s acme-worker" % today], runs
        delivered(stack, sink, cust.email, "missing_documents")
        time.sleep(2)
        assert len(sink.messages(cust.email)) == 1
    finally:
        for p in workers:
            stop(stack, p)


def test_starttls_and_auth(stack, uniq, sink):
    """A server requiring STARTTLS and AUTH: the worker checks its
    certificate (smtp_ca_file), logs in over TLS with the password of
    smtp_password_file (read at each delivery: a wrong one keeps the
    message waiting with the server's answer, the right one sends it)."""
    port = stackmod.free_port()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(stack.tls_dir, "server.pem"),
                        os.path.join(stack.tls_dir, "server.key"))

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and \
            data.login == b"acme" and data.password == b"s3cret pass"
        # handled=False: aiosmtpd answers 535 itself on a failure
        return AuthResult(success=ok, handled=False, auth_data=data)
    tls_sink = Sink(os.path.join(stack.state, "mail-tls"), port,
                    tls_context=ctx, require_starttls=True,
                    authenticator=authenticator, auth_required=True,
                    auth_require_tls=True)
    pwfile = os.path.join(stack.state, "smtp-password")
    with open(pwfile, "w") as f:
        f.write("wrong\n")
    conf = conf_copy(stack, "acme-notify-tls.conf", smtp_port=str(port),
                     smtp_starttls="yes", smtp_ca_file=stack.tls_ca,
                     smtp_user="acme", smtp_password_file=pwfile)
    tls_sink.start()
    stack.stop_worker()
    p = None
    try:
        p = worker(stack, conf, "acme-worker-tls")
        cust = Customer(stack, uniq, documents=False)
        run_daily(stack)

        def refused():
            r = outbox(stack, cust.email)[0]
            return r["attempts"] >= 1 and r["last_error"] and \
                "AUTH" in r["last_error"]
        wait_for(refused, 30, "the login to be refused")
        assert "535" in outbox(stack, cust.email)[0]["last_error"]
        with open(pwfile, "w") as f:
            f.write("s3cret pass\n")
        delivered(stack, tls_sink, cust.email, "missing_documents")
        [m] = tls_sink.messages(cust.email)
        assert m["env"]["tls"] is True and m["env"]["login"] == "acme", \
            m["env"]
        check_headers(m, cust.email)
    finally:
        tls_sink.stop()
        try:
            stop(stack, p)
        finally:
            stack.restart_worker()


def test_broken_template_queues_nothing(stack, uniq, sink, tmp_path):
    """A template with an unknown placeholder: the run fails and nothing is
    queued (nor recorded as announced); with the templates fixed, the next
    run sends the message."""
    cust = Customer(stack, uniq, documents=False)
    tdir = str(tmp_path / "templates")
    shutil.copytree(os.path.join(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))), "worker", "templates"),
        tdir)
    with open(os.path.join(tdir, "en", "missing_documents.txt"), "w") as f:
        f.write("Subject: {{organisation}}\n\nbody\n")
    conf = conf_copy(stack, "acme-notify-broken.conf", templates_dir=tdir)
    runs = sql(stack, "SELECT count(*) FROM notification_run")
    err = acmectl_fails(stack, "notify", "run-daily", conf=conf)
    assert "unknown placeholder {{organisation}}" in err, err
    assert "nothing was queued" in err, err
    assert outbox(stack, cust.email) == []
    assert sql(stack, "SELECT count(*) FROM notification_run") == runs
    run_daily(stack)
    delivered(stack, sink, cust.email, "missing_documents")
