"""The first OCSP response of a certificate, signed by the worker that has
just issued it and stored in one statement (sql/017_ocsp_at_issuance.sql).

acme-worker signs that response right after the issuance and stores it
with ocsp_response_store_issued(serial, issuer_id, der, this_update,
next_update), which takes the certificate's row FOR SHARE and stores a
good response only while the certificate is unrevoked: otherwise it
returns false, stores nothing, and the response stays due (refresh_at
'-infinity', set by the revocation's trigger) for the claim of job_ocsp,
which signs it revoked.

Seen here: the outcome of a real issuance (the stored row, the worker's
log line, the answer of the responder); the function called by hand on a
revoked certificate; the two orders of a race between it and a
revocation, in two sessions of psql whose waits are seen in pg_locks
(pg_blocking_pids) and timed by the database's clock; and
ocsp_response_store, now PL/pgSQL, with its former results.
"""

import os
import subprocess
import time
import uuid

import pytest
from cryptography.x509 import ocsp

import stack as stackmod
from test_revocation_status import issue, openssl_ocsp

PUBLISH_TIMEOUT = 20        # seconds the worker may take to sign
HOLD = 3                    # seconds a racing session holds its locks
FAKE = "convert_to('oi-not-a-response', 'UTF8')"   # bytes stored by hand


# ------------------------------------------------------------- helpers


def q(text):
    """text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def psql_argv(stack, statements):
    """psql running each statement as its own query (one session,
    autocommit unless a statement says BEGIN), unaligned, quiet."""
    argv = [os.path.join(stack.pgbin or stackmod.pg_bindir(), "psql"),
            "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", stack.pgsock, "-p", str(stack.ports["postgres"]),
            "-U", "postgres", "-d", "acme"]
    for s in statements:
        argv += ["-c", s]
    return argv


def session(stack, app, statements):
    """The statements in a background psql whose application_name is
    app; returns the Popen."""
    env = dict(os.environ)
    env["PGAPPNAME"] = app
    return subprocess.Popen(psql_argv(stack, statements),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def finish(p, what, timeout=60):
    """Waits for a background psql; returns its output lines."""
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, "%s: psql exit %d: %s%s" % (
        what, p.returncode, out, err)
    return out.splitlines()


def labelled(lines):
    """The lines "label value" of a session's output, as a dict."""
    d = {}
    for line in lines:
        if " " in line:
            k, v = line.split(" ", 1)
            d[k] = v
    return d


def clock(label):
    """A statement printing label and the database's clock (epoch)."""
    return ("SELECT %s || ' ' || extract(epoch FROM clock_timestamp())"
            % q(label))


def kill(p):
    if p is not None and p.poll() is None:
        p.kill()
        p.wait(timeout=10)


def wait_until(what, fn, timeout, interval=0.05):
    """Calls fn until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("%s not seen within %gs" % (what, timeout))
        time.sleep(interval)


def sleeping(stack, app):
    """True when the session app runs its pg_sleep (holds its locks)."""
    return stack.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
        "%s AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'"
        % q(app)).strip() == "1"


def blocked_by(stack, waiter, holder):
    """True when the session waiter waits for a lock held by holder."""
    return stack.psql(
        "SELECT count(*) FROM pg_stat_activity w, pg_stat_activity h "
        "WHERE w.application_name = %s AND h.application_name = %s "
        "AND w.wait_event_type = 'Lock' "
        "AND h.pid = ANY (pg_blocking_pids(w.pid))"
        % (q(waiter), q(holder))).strip() == "1"


class Cert:
    """A certificate issued through the stack: its leaf, PEM path, and
    its row's id and serial."""

    def __init__(self, stack, mint_eab, workdir, label):
        name = "%s-%s.%s" % (label, uuid.uuid4().hex[:8], stack.zone)
        _, self.leaf, self.pem = issue(stack, mint_eab, [name], workdir)
        hexs = "%x" % self.leaf.serial_number
        row = stack.psql(
            "SELECT id, serial FROM certificate WHERE "
            "ltrim(lower(serial), '0') = %s" % q(hexs.lstrip("0"))).strip()
        assert row.count("|") == 1, "certificate row of %s: %r" % (
            hexs, row)
        self.id, self.serial = row.split("|")


