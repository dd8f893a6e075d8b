"""The challenge's POST and finalize answered with the worker's outcome
(sql/018_outcome_wait.sql; validation_wait and issuance_wait, 1000 ms
by default, which the stack keeps).

acme-fcgi holds those two requests until the worker is done or the wait
runs out: the challenge is answered valid or invalid, the order valid
with its certificate, and what takes longer is answered processing with
Retry-After, as it always was. Seen here through the stack (defaults),
through an acme-fcgi of its own with both waits 0 (answered processing
at once), and in SQL: the outcome channel of a challenge or an order
that leaves 'processing', and the ids too long for a channel.
"""

import os
import re
import subprocess
import threading
import time

import pytest

import deploykit
import stack as stackmod
from acmeclient import AcmeClient, Http01Responder, make_csr
from deploykit import Fcgi, Nginx, no_sanitizer_reports  # noqa: F401
from test_ocsp_at_issuance import psql_argv

WAIT = 1.0      # seconds: validation_wait and issuance_wait's default


def new_client(directory_url, stack, mint_eab):
    c = AcmeClient(directory_url, stack.tls_ca)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    return c


def start_order(c, name):
    """A new order for name: (order, authorization URL, its http-01
    challenge)."""
    r = c.new_order([name])
    assert r.status_code == 201, r.text
    order = r.json()
    authz_url = order["authorizations"][0]
    r = c.post_as_get(authz_url)
    assert r.status_code == 200, r.text
    ch = [x for x in r.json()["challenges"] if x["type"] == "http-01"][0]
    return order, authz_url, ch


def order_url_of(order):
    return order["finalize"].rsplit("/finalize", 1)[0]


def answer_and_post(c, web, ch):
    """Has web answer ch's http-01 and starts it; returns the POST's
    response (200)."""
    web.tokens[ch["token"]] = c.key_authorization(ch["token"])
    r = c.post(ch["url"], {})
    assert r.status_code == 200, r.text
    return r


# ------------------------------------------------------- the stack


def test_challenge_and_finalize_answered_with_the_outcome(stack, mint_eab,
                                                          uniq):
    c = new_client(stack.directory_url, stack, mint_eab)
    name = uniq("held")
    order, authz_url, ch = start_order(c, name)
    with Http01Responder(stack.http01_port) as web:
        r = answer_and_post(c, web, ch)
        body = r.json()
        # the validation happened during the request, not after it
        assert web.requests, "no http-01 request during the POST"
    assert body["status"] == "valid", body
    assert body["validated"].endswith("Z"), body
    assert "Retry-After" not in r.headers, r.headers
    assert 'rel="up"' in r.headers["Link"], r.headers
    authz = c.post_as_get(authz_url).json()
    assert authz["status"] == "valid", authz
    order_url = order_url_of(order)
    order = c.post_as_get(order_url).json()
    assert order["status"] == "ready", order

    csr, _ = make_csr([name])
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "valid", done
    assert done["certificate"].startswith(stack.base_url), done
    assert r.headers["Location"] == order_url, r.headers
    assert "Retry-After" not in r.headers, r.headers
    r = c.post_as_get(done["certificate"])
    assert r.status_code == 200 and "BEGIN CERTIFICATE" in r.text, r.text
    # the certificate of the answer is the order's
    assert c.post_as_get(order_url).json() == done


