"""Faults: the worker killed at each step of issuance, PostgreSQL crashing
and restarting, two workers racing for the same jobs, the DNS server
stopped mid-validation, the worker's clock skewed. After each, the
invariants of DESIGN.md are checked in SQL (check_invariants):

- at most one certificate per order; a valid order has its certificate,
  with the serial reserved for it; a certificate's order is valid;
- every organization's credit balance is the sum of its ledger; every
  certificate has its debit and every debit its certificate;
- no order or challenge is left processing past its lease;
- every certificate the worker signed is recorded (the serials logged
  at the fault points are in the table) and can be revoked.
"""

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
from cryptography import x509

import acmeclient
import stack as stackmod
from acmeclient import ERR, AcmeClient, Http01Responder, b64u, make_csr

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

# name -> SQL counting the rows that break the invariant
INVARIANTS = {
    "two certificates for one order":
        "SELECT count(*) FROM (SELECT order_id FROM certificate "
        "GROUP BY order_id HAVING count(*) > 1) x",
    "a valid order without its certificate":
        "SELECT count(*) FROM orders o WHERE o.status = 'valid' AND NOT "
        "EXISTS (SELECT 1 FROM certificate c WHERE c.order_id = o.id)",
    "a certificate whose order is not valid":
        "SELECT count(*) FROM certificate c JOIN orders o ON "
        "o.id = c.order_id WHERE o.status <> 'valid'",
    "a certificate without its order's reserved serial":
        "SELECT count(*) FROM certificate c JOIN orders o ON "
        "o.id = c.order_id WHERE o.serial IS DISTINCT FROM c.serial",
    "a balance other than the sum of its ledger":
        "SELECT count(*) FROM organization g WHERE g.credit_balance <> "
        "coalesce((SELECT sum(delta) FROM credit_ledger l WHERE "
        "l.organization_id = g.id), 0)",
    "a certificate without its debit":
        "SELECT count(*) FROM certificate c JOIN account a ON "
        "a.id = c.account_id JOIN acme_account e ON "
        "e.id = a.acme_account_id JOIN profile p ON p.name = e.profile "
        "WHERE p.cost > 0 AND NOT EXISTS (SELECT 1 FROM credit_ledger l "
        "WHERE l.order_id = c.order_id AND l.delta < 0)",
    "a debit without its certificate":
        "SELECT count(*) FROM credit_ledger l WHERE l.delta < 0 AND "
        "l.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM certificate "
        "c WHERE c.order_id = l.order_id)",
    "an order processing past its lease":
        "SELECT count(*) FROM orders WHERE status = 'processing' AND "
        "coalesce(lease_until, updated_at) < now() - interval '20 seconds'",
    "a challenge processing past its lease":
        "SELECT count(*) FROM challenge WHERE status = 'processing' AND "
        "lease_until < now() - interval '20 seconds'",
    "a pending authorization with a valid challenge":
        "SELECT count(*) FROM authorization_ z WHERE z.status = 'pending' "
        "AND EXISTS (SELECT 1 FROM challenge c WHERE "
        "c.authorization_id = z.id AND c.status = 'valid')",
}

SIGNED = re.compile(r"raising SIGKILL (after-sign|before-commit) \(order "
                    r"(\S+), serial ([0-9a-f]+)\)")


# the invariants a worker still busy may break for a moment
TRANSIENT = ("an order processing past its lease",
             "a challenge processing past its lease")


def check_invariants(stack, wait=30):
    """Asserts every invariant, waiting up to wait seconds for the
    worker to finish what it holds (a lease still running is fine)."""
    sql = "SELECT " + ", ".join("(%s)" % q for q in INVARIANTS.values())
    deadline = time.monotonic() + wait
    while True:
        vals = [int(v) for v in stack.psql(sql).strip().split("|")]
        broken = {k: v for k, v in zip(INVARIANTS, vals) if v}
        if not broken or time.monotonic() > deadline or \
                not set(broken) <= set(TRANSIENT):
            break
        time.sleep(1)
    assert not broken, "invariants broken: %s" % broken
    # every certificate signed before a kill was stored afterwards
    with open(stack.log("acme-worker"), errors="replace") as f:
        signed = SIGNED.findall(f.read())
    for _, order, serial in signed:
        row = stack.psql("SELECT serial FROM certificate WHERE order_id = "
                         "'%s'" % order).strip()
        assert row == serial, "order %s: signed serial %s, stored %r" % (
            order, serial, row)