def response(stack, serial):
    """The certificate's ocsp_response row, as a dict of text values
    (der as md5 and as hex)."""
    cols = ("status", "issuer_id", "revoked_at", "revocation_reason",
            "md5(der)", "encode(der, 'hex')", "produced_at", "this_update",
            "next_update", "refresh_at")
    out = stack.psql(
        "SELECT %s FROM ocsp_response WHERE serial = %s" % (
            ", ".join("coalesce(%s::text, 'NULL')" % c for c in cols),
            q(serial))).strip()
    assert out, "no ocsp_response row for %s" % serial
    vals = out.split("|")
    keys = ("status", "issuer_id", "revoked_at", "reason", "der_md5",
            "der_hex", "produced_at", "this_update", "next_update",
            "refresh_at")
    return dict(zip(keys, vals))


def fake_md5(stack):
    return stack.psql("SELECT md5(%s)" % FAKE).strip()


def wait_status(stack, serial, status, timeout=PUBLISH_TIMEOUT):
    """Waits until the stored response of serial has status (and is not
    due); returns the row."""
    last = {}

    def check():
        last["row"] = r = response(stack, serial)
        return r if r["status"] == status and \
            r["refresh_at"] != "-infinity" else None
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("a %s response of %s not stored within %ds; "
                        "last: %s" % (status, serial, timeout, last["row"]))
        time.sleep(0.2)


def store_issued_sql(c, issuer):
    return ("SELECT ocsp_response_store_issued(%s, %s, %s, now(), "
            "now() + interval '4 days')" % (q(c.serial), issuer, FAKE))


def revoke_sql(c):
    return "SELECT certificate_revoke(%s, 1, 'oi-test')" % q(c.id)


def worker_stopped(stack):
    stack.stop_worker()
    p = stack.procs.get("acme-worker")
    assert p is None or not p.alive(), "acme-worker still runs"


def assert_revoked_answer(stack, c):
    """The responder (openssl ocsp through nginx) says revoked."""
    out = openssl_ocsp(stack, "-cert", c.pem)
    assert "%s: revoked" % c.pem in out, out
    assert "Response verify OK" in out, out


# ------------------------------------------------------------- tests


def test_issuance_stores_its_good_response(stack, mint_eab, workdir):
    log = stack.log("acme-worker")
    offset = os.path.getsize(log)
    c = Cert(stack, mint_eab, workdir, "ocsp-at-issuance")
    row = wait_status(stack, c.serial, "good")
    assert row["der_hex"] != "NULL", row
    assert row["this_update"] != "NULL" and row["next_update"] != "NULL", row
    assert row["revoked_at"] == "NULL" and row["reason"] == "NULL", row
    # signed now, by the stack's intermediate, due again half-way
    assert stack.psql(
        "SELECT r.issuer_id IN (SELECT id FROM ocsp_issuer), "
        "r.next_update - r.this_update = interval '4 days', "
        "r.refresh_at = r.this_update + (r.next_update - r.this_update) / 2,"
        " abs(extract(epoch FROM r.this_update - now())) < 300, "
        "r.produced_at >= c.created_at "
        "FROM ocsp_response r JOIN certificate c USING (serial) "
        "WHERE r.serial = %s" % q(c.serial)).strip() == "t|t|t|t|t", row
    # the stored DER is the response of this certificate, good
    resp = ocsp.load_der_ocsp_response(bytes.fromhex(row["der_hex"]))
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.serial_number == c.leaf.serial_number
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD
    # by the worker that issued it, in one statement
    line = "OCSP: signed 1 response, of the certificate just issued (%s)" \
        % c.serial

    def logged():
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return line in text
    wait_until("%r in the worker's log" % line, logged, 10, 0.2)
    # and served: openssl ocsp through nginx and acme-fcgi
    out = openssl_ocsp(stack, "-cert", c.pem)
    assert "%s: good" % c.pem in out, out
    assert "Response verify OK" in out, out


