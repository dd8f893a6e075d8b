"""The first OCSP response of a certificate, signed by the worker that
issues it and stored with it, in order_issue's transaction
(sql/017_ocsp_at_issuance.sql: order_issue_ocsp).

Seen here: the outcome of a real issuance (the stored row, the worker's
log line, the answer of the responder); order_issue_ocsp on an order that
is no longer processing, which stores neither certificate nor response,
and on one beyond the organization's credit, which writes nothing; a
worker without an OCSP signer, whose certificates are issued with their
response left due, signed once the signer is back; and
ocsp_response_store, now PL/pgSQL, with its former results.
"""

import os
import subprocess
import uuid

from cryptography.x509 import ocsp

import stack as stackmod
from acmeclient import AcmeClient
from deploykit import wait_until
from test_revocation_status import issue, openssl_ocsp

PUBLISH_TIMEOUT = 20        # seconds the worker may take to sign
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


def labelled(lines):
    """The lines "label value" of a session's output, as a dict."""
    d = {}
    for line in lines:
        if " " in line:
            k, v = line.split(" ", 1)
            d[k] = v
    return d


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


def wait_status(stack, serial, status, timeout=PUBLISH_TIMEOUT):
    """Waits until the stored response of serial has status (and is not
    due); returns the row."""
    last = {}

    def check():
        last["row"] = r = response(stack, serial)
        return r if r["status"] == status and \
            r["refresh_at"] != "-infinity" else None
    return wait_until(check, timeout, lambda: "a %s response of %s stored; "
                      "last: %s" % (status, serial, last.get("row")), 0.2)


def worker_stopped(stack):
    stack.stop_worker()
    p = stack.procs.get("acme-worker")
    assert p is None or not p.alive(), "acme-worker still runs"


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
    wait_until(logged, 10, "%r in the worker's log" % line, 0.2)
    # and served: openssl ocsp through nginx and acme-fcgi
    out = openssl_ocsp(stack, "-cert", c.pem)
    assert "%s: good" % c.pem in out, out
    assert "Response verify OK" in out, out


def test_order_issue_ocsp_stores_nothing_for_an_order_not_processing(
        stack, mint_eab, workdir):
    c = Cert(stack, mint_eab, workdir, "ocsp-lost")
    good = wait_status(stack, c.serial, "good")
    order = stack.psql("SELECT order_id FROM certificate WHERE id = %s"
                       % q(c.id)).strip()
    serial = uuid.uuid4().hex
    got = stack.psql(
        "SELECT order_issue_ocsp(%s, 'oi-lost-cert', %s, now(), "
        "now() + interval '1 day', '\\x00'::bytea, 'pem', %s, %s, now(), "
        "now() + interval '4 days')" % (q(order), q(serial),
                                        good["issuer_id"], FAKE)).strip()
    assert got == "lost", got
    assert stack.psql(
        "SELECT count(*) FROM certificate WHERE id = 'oi-lost-cert' OR "
        "serial = %s" % q(serial)).strip() == "0"
    assert stack.psql("SELECT count(*) FROM ocsp_response WHERE serial = %s"
                      % q(serial)).strip() == "0"
    assert response(stack, c.serial) == good


def test_order_issue_ocsp_beyond_the_credit_writes_nothing(stack, mint_eab):
    """An issuance beyond the organization's balance answers OUT_OF_CREDIT
    and writes nothing: no certificate, no OCSP response, no audit row, no
    debit, the order still processing. The debit comes last (sql/022):
    its failure undoes what came before it. In one transaction rolled
    back, so no worker sees the order processing."""
    c = AcmeClient(stack.directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    r = c.new_order(["credit-%s.%s" % (uuid.uuid4().hex[:8], stack.zone)])
    assert r.status_code == 201, r.text
    order = r.headers["Location"].rsplit("/", 1)[1]
    serial = uuid.uuid4().hex
    org = ("(SELECT ao.organization_id FROM orders o "
           "JOIN account a ON a.id = o.account_id "
           "JOIN acme_account_organization ao "
           "ON ao.acme_account_id = a.acme_account_id WHERE o.id = %s)"
           % q(order))
    out = subprocess.run(psql_argv(stack, [
        "BEGIN",
        "UPDATE orders SET status = 'processing', lease_until = now() + "
        "interval '1 hour' WHERE id = %s" % q(order),
        # the balance to 0 (the profile's cost is 1)
        "INSERT INTO credit_ledger (organization_id, delta, balance_after, "
        "reason, actor) SELECT id, -credit_balance, 0, 'test', 'test' "
        "FROM organization WHERE id = %s" % org,
        "SELECT 'ledger ' || count(*) FROM credit_ledger "
        "WHERE organization_id = %s" % org,
        "SELECT 'result ' || order_issue_ocsp(%s, 'oi-credit-cert', %s, "
        "now(), now() + interval '1 day', '\\x00'::bytea, 'pem', "
        "(SELECT min(id) FROM ocsp_issuer), %s, now(), "
        "now() + interval '4 days')" % (q(order), q(serial), FAKE),
        "SELECT 'certificates ' || count(*) FROM certificate "
        "WHERE id = 'oi-credit-cert' OR serial = %s" % q(serial),
        "SELECT 'responses ' || count(*) FROM ocsp_response "
        "WHERE serial = %s" % q(serial),
        "SELECT 'audit ' || count(*) FROM audit_log "
        "WHERE object_id = 'oi-credit-cert'",
        "SELECT 'ledger_after ' || count(*) FROM credit_ledger "
        "WHERE organization_id = %s" % org,
        "SELECT 'balance ' || credit_balance FROM organization "
        "WHERE id = %s" % org,
        "SELECT 'status ' || status FROM orders WHERE id = %s" % q(order),
        "ROLLBACK"]), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = labelled(out.stdout.splitlines())
    assert got["result"] == "OUT_OF_CREDIT", got
    assert got["certificates"] == "0", got
    assert got["responses"] == "0", got
    assert got["audit"] == "0", got
    assert got["ledger_after"] == got["ledger"], got
    assert got["balance"] == "0", got
    assert got["status"] == "processing", got


def test_without_a_signer_the_response_is_left_due(stack, mint_eab,
                                                    workdir):
    ca = stack.ca_dir
    moved = []
    log = stack.log("acme-worker")
    try:
        worker_stopped(stack)
        for f in ("ocsp.pem", "ocsp.key"):
            os.rename(os.path.join(ca, f), os.path.join(ca, f + ".away"))
            moved.append(f)
        stack.restart_worker()
        offset = os.path.getsize(log)
        c = Cert(stack, mint_eab, workdir, "ocsp-no-signer")
        row = response(stack, c.serial)
        assert row["refresh_at"] == "-infinity" and \
            row["der_hex"] == "NULL", row
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        assert "issued certificate" in text, text[-3000:]
        assert "of the certificate just issued (%s)" % c.serial \
            not in text, text[-3000:]
        # the signer back, a worker started afresh signs what is due
        worker_stopped(stack)
        for f in moved:
            os.rename(os.path.join(ca, f + ".away"), os.path.join(ca, f))
        moved = []
    finally:
        for f in moved:
            os.rename(os.path.join(ca, f + ".away"), os.path.join(ca, f))
        stack.restart_worker()
    wait_status(stack, c.serial, "good")
    out = openssl_ocsp(stack, "-cert", c.pem)
    assert "%s: good" % c.pem in out, out


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