def client(stack, key=None):
    return AcmeClient(stack.directory_url, stack.tls_ca, key=key)


def account(stack, mint_eab):
    c = client(stack)
    r = c.new_account(eab=mint_eab())
    assert r.status_code == 201, r.text
    return c


def new_order(c, names):
    r = c.post(c.directory["newOrder"], {
        "identifiers": [{"type": "dns", "value": n} for n in names]})
    assert r.status_code == 201, r.text
    return r.json(), r.headers["Location"]


def make_ready(stack, c, names):
    """A ready order for names, validated with http-01."""
    order, url = new_order(c, names)
    with Http01Responder(stack.http01_port) as web:
        for a in order["authorizations"]:
            az = c.post_as_get(a).json()
            ch = [x for x in az["challenges"] if x["type"] == "http-01"][0]
            web.tokens[ch["token"]] = c.key_authorization(ch["token"])
            assert c.post(ch["url"], {}).status_code == 200
        for a in order["authorizations"]:
            assert c.poll(a, ("valid",), what="authz")["status"] == "valid"
    order = c.poll(url, ("ready",), what="order")
    assert order["status"] == "ready", order
    return order, url


def order_row(stack, url):
    """(status, serial, attempts, certificates) of an order."""
    oid = url.rsplit("/", 1)[1]
    row = stack.psql("SELECT status, coalesce(serial, ''), attempts, "
                     "(SELECT count(*) FROM certificate WHERE order_id = "
                     "o.id) FROM orders o WHERE id = '%s'" % oid).strip()
    status, serial, attempts, certs = row.split("|")
    return status, serial, int(attempts), int(certs)


def revoke_all(stack, urls):
    """Revokes the certificates of the orders with acmectl: each can be."""
    for url in urls:
        oid = url.rsplit("/", 1)[1]
        serial = stack.psql("SELECT serial FROM certificate WHERE "
                            "order_id = '%s'" % oid).strip()
        assert serial, "order %s has no certificate" % oid
        stack.acmectl("certificate", "revoke", serial, "--reason", "4")
        revoked = stack.psql("SELECT revoked_at IS NOT NULL FROM certificate "
                             "WHERE serial = '%s'" % serial).strip()
        assert revoked == "t", "certificate %s not revoked" % serial


def start_faulty_worker(stack, step):
    """Restarts the worker with ACME_WORKER_FAULT=kill-STEP (it may die
    before the restart is checked: a job was waiting for it)."""
    try:
        stack.restart_worker({"ACME_WORKER_FAULT": "kill-" + step})
    except stackmod.StackError:
        with open(stack.log("acme-worker"), errors="replace") as f:
            if "raising SIGKILL %s" % step not in f.read()[-20000:]:
                raise


def wait_dead(proc, timeout=30):
    deadline = time.monotonic() + timeout
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not proc.alive()


# ------------------------------------------- worker killed mid-issuance


@pytest.mark.parametrize("step", ["after-claim", "after-serial",
                                  "after-sign", "before-commit"])
def test_worker_killed_during_issuance(stack, mint_eab, uniq, step):
    """SIGKILL at a step: the order waits with its lease and serial; once
    the lease is over a worker issues it, with the same serial, once."""
    c = account(stack, mint_eab)
    names = [uniq("kill")]
    order, url = make_ready(stack, c, names)
    oid = url.rsplit("/", 1)[1]
    ledger_before = stack.psql("SELECT count(*) FROM credit_ledger").strip()
    try:
        start_faulty_worker(stack, step)
        r = c.finalize(order, make_csr(names)[0])
        assert r.status_code == 200, r.text
        assert wait_dead(stack.procs["acme-worker"]), \
            "the worker did not die at %s" % step
        status, serial, attempts, certs = order_row(stack, url)
        assert (status, attempts, certs) == ("processing", 1, 0), \
            order_row(stack, url)
        assert re.fullmatch(r"[0-9a-f]{32}", serial), serial
        assert stack.psql("SELECT count(*) FROM credit_ledger").strip() == \
            ledger_before, "a debit without a certificate"
        with open(stack.log("acme-worker"), errors="replace") as f:
            log = f.read()
        assert "raising SIGKILL %s (order %s, serial %s)" % (
            step, oid, serial) in log
        # the lease runs out (30 s here): the next worker takes the job
        stack.psql("UPDATE orders SET lease_until = now() - interval '1 s' "
                   "WHERE id = '%s'" % oid)
    finally:
        stack.restart_worker()
    final = c.poll(url, ("valid",), what="order")
    assert final["status"] == "valid", final
    status, serial2, attempts, certs = order_row(stack, url)
    assert (status, certs, attempts) == ("valid", 1, 2)
    assert serial2 == serial, "the reserved serial was not reused"
    r = c.post_as_get(final["certificate"])
    assert r.status_code == 200, r.text
    leaf = x509.load_pem_x509_certificate(r.content)
    assert "%032x" % leaf.serial_number == serial
    check_invariants(stack)
    revoke_all(stack, [url])