def test_store_issued_refuses_a_revoked_certificate(stack, mint_eab,
                                                    workdir):
    c = Cert(stack, mint_eab, workdir, "ocsp-revoked-first")
    good = wait_status(stack, c.serial, "good")
    try:
        worker_stopped(stack)
        assert stack.psql(revoke_sql(c)).strip() == "t"
        due = response(stack, c.serial)
        assert due["refresh_at"] == "-infinity", due
        assert due["der_md5"] == good["der_md5"], due
        got = stack.psql(store_issued_sql(c, good["issuer_id"])).strip()
        assert got == "f", "ocsp_response_store_issued of a revoked " \
            "certificate returned %r" % got
        after = response(stack, c.serial)
        assert after == due, "the response row changed:\nbefore %s\n" \
            "after  %s" % (due, after)
        assert after["der_md5"] != fake_md5(stack)
    finally:
        stack.restart_worker()
    # still due: the worker's claim signs it revoked
    row = wait_status(stack, c.serial, "revoked")
    assert row["reason"] == "1", row
    assert_revoked_answer(stack, c)


def test_store_issued_waits_for_a_revocation_under_way(stack, mint_eab,
                                                       workdir):
    c = Cert(stack, mint_eab, workdir, "ocsp-race-revoke")
    good = wait_status(stack, c.serial, "good")
    tag = uuid.uuid4().hex[:8]
    app_a, app_b = "oi-revoke-" + tag, "oi-store-" + tag
    a = b = None
    try:
        worker_stopped(stack)
        # A revokes and holds its transaction open
        a = session(stack, app_a, [
            "BEGIN", revoke_sql(c), "SELECT pg_sleep(%d)" % HOLD,
            clock("commit"), "COMMIT"])
        wait_until("the revoking session in its sleep",
                   lambda: sleeping(stack, app_a), 15)
        # B stores the "first" response meanwhile
        t0 = time.monotonic()
        b = session(stack, app_b, [
            clock("start"), store_issued_sql(c, good["issuer_id"]),
            clock("end")])
        wait_until("the storing session waiting for the revoking one",
                   lambda: blocked_by(stack, app_b, app_a), HOLD)
        out_b = finish(b, "store")
        took = time.monotonic() - t0
        out_a = finish(a, "revoke")
        assert "t" in out_a, out_a
        ta, tb = labelled(out_a), labelled(out_b)
        assert out_b[1] == "f", "ocsp_response_store_issued during a " \
            "revocation returned %r (output %s)" % (out_b[1], out_b)
        assert float(tb["start"]) < float(ta["commit"]) <= \
            float(tb["end"]), (ta, tb)
        assert took >= 1.5, "the store returned after %.2fs" % took
        row = response(stack, c.serial)
        assert row["refresh_at"] == "-infinity", row
        assert row["der_md5"] == good["der_md5"], row
        assert row["der_md5"] != fake_md5(stack), row
    finally:
        kill(a)
        kill(b)
        stack.restart_worker()
    row = wait_status(stack, c.serial, "revoked")
    assert_revoked_answer(stack, c)


def test_a_revocation_waits_for_the_store_and_makes_it_due(stack, mint_eab,
                                                           workdir):
    c = Cert(stack, mint_eab, workdir, "ocsp-race-store")
    good = wait_status(stack, c.serial, "good")
    tag = uuid.uuid4().hex[:8]
    app_a, app_b = "oi-revoke-" + tag, "oi-store-" + tag
    a = b = None
    try:
        worker_stopped(stack)
        # B stores the first response and holds its transaction open
        b = session(stack, app_b, [
            "BEGIN", store_issued_sql(c, good["issuer_id"]),
            "SELECT pg_sleep(%d)" % HOLD, clock("commit"), "COMMIT"])
        wait_until("the storing session in its sleep",
                   lambda: sleeping(stack, app_b), 15)
        # A revokes meanwhile
        t0 = time.monotonic()
        a = session(stack, app_a, [clock("start"), revoke_sql(c),
                                   clock("end")])
        wait_until("the revoking session waiting for the storing one",
                   lambda: blocked_by(stack, app_a, app_b), HOLD)
        out_a = finish(a, "revoke")
        took = time.monotonic() - t0
        out_b = finish(b, "store")
        ta, tb = labelled(out_a), labelled(out_b)
        assert out_b[0] == "t", "ocsp_response_store_issued of an " \
            "unrevoked certificate returned %r (output %s)" % (
                out_b[0], out_b)
        assert out_a[1] == "t", out_a
        assert float(ta["start"]) < float(tb["commit"]) <= \
            float(ta["end"]), (ta, tb)
        assert took >= 1.5, "the revocation returned after %.2fs" % took
        # B's good response was stored, then made due by the revocation
        row = response(stack, c.serial)
        assert row["der_md5"] == fake_md5(stack), row
        assert row["status"] == "good", row
        assert row["refresh_at"] == "-infinity", row
        assert stack.psql(
            "SELECT revoked_at IS NOT NULL FROM certificate WHERE id = %s"
            % q(c.id)).strip() == "t"
    finally:
        kill(a)
        kill(b)
        stack.restart_worker()
    # a worker signs it again, revoked
    row = wait_status(stack, c.serial, "revoked")
    assert row["der_md5"] != fake_md5(stack), row
    assert stack.psql(
        "SELECT r.revoked_at = date_trunc('second', c.revoked_at), "
        "r.revocation_reason = c.revocation_reason "
        "FROM ocsp_response r JOIN certificate c USING (serial) "
        "WHERE r.serial = %s" % q(c.serial)).strip() == "t|t", row
    resp = ocsp.load_der_ocsp_response(bytes.fromhex(row["der_hex"]))
    assert resp.serial_number == c.leaf.serial_number
    assert resp.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert_revoked_answer(stack, c)


