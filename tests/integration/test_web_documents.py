"""Documents validated in the back office get an expiry date (web/
office_doc.c, office_document_decide of sql/015_document_expiry.sql),
through nginx's office vhost with the plain client of webclient.py:

  - the validation form of a document's page and of its organization's
    page asks for a required "Valid until" day (tomorrow to 3 years ahead,
    a year ahead offered); validating with a day makes the document VALID
    with expires_at at 00:00 UTC that day, writes it to the audit log in
    the same transaction as the "validate" row, and the office's document
    and organization pages and the customer's documents page show it;
  - a validation without a day, with a day that is not one, in the past,
    today or more than 3 years ahead is refused (400, a clear message, in
    French too) and changes nothing: the document stays PENDING, without
    an expiry, with no audit row; a refused status change (a REJECTED
    document) leaves no expiry either; the SQL function refuses the same
    days by itself;
  - the web-set expiry feeds the existing expiry: once its date is past,
    documents_expire() (the worker's) makes the document EXPIRED and puts
    the organization's VALID external account back to PENDING.
"""

import datetime
import os
import re

import pytest

import deploykit
import webclient
from test_notifications import Sink
from test_web_security import (make_valid, office_org_page, post_form, q,
                               sql, upload, xa_id)
from webclient import visible_text


# ------------------------------------------------------------- helpers


def today():
    """The UTC day, as the office and PostgreSQL count them."""
    return datetime.datetime.now(datetime.timezone.utc).date()


def years_ahead(day, n):
    """day moved by n years, a 29 February becoming the 28th (as
    PostgreSQL's date + interval 'n years')."""
    try:
        return day.replace(year=day.year + n)
    except ValueError:
        return day.replace(year=day.year + n, day=28)


def doc_state(stack, doc):
    """'STATUS EXPIRES_AT' of a document, the expiry in UTC ('-' if none)."""
    return sql(stack, "SELECT status || ' ' || coalesce(to_char(expires_at "
               "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-') FROM "
               "document WHERE id = %s" % doc)


def audit_rows(stack, doc, after=0):
    """The audit rows of a document with an id above after: a list of
    (id, action, actor, detail), oldest first."""
    out = sql(stack, "SELECT string_agg(id || '|' || action || '|' || actor "
              "|| '|' || detail::text, E'\\n' ORDER BY id) FROM audit_log "
              "WHERE object_type = 'document' AND object_id = %s AND id > %d"
              % (q(doc), after))
    return [tuple(x.split("|", 3)) for x in out.splitlines()]


def last_audit_id(stack):
    return int(sql(stack, "SELECT coalesce(max(id), 0) FROM audit_log"))


def new_document(stack, cust, kind="REQUEST_FORM"):
    """Uploads a document as the customer; returns its id."""
    r = upload(cust.c, kind, "form.png", "image/png", webclient.tiny_png())
    assert r.status == 200, visible_text(r.text)[:1000]
    return sql(stack, "SELECT max(d.id) FROM document d JOIN "
               "external_account x ON x.organization_id = d.organization_id"
               " WHERE lower(x.email) = lower(%s)" % q(cust.email))


def expiry_input(r):
    """The (value, min, max) of the expiry field of the validation form of
    a page; fails if there is none or it is not a required date."""
    m = re.search(r'<input type="date" name="expires" value="([0-9-]*)" '
                  r'min="([0-9-]*)" max="([0-9-]*)" required>', r.text)
    assert m, "no required date field in the validation form of %s:\n%s" % (
        r.url, visible_text(r.text)[:2000])
    return m.groups()


# ------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def web(stack):
    assert stack.web, "%s/acme-web is missing: run make" % stack.build
    return stack


@pytest.fixture(scope="module")
def sink(web):
    s = Sink(os.path.join(web.state, "mail-web-documents"),
             web.ports["smtp"])
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
def op(web):
    """The operator, signed in to the office (in English)."""
    operator = webclient.ensure_operator(web)
    c = webclient.operator_client(web)
    c.set_cookie("lang", "en")
    r = webclient.operator_login(c, operator["name"], operator["password"])
    assert r.status == 200 and r.url.endswith("/office/"), \
        "operator sign-in: HTTP %d %s\n%s" % (r.status, r.url,
                                              visible_text(r.text)[:1500])
    return c


@pytest.fixture(scope="module")
def carol(web, sink):
    """A customer of a PENDING organization, signed in."""
    return webclient.new_customer(web, sink, "carol")


# --------------------------------------------------------------- tests