def test_worker_killed_after_commit_is_harmless(stack, mint_eab, uniq):
    """A worker killed right after a claim never leaves two certificates:
    two kills in a row, then a normal worker."""
    c = account(stack, mint_eab)
    names = [uniq("kill2")]
    order, url = make_ready(stack, c, names)
    oid = url.rsplit("/", 1)[1]
    try:
        start_faulty_worker(stack, "after-sign")
        assert c.finalize(order, make_csr(names)[0]).status_code == 200
        assert wait_dead(stack.procs["acme-worker"])
        stack.psql("UPDATE orders SET lease_until = now() - interval '1 s' "
                   "WHERE id = '%s'" % oid)
        start_faulty_worker(stack, "before-commit")
        assert wait_dead(stack.procs["acme-worker"])
        stack.psql("UPDATE orders SET lease_until = now() - interval '1 s' "
                   "WHERE id = '%s'" % oid)
    finally:
        stack.restart_worker()
    assert c.poll(url, ("valid",), what="order")["status"] == "valid"
    status, serial, attempts, certs = order_row(stack, url)
    assert (status, attempts, certs) == ("valid", 3, 1)
    check_invariants(stack)


# ----------------------------------------------- PostgreSQL crashes


def recover(c, streak=6, tries=30):
    """POST-as-GETs the account, each with the nonce of the answer before
    (as clients do), until streak answers in a row are 200. After the
    crash each acme-fcgi child hands out nonces of the lost epoch until
    it redeems one: at most one badNonce per child, which clients retry
    (RFC 8555 section 6.5), and no server error (the children notice the
    closed connection before using it). Returns the refusals seen."""
    seen = []
    ok = 0
    nonce = c.fresh_nonce()
    for _ in range(tries):
        r = c.post_as_get(c.account_url, nonce=nonce)
        nonce = r.headers.get("Replay-Nonce") or c.fresh_nonce()
        if r.status_code == 200:
            ok += 1
            if ok == streak:
                return seen
            continue
        ok = 0
        doc = r.json()
        seen.append((r.status_code, doc.get("type"), doc.get("detail")))
        assert doc.get("type") == ERR + "badNonce", seen
    raise AssertionError("acme-fcgi did not recover: %s" % seen)