def test_failed_validation_answered_invalid(stack, mint_eab, uniq):
    c = new_client(stack.directory_url, stack, mint_eab)
    order, authz_url, ch = start_order(c, uniq("held-bad"))
    with Http01Responder(stack.http01_port) as web:
        web.tokens[ch["token"]] = "not-the-key-authorization"
        r = c.post(ch["url"], {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "invalid", body
    assert body["error"]["type"].startswith("urn:ietf:params:acme:error:"), \
        body
    assert c.post_as_get(authz_url).json()["status"] == "invalid"
    assert c.post_as_get(order_url_of(order)).json()["status"] == "invalid"


def test_slow_validation_answered_processing(stack, mint_eab, uniq):
    """A validation longer than validation_wait (the responder answers
    after 2.5 s, within the stack's validation_timeout of 5 s) is answered
    processing, with Retry-After, once the wait is over; it completes
    later, as the client's polling sees."""
    c = new_client(stack.directory_url, stack, mint_eab)
    order, authz_url, ch = start_order(c, uniq("held-slow"))
    with Http01Responder(stack.http01_port, delay=2.5) as web:
        t0 = time.monotonic()
        r = answer_and_post(c, web, ch)
        held = time.monotonic() - t0
        assert r.json()["status"] == "processing", r.text
        assert r.headers["Retry-After"] == "1", r.headers
        # it was held for the wait (a lower bound: a slow machine can
        # only make it longer)
        assert held >= WAIT * 0.9, held
        authz = c.poll(authz_url, ("valid", "invalid"),
                       what="authorization")
    assert authz["status"] == "valid", authz


def test_challenge_posted_again_is_not_held(stack, mint_eab, uniq):
    """A challenge already decided is answered at once with its state: only
    the request that finds it processing after its start waits."""
    c = new_client(stack.directory_url, stack, mint_eab)
    order, authz_url, ch = start_order(c, uniq("held-again"))
    with Http01Responder(stack.http01_port) as web:
        assert answer_and_post(c, web, ch).json()["status"] == "valid"
        log = stack.log("acme-fcgi")
        mark = os.path.getsize(log)
        r = c.post(ch["url"], {})
    assert r.status_code == 200 and r.json()["status"] == "valid", r.text
    with open(log, errors="replace") as f:
        f.seek(mark)
        text = f.read()
    assert "fcgi_challenge_waited" not in text, text[-2000:]


def test_failed_read_after_the_wait_answers_processing(stack, mint_eab,
                                                       uniq):
    """When the read after the wait fails (here the function is gone), the
    request is answered as it was before the wait (processing), not with
    an error, and its session stops listening all the same."""
    c = new_client(stack.directory_url, stack, mint_eab)
    order, authz_url, ch = start_order(c, uniq("held-gone"))
    log = stack.log("acme-fcgi")
    stack.psql("ALTER FUNCTION fcgi_challenge_waited(text) "
               "RENAME TO fcgi_challenge_waited_gone")
    try:
        with Http01Responder(stack.http01_port) as web:
            mark = os.path.getsize(log)
            r = answer_and_post(c, web, ch)
            assert r.json()["status"] == "processing", r.text
            assert r.headers["Retry-After"] == "1", r.headers
            authz = c.poll(authz_url, ("valid", "invalid"),
                           what="authorization")
    finally:
        stack.psql("ALTER FUNCTION fcgi_challenge_waited_gone(text) "
                   "RENAME TO fcgi_challenge_waited")
    assert authz["status"] == "valid", authz
    with open(log, errors="replace") as f:
        f.seek(mark)
        text = f.read()
    assert "sql: UNLISTEN *" in text, text[-3000:]


# ------------------------------------------- an acme-fcgi without waits


@pytest.fixture(scope="module")
def unheld(stack):
    """An acme-fcgi with validation_wait = issuance_wait = 0 behind an
    nginx of its own: (its directory URL)."""
    https = stackmod.free_port()
    fc = Fcgi(stack, "unheld-fcgi", children=2,
              conf={"base_url": "https://127.0.0.1:%d" % https,
                    "validation_wait": 0, "issuance_wait": 0})
    ngx = Nginx(stack, "unheld-nginx", [fc.nginx_address], https=https)
    try:
        yield ngx.directory_url
    finally:
        ngx.stop()
        fc.stop()


def test_waits_of_zero_answer_processing(stack, mint_eab, uniq, unheld):
    c = new_client(unheld, stack, mint_eab)
    name = uniq("unheld")
    order, authz_url, ch = start_order(c, name)
    with Http01Responder(stack.http01_port) as web:
        r = answer_and_post(c, web, ch)
        assert r.json()["status"] == "processing", r.text
        assert r.headers["Retry-After"] == "1", r.headers
        c.poll(authz_url, ("valid",), what="authorization")
    order_url = order_url_of(order)
    order = c.poll(order_url, ("ready",), what="order")
    csr, _ = make_csr([name])
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing", r.text
    assert "certificate" not in r.json(), r.text
    order = c.poll(order_url, ("valid",), what="order")
    assert order["certificate"], order


@pytest.fixture(params=[2, 4], ids=["2-children", "4-children"])
def few_children(stack, request):
    """An acme-fcgi with two or four children and validation_wait = 4000,
    behind an nginx of its own: (children, nginx)."""
    https = stackmod.free_port()
    fc = Fcgi(stack, "held-fcgi-%d" % request.param, children=request.param,
              conf={"base_url": "https://127.0.0.1:%d" % https,
                    "validation_wait": 4000})
    ngx = Nginx(stack, "held-nginx-%d" % request.param, [fc.nginx_address],
                https=https)
    try:
        yield request.param, ngx
    finally:
        ngx.stop()
        fc.stop()


def held_metrics(stack, ngx):
    """The hold counters by outcome, and the holding and holding_max
    gauges."""
    status, body = deploykit.https_get(stack, ngx.base_url + "/metrics/1")
    assert status == 200, body[:300]
    body = body.decode()
    got = {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^acme_fcgi_held_requests_total\{outcome="(\w+)"\} (\d+)$',
        body, re.M)}
    for key, name in (("holding", "acme_fcgi_holding_requests"),
                      ("holding_max", "acme_fcgi_holding_requests_max")):
        m = re.search(r"^%s (\d+)$" % name, body, re.M)
        assert m, body
        got[key] = int(m.group(1))
    return got


def test_a_child_stays_free(stack, mint_eab, uniq, few_children):
    """Three quarters of the children hold a request at once, never all
    of them (one of two, three of four): a challenge POST that comes while
    they all hold is answered processing at once (counted busy), and every
    validation completes."""
    children, ngx = few_children
    holders = children - max(1, children // 4)
    # one client each: a client is not shared between threads
    clients = [new_client(ngx.directory_url, stack, mint_eab)
               for _ in range(holders + 1)]
    started = [start_order(c, uniq("held-%d" % i))
               for i, c in enumerate(clients)]
    before = held_metrics(stack, ngx)
    assert before["holding_max"] == holders, before
    assert before["holding"] == 0, before
    got = {}
    with Http01Responder(stack.http01_port, delay=1.5) as web:
        for c, (_, _, ch) in zip(clients, started):
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
        posts = [threading.Thread(
            target=lambda i=i, c=c, ch=ch: got.update({i: c.post(ch["url"],
                                                                 {})}))
            for i, (c, (_, _, ch)) in enumerate(zip(clients[:-1],
                                                    started[:-1]))]
        for t in posts:
            t.start()
        deploykit.wait_until(
            lambda: held_metrics(stack, ngx)["holding"] == holders, 30,
            lambda: "%d held requests: %s" % (holders,
                                              held_metrics(stack, ngx)))
        r = clients[-1].post(started[-1][2]["url"], {})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "processing", r.text
        assert r.headers["Retry-After"] == "1", r.headers
        for t in posts:
            t.join(30)
        for i in range(holders):
            assert got[i].status_code == 200, got[i].text
            assert got[i].json()["status"] in ("valid", "processing"), \
                got[i].text
        for c, (_, authz, _) in zip(clients, started):
            a = c.poll(authz, ("valid", "invalid"), what="authorization")
            assert a["status"] == "valid", a
    after = held_metrics(stack, ngx)
    assert after["busy"] - before.get("busy", 0) == 1, (before, after)
    held = sum(after.get(k, 0) - before.get(k, 0)
               for k in ("done", "not_done"))
    assert held == holders, (before, after)
    assert after["holding"] == 0, after


# ------------------------------------------------------------- SQL


def psql_session(stack, script):
    """Runs script in one psql session; returns its output (psql prints
    the notifications it receives)."""
    r = subprocess.run(psql_argv(stack, []), input=script, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_leaving_processing_notifies_the_outcome(stack, mint_eab, uniq):
    """A challenge or an order that leaves 'processing' notifies its
    channel with its new status, whoever moves it; one that does not
    (pending to invalid) notifies nothing. Done in one transaction each,
    so that no worker ever sees the rows processing."""
    c = new_client(stack.directory_url, stack, mint_eab)
    order, _, ch = start_order(c, uniq("notify"))
    oid = order_url_of(order).rsplit("/", 1)[1]
    cid = ch["url"].rsplit("/", 1)[1]
    out = psql_session(stack, """
LISTEN "acme_c_%(c)s";
LISTEN "acme_o_%(o)s";
BEGIN;
UPDATE challenge SET status = 'processing' WHERE id = '%(c)s';
UPDATE challenge SET status = 'invalid' WHERE id = '%(c)s';
UPDATE orders SET status = 'processing' WHERE id = '%(o)s';
UPDATE orders SET status = 'invalid' WHERE id = '%(o)s';
COMMIT;
SELECT 'sync';
""" % {"c": cid, "o": oid})
    assert ('notification "acme_c_%s" with payload "invalid"' % cid) in out, \
        out
    assert ('notification "acme_o_%s" with payload "invalid"' % oid) in out, \
        out
    _, _, ch2 = start_order(c, uniq("notify-none"))
    cid2 = ch2["url"].rsplit("/", 1)[1]
    out = psql_session(stack, """
LISTEN "acme_c_%(c)s";
UPDATE challenge SET status = 'invalid' WHERE id = '%(c)s';
SELECT 'sync';
""" % {"c": cid2})
    assert "notification" not in out, out


def test_worker_session_notifies_orders_after_its_commit(stack, mint_eab,
                                                        uniq):
    """A session with acme.notifies_order_outcome = on (acme-worker's)
    does not notify an order's outcome in the transaction that decides it
    (sql/020: that transaction's commit waits for the disk); it notifies
    it afterwards with order_outcome_notify, which says nothing of an
    order still processing. Its challenges notify as any session's."""
    c = new_client(stack.directory_url, stack, mint_eab)
    order, _, ch = start_order(c, uniq("after-commit"))
    oid = order_url_of(order).rsplit("/", 1)[1]
    cid = ch["url"].rsplit("/", 1)[1]
    out = psql_session(stack, """
SET acme.notifies_order_outcome = on;
LISTEN "acme_o_%(o)s";
LISTEN "acme_c_%(c)s";
BEGIN;
UPDATE orders SET status = 'processing' WHERE id = '%(o)s';
SELECT 'still processing', order_outcome_notify('%(o)s');
UPDATE orders SET status = 'invalid' WHERE id = '%(o)s';
UPDATE challenge SET status = 'processing' WHERE id = '%(c)s';
UPDATE challenge SET status = 'invalid' WHERE id = '%(c)s';
COMMIT;
SELECT 'committed';
SELECT 'after', order_outcome_notify('%(o)s');
SELECT 'sync';
""" % {"o": oid, "c": cid})
    lines = out.splitlines()
    assert "still processing|f" in lines, out
    after = lines.index("after|t")
    note = 'notification "acme_o_%s" with payload "invalid"' % oid
    # the order's one notification comes after order_outcome_notify, the
    # challenge's with the commit
    assert [i for i, l in enumerate(lines) if note in l] == [after + 1], out
    assert ('notification "acme_c_%s" with payload "invalid"' % cid) in \
        "\n".join(lines[:after]), out


def test_channel_names_fit(stack):
    """A channel name has at most 63 bytes: a longer id makes none, and
    outcome_listen then listens to nothing."""
    out = stack.psql(
        "SELECT coalesce(outcome_channel('acme_o_', repeat('x', 56)), "
        "'NULL'), coalesce(outcome_channel('acme_o_', repeat('x', 57)), "
        "'NULL')").strip()
    assert out == "acme_o_%s|NULL" % ("x" * 56), out
    out = psql_session(stack, """
SET acme.wait_outcome = on;
SELECT outcome_listen('acme_o_', repeat('x', 57));
SELECT outcome_listen('acme_o_', 'short');
SELECT string_agg(c, ',') FROM pg_listening_channels() AS c;
RESET acme.wait_outcome;
SELECT outcome_listen('acme_o_', 'other');
""")
    assert out.split() == ["f", "t", "acme_o_short", "f"], out