def test_validation_sets_the_expiry(web, op, carol):
    doc = new_document(web, carol)
    assert doc_state(web, doc) == "PENDING -", doc_state(web, doc)
    page = "/office/documents/%s" % doc
    r = op.get(page)
    assert r.status == 200, r.status
    assert "Valid until" in visible_text(r.text), visible_text(r.text)[:2000]
    value, lo, hi = expiry_input(r)
    t = today()
    assert (value, lo, hi) == (years_ahead(t, 1).isoformat(),
                               (t + datetime.timedelta(days=1)).isoformat(),
                               years_ahead(t, 3).isoformat()), (value, lo, hi)
    # the organization's page offers the same field in its row
    org = office_org_page(op, carol.org)
    assert expiry_input(org) == (value, lo, hi)
    # the operator gives another day than the one offered
    day = (t + datetime.timedelta(days=200)).isoformat()
    mark = last_audit_id(web)
    r = post_form(op, page, r"^%s/decision$" % page, button="^Validate",
                  values={"expires": day})
    assert r.status == 200 and r.url.endswith(page), \
        (r.status, r.url, visible_text(r.text)[:1500])
    assert doc_state(web, doc) == "VALID %s 00:00:00" % day, \
        doc_state(web, doc)
    assert re.search(r"Expires\s+%s 00:00 UTC" % day, visible_text(r.text)), \
        visible_text(r.text)[:2000]
    assert "valid until %s" % day in visible_text(r.text), \
        visible_text(r.text)[:2000]
    # a VALID document has no validation form any more
    assert 'name="expires"' not in r.text
    # the audit log: the validation and its expiry, one transaction
    rows = audit_rows(web, doc, mark)
    assert [(x[1], x[2]) for x in rows] == [
        ("validate", "operator:op.one"), ("expiry", "operator:op.one")], rows
    assert sql(web, "SELECT detail->>'expires_at' || ' ' || coalesce("
               "detail->>'previous', '-') FROM audit_log WHERE id = %s"
               % rows[1][0]) == "%sT00:00:00Z -" % day
    assert sql(web, "SELECT count(DISTINCT at) FROM audit_log WHERE id IN "
               "(%s, %s)" % (rows[0][0], rows[1][0])) == "1"
    # shown on the organization's page and to the customer
    org = office_org_page(op, carol.org)
    assert "%s 00:00 UTC" % day in visible_text(org.text), \
        visible_text(org.text)[:3000]
    r = carol.c.get("/documents")
    assert r.status == 200 and day in visible_text(r.text), \
        visible_text(r.text)[:3000]


# The values are functions of the day the test runs (UTC), not of the day
# the module was collected: a run crossing midnight keeps them right.
BAD_DAYS = [
    # (what, the field's value (of today) or None to leave it out, what
    # the page says)
    ("no field", None, "needs the date until which"),
    ("empty", lambda t: "", "needs the date until which"),
    ("not a date", lambda t: "tomorrow", "is not a date"),
    ("no such day", lambda t: "%d-02-30" % (t.year + 1), "is not a date"),
    ("another shape", lambda t: "%d-1-5" % (t.year + 1), "is not a date"),
    ("a time", lambda t: "%sT00:00:00Z" % (t + datetime.timedelta(days=9)),
     "is not a date"),
    ("yesterday", lambda t: (t - datetime.timedelta(days=1)).isoformat(),
     "is not in the future"),
    ("today", lambda t: t.isoformat(), "is not in the future"),
    ("3 years and a day", lambda t: (years_ahead(t, 3) +
                                     datetime.timedelta(days=1)).isoformat(),
     "more than 3 years ahead"),
    ("10 years", lambda t: years_ahead(t, 10).isoformat(),
     "more than 3 years ahead"),
]


@pytest.mark.parametrize("what,value,says", BAD_DAYS,
                         ids=[x[0] for x in BAD_DAYS])
def test_bad_expiry_refused(web, op, carol, what, value, says):
    if value is not None:
        value = value(today())
    doc = new_document(web, carol)
    page = "/office/documents/%s" % doc
    f = op.get(page).form(r"^%s/decision$" % page, button="^Validate")
    mark = last_audit_id(web)
    if value is None:
        r = op.submit(f, drop=("expires",), follow=False)
    else:
        r = op.submit(f, {"expires": value}, follow=False)
    assert r.status == 400, "%s: HTTP %d\n%s" % (
        what, r.status, visible_text(r.text)[:1500])
    text = visible_text(r.text)
    assert says in text and "Nothing was changed" in text, \
        "%s: %s" % (what, text[:1500])
    assert doc_state(web, doc) == "PENDING -", (what, doc_state(web, doc))
    assert audit_rows(web, doc, mark) == [], what


def test_bad_expiry_refused_in_french(web, op, carol):
    doc = new_document(web, carol)
    page = "/office/documents/%s" % doc
    f = op.get(page).form(r"^%s/decision$" % page, button="^Validate")
    past = (today() - datetime.timedelta(days=3)).isoformat()
    mark = last_audit_id(web)
    op.set_cookie("lang", "fr")
    try:
        r = op.submit(f, {"expires": past}, follow=False)
        r2 = op.submit(f, drop=("expires",), follow=False)
        form = op.get(page)
    finally:
        op.set_cookie("lang", "en")
    assert r.status == 400, r.status
    assert "La date d'expiration %s n'est pas dans le futur" % past in \
        visible_text(r.text) and "Rien n'a été modifié" in \
        visible_text(r.text), visible_text(r.text)[:1500]
    assert r2.status == 400 and "Une validation demande la date" in \
        visible_text(r2.text), visible_text(r2.text)[:1500]
    assert "Valable jusqu'au" in visible_text(form.text)
    assert doc_state(web, doc) == "PENDING -", doc_state(web, doc)
    assert audit_rows(web, doc, mark) == []