def test_ocsp_response_store_keeps_its_results(stack, mint_eab, workdir):
    c = Cert(stack, mint_eab, workdir, "ocsp-store")
    good = wait_status(stack, c.serial, "good")
    assert stack.psql(
        "SELECT l.lanname FROM pg_proc p JOIN pg_language l "
        "ON l.oid = p.prolang WHERE p.proname = 'ocsp_response_store'"
    ).strip() == "plpgsql"
    s, i = q(c.serial), good["issuer_id"]
    row = ("SELECT %s || ' ' || concat_ws(',', status, "
           "(md5(der) = md5(%s))::text, coalesce((revoked_at = "
           "'2024-01-02 03:04:05+00')::text, '-'), "
           "coalesce(revocation_reason::text, '-'), "
           "coalesce((refresh_at = this_update + (next_update - "
           "this_update) / 2)::text, 'never')) "
           "FROM ocsp_response WHERE serial = " + s)
    # every call inside one transaction, rolled back
    out = labelled(subprocess.run(psql_argv(stack, [
        "BEGIN",
        "SELECT 'good ' || coalesce(ocsp_response_store(%s, %s, NULL, 0, "
        "%s, now(), now() + interval '4 days')::text, 'NULL')"
        % (s, i, FAKE),
        row % (q("good-row"), FAKE),
        "SELECT 'revoked ' || coalesce(ocsp_response_store(%s, %s, "
        "'2024-01-02 03:04:05+00', 4, %s, now(), "
        "now() + interval '4 days')::text, 'NULL')" % (s, i, FAKE),
        row % (q("revoked-row"), FAKE),
        "SELECT 'last ' || coalesce(ocsp_response_store(%s, %s, NULL, 0, "
        "%s, now(), now() + interval '3650 days')::text, 'NULL')"
        % (s, i, FAKE),
        row % (q("last-row"), FAKE),
        "SELECT 'unknown ' || coalesce(ocsp_response_store("
        "'00not-a-serial', %s, NULL, 0, %s, now(), now() + "
        "interval '4 days')::text, 'NULL')" % (i, FAKE),
        "DELETE FROM ocsp_response WHERE serial = " + s,
        "SELECT 'no-row ' || coalesce(ocsp_response_store(%s, %s, NULL, "
        "0, %s, now(), now() + interval '4 days')::text, 'NULL')"
        % (s, i, FAKE),
        "ROLLBACK"]), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60, check=True).stdout.splitlines())
    want = {
        "good": "true",
        "good-row": "good,true,-,-,true",
        "revoked": "true",
        "revoked-row": "revoked,true,true,4,true",
        "last": "true",
        "last-row": "good,true,-,-,never",
        "unknown": "NULL",
        "no-row": "NULL",
    }
    assert out == want
    # rolled back: the worker's response is untouched
    assert response(stack, c.serial) == good