def test_postgres_crash_and_restart(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    unused = c.fresh_nonce()
    used = c.fresh_nonce()
    assert c.post_as_get(c.account_url, nonce=used).status_code == 200
    # an issuance in flight when the database goes down
    names = [uniq("crash")]
    order, url = make_ready(stack, c, names)
    listens = lambda: open(stack.log("acme-worker"),  # noqa: E731
                           errors="replace").read().count(
                               "sql: LISTEN acme_work")
    before = listens()
    assert c.finalize(order, make_csr(names)[0]).status_code == 200
    # the test cluster runs with synchronous_commit=off: give the WAL
    # writer (200 ms) time to make that commit durable, as a production
    # server (synchronous_commit=on) does before answering
    time.sleep(1)
    stack.restart_postgres_immediate()
    seen = recover(c)
    assert len(seen) <= stack.children, seen
    # nonces handed out before the crash are refused, used or not
    for nonce in (unused, used):
        r = c.post_as_get(c.account_url, nonce=nonce)
        assert r.status_code == 400 and r.json()["type"] == ERR + "badNonce", \
            "a nonce from before the crash was accepted: %s" % r.text
    # the worker reconnected, listens again, and finishes the order
    final = c.poll(url, ("valid",), what="order", timeout=90)
    assert final["status"] == "valid", final
    deadline = time.monotonic() + 30
    while listens() <= before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert listens() > before, "the worker did not LISTEN again"
    # and the whole flow works again
    names = [uniq("after")]
    order, url2 = make_ready(stack, c, names)
    assert c.finalize(order, make_csr(names)[0]).status_code == 200
    assert c.poll(url2, ("valid",), what="order")["status"] == "valid"
    for name in ("acme-fcgi", "nginx", "acme-worker"):
        assert stack.procs[name].alive(), "%s died" % name
    check_invariants(stack)
    revoke_all(stack, [url, url2])


# --------------------------------------------------- two workers


def start_extra_worker(stack, name):
    """Another acme-worker on the same database (own session and log)."""
    logf = open(stack.log(name), "ab")
    try:
        p = subprocess.Popen([os.path.join(stack.build, "acme-worker"), "-c",
                              stack.conf], stdin=subprocess.DEVNULL,
                             stdout=logf, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd=stack.state)
    finally:
        logf.close()
    return p


def stop_extra_worker(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


def test_two_workers_race(stack, mint_eab, uniq):
    """Two workers, many challenges and finalizes at once: each challenge
    is validated once, each order gets one certificate."""
    n = 6
    c = account(stack, mint_eab)
    other = start_extra_worker(stack, "acme-worker-2")
    try:
        time.sleep(0.5)
        assert other.poll() is None, "the second worker did not start"
        orders = [new_order(c, [uniq("race%d" % i)]) for i in range(n)]
        with Http01Responder(stack.http01_port) as web:
            bodies, urls, authz = [], [], []
            for order, _ in orders:
                a = order["authorizations"][0]
                ch = [x for x in c.post_as_get(a).json()["challenges"]
                      if x["type"] == "http-01"][0]
                web.tokens[ch["token"]] = c.key_authorization(ch["token"])
                bodies.append(c.jws(ch["url"], {}, nonce=c.fresh_nonce()))
                urls.append(ch["url"])
                authz.append(a)
            fire(stack, urls, bodies)
            for a in authz:
                assert c.poll(a, ("valid",), what="authz")["status"] == \
                    "valid"
            for token in web.tokens:
                hits = [p for p in web.requests if p.endswith("/" + token)]
                assert len(hits) == 1, "token validated %d times" % len(hits)
        bodies, urls = [], []
        for (order, url) in orders:
            o = c.poll(url, ("ready",), what="order")
            names = [i["value"] for i in o["identifiers"]]
            bodies.append(c.jws(o["finalize"],
                                {"csr": b64u(make_csr(names)[0])},
                                nonce=c.fresh_nonce()))
            urls.append(o["finalize"])
        for r in fire(stack, urls, bodies):
            assert r.status_code == 200, r.text
        for _, url in orders:
            assert c.poll(url, ("valid",), what="order")["status"] == "valid"
            status, _, attempts, certs = order_row(stack, url)
            assert (status, attempts, certs) == ("valid", 1, 1)
        rows = stack.psql("SELECT count(*) FROM challenge WHERE attempts > 1 "
                          "AND id = ANY (ARRAY[%s])" % ",".join(
                              "'%s'" % u.rsplit("/", 1)[1] for u in urls))
        assert rows.strip() == "0"
    finally:
        stop_extra_worker(other)
    check_invariants(stack)
    revoke_all(stack, [u for _, u in orders])


def fire(stack, urls, bodies):
    """POSTs bodies[i] to urls[i], all at the same instant."""
    results = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def one(i):
        s = acmeclient.session(stack.tls_ca)
        s.get(stack.directory_url, timeout=30)
        barrier.wait(30)
        results[i] = s.post(urls[i], data=json.dumps(bodies[i]), timeout=60,
                            headers={"Content-Type": "application/jose+json"})
    threads = [threading.Thread(target=one, args=(i,))
               for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert all(r is not None for r in results)
    return results


# -------------------------------------------------- DNS server stopped


def challenge(c, name, kind):
    order, url = new_order(c, [name])
    a = order["authorizations"][0]
    ch = [x for x in c.post_as_get(a).json()["challenges"]
          if x["type"] == kind][0]
    return a, ch, url


class MuteDNS:
    """Sockets on the name server's port that take queries and never
    answer (a server gone silent: every lookup times out)."""

    def __init__(self, port):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", port))
        self.tcp.listen(16)

    def close(self):
        self.udp.close()
        self.tcp.close()


@pytest.mark.parametrize("how", ["stopped", "mute"])
def test_dns_stopped_mid_validation(stack, mint_eab, uniq, how):
    """With the name server down (refusing, or silent), dns-01 and
    http-01 end invalid with a dns problem (never valid, never stuck),
    and a CAA re-check at issuance fails closed."""
    c = account(stack, mint_eab)
    # a ready order whose validation is made 8 hours old: issuance will
    # check CAA again
    caa_names = [uniq("caa")]
    order, caa_url = make_ready(stack, c, caa_names)
    stack.psql("UPDATE challenge SET validated_at = now() - interval "
               "'8 hours' WHERE status = 'valid' AND authorization_id IN "
               "(SELECT authorization_id FROM order_authorization WHERE "
               "order_id = '%s')" % caa_url.rsplit("/", 1)[1])
    a1, ch1, _ = challenge(c, uniq("dnsdown"), "dns-01")
    a2, ch2, _ = challenge(c, uniq("dnsdown"), "http-01")
    ledger_before = stack.psql("SELECT count(*) FROM credit_ledger").strip()
    stack.stop_named()
    mute = MuteDNS(stack.dns_port) if how == "mute" else None
    try:
        assert c.post(ch1["url"], {}).status_code == 200
        assert c.post(ch2["url"], {}).status_code == 200
        assert c.finalize(order, make_csr(caa_names)[0]).status_code == 200
        for a, ch in ((a1, ch1), (a2, ch2)):
            az = c.poll(a, ("valid",), what="authz", timeout=90)
            assert az["status"] == "invalid", az
            got = [x for x in az["challenges"] if x["url"] == ch["url"]][0]
            assert got["error"]["type"] == ERR + "dns", got
            assert "timeout" in got["error"]["detail"], got
        final = c.poll(caa_url, ("valid",), what="order", timeout=90)
    finally:
        if mute is not None:
            mute.close()
        stack.start_named_again()
    assert final["status"] == "invalid", final
    assert final["error"]["type"] == ERR + "caa", final
    assert final["error"].get("code") == "INVALID_DNSCAA", final
    assert order_row(stack, caa_url)[3] == 0
    assert stack.psql("SELECT count(*) FROM credit_ledger").strip() == \
        ledger_before
    # the name server is back: validation works again
    names = [uniq("dnsback")]
    order, url = make_ready(stack, c, names)
    check_invariants(stack)


# --------------------------------------------------- worker's clock


def faketime_env(offset):
    env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME": offset,
           "FAKETIME_DONT_RESET": "1"}
    # a sanitizer runtime must come first, unless told otherwise
    asan = os.environ.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "verify_asan_link_order=0"
    return env


@pytest.mark.parametrize("offset", ["-3h", "+3h"])
def test_worker_clock_skewed(stack, mint_eab, uniq, offset):
    """A worker whose clock is hours off: leases and expiry follow the
    database's clock, and the certificate's dates too."""
    assert os.path.exists(FAKETIME_LIB), "libfaketime missing (deps.sh)"
    c = account(stack, mint_eab)
    names = [uniq("skew")]
    try:
        stack.restart_worker(faketime_env(offset))
        order, url = make_ready(stack, c, names)
        assert c.finalize(order, make_csr(names)[0]).status_code == 200
        final = c.poll(url, ("valid",), what="order")
        # the worker does run on the skewed clock (its log's time stamps)
        with open(stack.log("acme-worker"), errors="replace") as f:
            stamps = re.findall(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)",
                                f.read(), re.M)
    finally:
        stack.restart_worker()
    assert final["status"] == "valid", final
    skew = (datetime.datetime.strptime(stamps[-1], "%Y-%m-%dT%H:%M:%S") -
            datetime.datetime.utcnow()).total_seconds()
    hours = int(offset[:-1])
    assert abs(skew - hours * 3600) < 600, "faketime not in effect: %ds" % skew
    r = c.post_as_get(final["certificate"])
    leaf = x509.load_pem_x509_certificate(r.content)
    db_now = float(stack.psql("SELECT extract(epoch FROM now())").strip())
    nb = leaf.not_valid_before.replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert db_now - 600 <= nb <= db_now + 5, \
        "notBefore %s is %+d s from the database's clock" % (
            leaf.not_valid_before, nb - db_now)
    check_invariants(stack)
    revoke_all(stack, [url])