def test_refused_status_change_sets_no_expiry(web, op, carol):
    """A good day on a document that cannot be validated (REJECTED): 409,
    and the expiry written before the status change is undone."""
    doc = new_document(web, carol)
    page = "/office/documents/%s" % doc
    f = op.get(page).form(r"^%s/decision$" % page, button="^Validate")
    r = post_form(op, page, r"^%s/decision$" % page, button="^Reject",
                  values={"reason": "unreadable scan"})
    assert r.status == 200, visible_text(r.text)[:1000]
    assert doc_state(web, doc) == "REJECTED -"
    mark = last_audit_id(web)
    day = (today() + datetime.timedelta(days=30)).isoformat()
    r = op.submit(f, {"expires": day}, follow=False)
    assert r.status == 409, "HTTP %d\n%s" % (r.status,
                                             visible_text(r.text)[:1500])
    assert "cannot validate document %s" % doc in visible_text(r.text), \
        visible_text(r.text)[:1500]
    assert doc_state(web, doc) == "REJECTED -", doc_state(web, doc)
    assert audit_rows(web, doc, mark) == []


def test_sql_function_refuses_bad_days(web, carol):
    """office_document_decide checks the day itself (the web checks it
    first): none, past, too far; a rejection takes none."""
    doc = new_document(web, carol)
    mark = last_audit_id(web)
    t = today()
    cases = [("validate", "NULL", "needs the date until which"),
             ("validate", q((t - datetime.timedelta(days=1)).isoformat()),
              "is not in the future"),
             ("validate", q(t.isoformat()), "is not in the future"),
             ("validate", q((years_ahead(t, 3) + datetime.timedelta(
                 days=1)).isoformat()), "more than 3 years ahead"),
             ("reject", q((t + datetime.timedelta(days=9)).isoformat()),
              "goes with a validation")]
    for action, day, says in cases:
        got = sql(web, "SELECT office_document_decide('test', %s, %s, "
                  "'a reason', %s::date)->>'refused'" % (doc, q(action), day))
        assert says in got, (action, day, got)
        assert doc_state(web, doc) == "PENDING -", (action, day)
    assert audit_rows(web, doc, mark) == []
    # the last day allowed is allowed
    hi = years_ahead(t, 3).isoformat()
    got = sql(web, "SELECT office_document_decide('test', %s, 'validate', "
              "NULL, %s::date)->>'status'" % (doc, q(hi)))
    assert got == "VALID", got
    assert doc_state(web, doc) == "VALID %s 00:00:00" % hi


def test_web_expiry_feeds_documents_expire(web, op, sink):
    """An organization made VALID through the portal and the office (its
    documents validated with the day the form offers); once the expiry of
    its ORGANIZATION_PROOF is past, documents_expire() expires it and the
    external account goes back to PENDING."""
    cust = webclient.new_customer(web, sink, "dora")
    make_valid(web, op, cust, "dora-%s.%s" % (os.urandom(4).hex(), web.zone))
    xa = xa_id(web, cust.email)
    docs = sql(web, "SELECT string_agg(d.kind || ' ' || d.id || ' ' || "
               "d.status || ' ' || to_char(d.expires_at AT TIME ZONE 'UTC', "
               "'YYYY-MM-DD'), E'\\n' ORDER BY d.kind) FROM document d JOIN "
               "external_account x ON x.organization_id = d.organization_id "
               "WHERE x.id = %s" % xa).splitlines()
    year = years_ahead(today(), 1).isoformat()
    assert [(d.split()[0], d.split()[2], d.split()[3]) for d in docs] == [
        ("ORGANIZATION_PROOF", "VALID", year),
        ("REQUEST_FORM", "VALID", year)], docs
    proof = docs[0].split()[1]
    # nothing is due yet
    sql(web, "SELECT documents_expire()")
    assert sql(web, "SELECT status FROM external_account WHERE id = %s"
               % xa) == "VALID"
    sql(web, "UPDATE document SET expires_at = now() - interval '1 second' "
        "WHERE id = %s" % proof)
    sql(web, "SELECT documents_expire()")
    assert doc_state(web, proof).split()[0] == "EXPIRED"
    assert sql(web, "SELECT status FROM external_account WHERE id = %s"
               % xa) == "PENDING"
    r = cust.c.get("/documents")
    assert r.status == 200 and "EXPIRED" in r.text, \
        visible_text(r.text)[:2000]
