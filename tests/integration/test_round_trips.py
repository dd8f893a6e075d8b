"""One database round trip per signed ACME request (README, "Performance";
sql/013_hot_path_functions.sql), and no nonce left usable by a refusal.

acme-fcgi logs every statement it sends at debug level (the stack's level),
prefixed with the request's id: the statements of one request are counted
in its log. A child that has not cached the signing account's key yet loads
it first (once per child and account): that statement is not counted, and
there is at most one.
"""

import os
import re
import time

from acmeclient import ERR, AcmeClient, Http01Responder, b64u, make_csr

KEY_LOAD = "SELECT a.id, a.jwk::text"


def client(stack, mint_eab):
    c = AcmeClient(stack.directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    return c


class FcgiLog:
    """The statements acme-fcgi sends for the requests made after mark()."""

    def __init__(self, stack):
        self.path = stack.log("acme-fcgi")
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def statements(self, method, path):
        """The statements of the one request for method and path since
        mark() (waiting for its log line), key loads left out."""
        deadline = time.monotonic() + 5
        pattern = re.compile(r"request rid=(\S+) method=%s path=%s "
                             % (method, re.escape(path)))
        while True:
            with open(self.path, errors="replace") as f:
                f.seek(self.offset)
                text = f.read()
            rids = pattern.findall(text)
            if rids or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(rids) == 1, "%d requests %s %s in the log since the " \
            "mark:\n%s" % (len(rids), method, path, text[-3000:])
        sql = re.findall(r"\[%s\] sql: (.*)" % re.escape(rids[0]), text)
        loads = [s for s in sql if s.startswith(KEY_LOAD)]
        assert len(loads) <= 1, sql
        return [s for s in sql if not s.startswith(KEY_LOAD)]


def path_of(url):
    return "/" + url.split("/", 3)[3]


def one_trip(log, what, method, url, send):
    """Runs send() after a mark and asserts its request made exactly one
    round trip; returns send()'s response."""
    log.mark()
    r = send()
    sql = log.statements(method, path_of(url))
    assert len(sql) == 1, "%s: %d round trips, want 1: %s" % (
        what, len(sql), sql)
    return r


def held_trips(log, what, method, url, send, call, waited):
    """Runs send() after a mark and asserts that its request, held for the
    worker's outcome (sql/018: validation_wait, issuance_wait), made the
    round trip of its resource (call) and then one more, the read after
    the wait (waited), which replaces the client's polling request;
    returns send()'s response."""
    log.mark()
    r = send()
    sql = log.statements(method, path_of(url))
    assert len(sql) == 2, "%s: %d round trips, want 2: %s" % (
        what, len(sql), sql)
    assert sql[0].startswith("SELECT * FROM %s(" % call), sql
    assert sql[1].startswith("SELECT * FROM %s(" % waited), sql
    return r


def test_one_round_trip_per_request(stack, mint_eab, uniq):
    """newOrder, authorization, order polling, certificate, account (read,
    update) and its orders: one statement each; newNonce none; the
    challenge's POST and finalize, held for the outcome, one more each."""
    log = FcgiLog(stack)
    c = client(stack, mint_eab)
    name = uniq("rt")
    url = c.directory["newNonce"]
    log.mark()
    r = c.session.head(url, timeout=30)
    assert r.status_code == 200
    assert log.statements("HEAD", path_of(url)) == []

    url = c.directory["newOrder"]
    r = one_trip(log, "newOrder", "POST", url, lambda: c.new_order([name]))
    assert r.status_code == 201, r.text
    order, order_url = r.json(), r.headers["Location"]
    authz_url = order["authorizations"][0]
    r = one_trip(log, "authorization", "POST", authz_url,
                 lambda: c.post_as_get(authz_url))
    assert r.status_code == 200, r.text
    ch = [x for x in r.json()["challenges"] if x["type"] == "http-01"][0]
    with Http01Responder(stack.http01_port) as web:
        web.tokens[ch["token"]] = c.key_authorization(ch["token"])
        r = held_trips(log, "challenge", "POST", ch["url"],
                       lambda: c.post(ch["url"], {}), "fcgi_challenge",
                       "fcgi_challenge_waited")
        assert r.status_code == 200, r.text
        c.poll(authz_url, ("valid",), what="authorization")
    r = one_trip(log, "challenge read", "POST", ch["url"],
                 lambda: c.post_as_get(ch["url"]))
    assert r.status_code == 200 and r.json()["status"] == "valid", r.text
    c.poll(order_url, ("ready",), what="order")
    r = one_trip(log, "order", "POST", order_url,
                 lambda: c.post_as_get(order_url))
    assert r.json()["status"] == "ready", r.text
    csr, _ = make_csr([name])
    r = held_trips(log, "finalize", "POST", order["finalize"],
                   lambda: c.finalize(order, csr), "fcgi_finalize",
                   "fcgi_order_waited")
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("processing", "valid"), r.text
    order = c.poll(order_url, ("valid",), what="order")
    cert_url = order["certificate"]
    r = one_trip(log, "certificate", "POST", cert_url,
                 lambda: c.post_as_get(cert_url))
    assert r.status_code == 200 and "BEGIN CERTIFICATE" in r.text, r.text

    acct = c.account_url
    r = one_trip(log, "account", "POST", acct, lambda: c.post_as_get(acct))
    assert r.status_code == 200, r.text
    r = one_trip(log, "account update", "POST", acct,
                 lambda: c.post(acct, {"contact": ["mailto:rt@demo.test"]}))
    assert r.json()["contact"] == ["mailto:rt@demo.test"], r.text
    orders = acct + "/orders"
    r = one_trip(log, "orders", "POST", orders,
                 lambda: c.post_as_get(orders))
    assert r.json()["orders"] == [order_url], r.text

    # an authorization's deactivation, and a refused finalize
    r = c.new_order([uniq("rt-deact")])
    assert r.status_code == 201, r.text
    other = r.json()
    authz_url = other["authorizations"][0]
    r = one_trip(log, "deactivation", "POST", authz_url,
                 lambda: c.post(authz_url, {"status": "deactivated"}))
    assert r.json()["status"] == "deactivated", r.text
    r = one_trip(log, "finalize refused", "POST", other["finalize"],
                 lambda: c.finalize(other, csr))
    assert r.status_code == 403, r.text
    assert r.json()["type"] == ERR + "orderNotReady", r.text
    r = one_trip(log, "account deactivation", "POST", acct,
                 lambda: c.post(acct, {"status": "deactivated"}))
    assert r.json()["status"] == "deactivated", r.text


def test_refusals_use_their_nonce(stack, mint_eab, uniq):
    """A request refused by the resource (another account's order), or
    before its query (a bad payload), uses its nonce up: sent again, it is
    a badNonce, which comes before the resource's refusal."""
    a = client(stack, mint_eab)
    b = client(stack, mint_eab)
    r = a.new_order([uniq("rt-a")])
    assert r.status_code == 201, r.text
    order_url = r.headers["Location"]
    for who, payload, kind in [(b, None, "malformed"),
                               (a, {"x": 1}, "malformed")]:
        nonce = who.fresh_nonce()
        r = who.post(order_url, payload, nonce=nonce)
        assert r.status_code in (400, 404), r.text
        assert r.json()["type"] == ERR + kind, r.text
        r = who.post(order_url, payload, nonce=nonce)
        assert r.status_code == 400, r.text
        assert r.json()["type"] == ERR + "badNonce", r.text


def test_failed_query_still_uses_the_nonce(stack, mint_eab):
    """When the resource's part of the one statement fails, the statement
    (the nonce's redemption with it) is rolled back: the nonce is then
    redeemed on its own before the error is told, and cannot be used
    again."""
    c = client(stack, mint_eab)
    sig = "fcgi_certificate(bigint,text,text,integer,boolean,text)"
    orig = stack.psql("SELECT pg_get_functiondef('%s'::regprocedure)" % sig)
    assert "CREATE OR REPLACE FUNCTION" in orig, orig
    stack.psql(
        "CREATE OR REPLACE FUNCTION fcgi_certificate(p_account bigint, "
        "p_tp text, p_nonce text, p_epoch integer, p_usable boolean, "
        "p_certificate text, OUT result text, OUT id bigint, OUT jwk text, "
        "OUT thumbprint text, OUT status text, OUT contact text, "
        "OUT acme_account_id bigint, OUT kid text, OUT problem text, "
        "OUT profile text, OUT key_sizes integer[], "
        "OUT certificate_account bigint, OUT certificate_pem text) "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "SELECT * INTO result, id, jwk, thumbprint, status, contact, "
        "acme_account_id, kid, problem, profile, key_sizes "
        "FROM fcgi_auth(p_account, p_tp, p_nonce, p_epoch, p_usable); "
        "RAISE EXCEPTION 'injected fault'; END $$")
    try:
        url = c.directory["newOrder"].replace("new-order", "cert/nothing")
        nonce = c.fresh_nonce()
        r = c.post_as_get(url, nonce=nonce)
        assert r.status_code == 500, r.text
        assert r.json().get("code") == "ACME_OTHER_ERROR", r.text
        assert "cannot read the certificate" in r.json()["detail"], r.text
        r = c.post_as_get(c.account_url, nonce=nonce)
        assert r.status_code == 400, r.text
        assert r.json()["type"] == ERR + "badNonce", r.text
    finally:
        stack.psql(orig)
    r = c.post_as_get(url)
    assert r.status_code == 404, r.text


def test_prepared_statements_survive_a_changed_function(stack, mint_eab):
    """Each acme-fcgi child prepares its statements once per session
    (prepare_statements = 1). When a migration changes the result type of
    a function a prepared statement calls, PostgreSQL refuses to run the
    old plan (0A000): the statement is prepared again and run once more,
    and the request succeeds."""
    c = client(stack, mint_eab)
    sig = "fcgi_account(bigint,text,text,integer,boolean,boolean,jsonb)"
    orig = stack.psql("SELECT pg_get_functiondef('%s'::regprocedure)" % sig)
    comment = stack.psql("SELECT obj_description('%s'::regprocedure)" % sig)
    assert "OUT contact text" in orig, orig
    changed = orig.replace("OUT contact text", "OUT contact varchar")
    log = stack.log("acme-fcgi")
    # every child prepares the statement (a request may go to any child)
    for _ in range(3 * stack.children):
        r = c.post_as_get(c.account_url)
        assert r.status_code == 200, r.text
    offset = os.path.getsize(log)
    stack.psql("DROP FUNCTION %s; %s" % (sig, changed))
    try:
        for _ in range(3 * stack.children):
            r = c.post_as_get(c.account_url)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "valid", r.text
    finally:
        stack.psql("DROP FUNCTION %s; %s; COMMENT ON FUNCTION %s IS '%s'" % (
            sig, orig, sig, comment.replace("'", "''")))
    time.sleep(0.3)
    with open(log, errors="replace") as f:
        f.seek(offset)
        text = f.read()
    assert "sql failed (0A000)" in text, \
        "no statement was planned anew:\n" + text[-3000:]
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200, r.text
