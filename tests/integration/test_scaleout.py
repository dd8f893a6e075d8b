"""Scale-out: two acme-fcgi instances behind one nginx upstream (nginx
configured from nginx/acme-site.conf) and two acme-worker processes against
one PostgreSQL, driving a few hundred orders from a pool of client threads
(acmeclient.py, http-01 answered by the test). Partway through, one acme-fcgi
instance (its whole process group) and one worker are killed with SIGKILL,
the worker while it holds a lease (the test's http-01 responder slows down
for a moment, so that both workers are caught validating). Run twice: with
two acme-worker programs, and with two acme-worker pools of two processes
each (worker_processes = 2, worker/pool.c), the killed one with its master.

Proven at the end, from the database: every order the clients drove is
issued exactly once (one certificate per order, no duplicate serial, one
debit per order), no order is left processing, both workers issued
certificates, and both acme-fcgi instances answered requests. The clients
retry a request that failed on the connection or with 502/503/504 (a
killed instance), with a new nonce; the killed worker's leases
(lease_seconds = 5 here) run out and the other worker takes its jobs over.

The stack's own worker is stopped meanwhile (it validates against another
http-01 port) and started again afterwards.
"""

import collections
import json
import threading
import time
import uuid

import pytest
import requests

import acmeclient
import deploykit
import stack as stackmod
from deploykit import Fcgi, Nginx, Worker, no_sanitizer_reports  # noqa: F401

ORDERS = 200
THREADS = 16
LEASE = 5
KILL_AT = ORDERS * 35 // 100


class Flaky(Exception):
    """A request failed in a way a client retries."""


def retried(call, ok, what, tries=12):
    """call() until its response's status is in ok; retry connection
    errors, 502/503/504 and badNonce. Returns the response."""
    last = None
    for _ in range(tries):
        try:
            r = call()
        except requests.RequestException as e:
            last = repr(e)
            time.sleep(0.3)
            continue
        if r.status_code in ok:
            return r
        if r.status_code in (502, 503, 504) or (
                r.status_code == 400 and "badNonce" in r.text):
            last = "HTTP %d" % r.status_code
            time.sleep(0.3)
            continue
        raise AssertionError("%s: HTTP %d %s" % (what, r.status_code,
                                                 r.text[:500]))
    raise AssertionError("%s: still failing after %d tries: %s" % (
        what, tries, last))


def poll(c, url, until, what, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        body = retried(lambda: c.post_as_get(url), (200,), what).json()
        if body.get("status") in until:
            return body
        if body.get("status") == "invalid":
            raise AssertionError("%s invalid: %s" % (what, body))
        if time.monotonic() > deadline:
            raise AssertionError("%s still %s" % (what, body.get("status")))
        time.sleep(0.2)


class Run:
    def __init__(self, stack, directory_url, web, creds):
        self.stack = stack
        self.directory_url = directory_url
        self.web = web
        self.creds = creds
        self.lock = threading.Lock()
        self.next = 0
        self.done = []          # order ids issued and downloaded
        self.accounts = []
        self.errors = []
        self.progress = threading.Condition(self.lock)

    def take(self):
        with self.lock:
            if self.next >= ORDERS or self.errors:
                return None
            self.next += 1
            return self.next

    def one(self, c, csr_key):
        name = "so-%s.%s" % (uuid.uuid4().hex[:12], self.stack.zone)
        r = retried(lambda: c.new_order([name]), (201,), "newOrder")
        order, url = r.json(), r.headers["Location"]
        authz_url = order["authorizations"][0]
        authz = retried(lambda: c.post_as_get(authz_url), (200,),
                        "authz").json()
        ch = [x for x in authz["challenges"] if x["type"] == "http-01"][0]
        self.web.tokens[ch["token"]] = c.key_authorization(ch["token"])
        retried(lambda: c.post(ch["url"], {}), (200,), "challenge")
        poll(c, authz_url, ("valid",), "authz " + authz_url)
        csr, _ = acmeclient.make_csr([name], key=csr_key)
        # a finalize retried after it went through meets orderNotReady
        retried(lambda: c.finalize(order, csr), (200, 403), "finalize")
        body = poll(c, url, ("valid",), "order " + url)
        retried(lambda: c.post_as_get(body["certificate"]), (200,),
                "certificate")
        return url.rsplit("/", 1)[1]

    def client(self, i):
        try:
            c = acmeclient.AcmeClient(self.directory_url, self.stack.tls_ca)
            retried(lambda: c.new_account(eab=self.creds[i]), (201,),
                    "newAccount")
            with self.lock:
                self.accounts.append(int(c.account_url.rsplit("/", 1)[1]))
            csr_key = acmeclient.new_rsa_key()
            while self.take() is not None:
                oid = self.one(c, csr_key)
                with self.lock:
                    self.done.append(oid)
                    self.progress.notify_all()
        except Exception as e:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append("client %d: %s" % (i, e))
                self.progress.notify_all()

    def wait_done(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(self.done) < n and not self.errors:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.progress.wait(left)
            return len(self.done)


def sql_list(values):
    return ",".join("'%s'" % v for v in values)


def leases_held(stack):
    """The jobs under a lease now: {"order:ID" or "challenge:ID": lease}."""
    out = stack.psql(
        "SELECT 'order:' || id, lease_until FROM orders WHERE status = "
        "'processing' AND lease_until > now() UNION ALL "
        "SELECT 'challenge:' || id, lease_until FROM challenge WHERE "
        "status = 'processing' AND lease_until > now()")
    return dict(line.split("|", 1) for line in out.splitlines() if line)


def slow_responder(web, slow, seconds):
    """Make the http-01 responder answer after seconds while slow is set,
    so that a worker validating holds its lease meanwhile."""
    base = web.server.RequestHandlerClass

    class Slow(base):
        def do_GET(self):
            if slow.is_set():
                time.sleep(seconds)
            super().do_GET()
    web.server.RequestHandlerClass = Slow


def both_workers_validating(stack, processes):
    """The leases held when every worker process validates a challenge
    (2 x processes of them): each process validates one at a time, so
    each worker holds one of them at least."""
    held = leases_held(stack)
    if sum(k.startswith("challenge:") for k in held) >= 2 * processes:
        return set(held)
    return None


@pytest.mark.parametrize("processes", [1, 2])
def test_two_fcgi_two_workers_one_database(stack, processes):
    started = time.monotonic()
    https = stackmod.free_port()
    base = "https://127.0.0.1:%d" % https
    web_port = stackmod.free_port()
    d = deploykit.workdir(stack, "scaleout-p%d" % processes)
    wconf = deploykit.derive_conf(
        stack, d + "/worker.conf", http01_port=web_port,
        lease_seconds=LEASE, poll_interval=1, log_level="info",
        worker_processes=processes)
    org = "Scale-out %s" % uuid.uuid4().hex[:8]
    creds = []
    for i in range(THREADS):
        out = stack.acmectl("eab", "create", "--org", org, "--credit",
                            str(ORDERS + 50), "--domain", stack.zone,
                            "--json")
        doc = json.loads(out)
        creds.append((doc["kid"], doc["hmac_key"]))
    procs = []
    stack.stop_worker()
    try:
        fa = Fcgi(stack, "scaleout-fcgi-a-p%d" % processes, children=3,
                  listen="tcp",
                  conf={"base_url": base, "log_level": "info"})
        procs.append(fa)
        fb = Fcgi(stack, "scaleout-fcgi-b-p%d" % processes, children=3,
                  listen="tcp",
                  conf={"base_url": base, "log_level": "info"})
        procs.append(fb)
        ngx = Nginx(stack, "scaleout-nginx-p%d" % processes,
                    [fa.address, fb.address],
                    https=https)
        procs.append(ngx)
        wa = Worker(stack, "scaleout-worker-a-p%d" % processes, wconf)
        procs.append(wa)
        wb = Worker(stack, "scaleout-worker-b-p%d" % processes, wconf)
        procs.append(wb)
        with acmeclient.Http01Responder(web_port) as web:
            slow = threading.Event()
            slow_responder(web, slow, 2.5)
            run = Run(stack, ngx.directory_url, web, creds)
            threads = [threading.Thread(target=run.client, args=(i,),
                                        daemon=True)
                       for i in range(THREADS)]
            for t in threads:
                t.start()
            reached = run.wait_done(KILL_AT, 90)
            assert not run.errors, run.errors
            assert reached >= KILL_AT, "only %d orders in 90 s" % reached
            # worker a dies holding a lease (the responder slowed down so
            # that both workers are caught validating), instance a with
            # requests in flight
            slow.set()
            held = deploykit.wait_until(lambda: both_workers_validating(
                stack, processes), 30, "both workers validating at once")
            a_issued = wa.issued()
            fa.kill()
            wa.kill()
            killed_at = time.monotonic()
            time.sleep(1)
            slow.clear()
            for t in threads:
                t.join(150)
            assert not any(t.is_alive() for t in threads), \
                "clients still running"
        elapsed = time.monotonic() - started
        assert not run.errors, "\n".join(run.errors)
        assert len(run.done) == ORDERS, len(run.done)

        # every order issued exactly once, nothing left behind
        ids = sql_list(run.done)
        rows = stack.psql(
            "SELECT o.id, o.status, count(c.id) FROM orders o "
            "LEFT JOIN certificate c ON c.order_id = o.id "
            "WHERE o.id IN (%s) GROUP BY o.id, o.status" % ids).split()
        per_order = collections.Counter(r.split("|")[2] for r in rows)
        assert per_order == {"1": ORDERS}, per_order
        assert all(r.split("|")[1] == "valid" for r in rows)
        accts = ",".join(str(a) for a in run.accounts)
        n, orders, serials = stack.psql(
            "SELECT count(*), count(DISTINCT order_id), "
            "count(DISTINCT serial) FROM certificate WHERE account_id IN "
            "(%s)" % accts).split("|")
        assert (int(n), int(orders), int(serials)) == (ORDERS,) * 3, \
            (n, orders, serials)
        stuck = stack.psql("SELECT count(*) FROM orders WHERE account_id IN "
                           "(%s) AND status = 'processing'" % accts)
        assert stuck.strip() == "0", "orders left processing: " + stuck
        debits = stack.psql("SELECT count(*), count(DISTINCT order_id) FROM "
                            "credit_ledger WHERE order_id IN (%s)" % ids)
        assert debits.strip() == "%d|%d" % (ORDERS, ORDERS), debits
        # the job the killed worker held was taken over once its lease ran
        # out, and finished (the other worker's finished at its first try)
        attempts = {}
        for job in held:
            kind, jid = job.split(":", 1)
            table = "orders" if kind == "order" else "challenge"
            st = stack.psql("SELECT status, attempts FROM %s WHERE id = "
                            "'%s'" % (table, jid)).strip()
            status, n = st.split("|")
            assert status == "valid", (job, st)
            attempts[job] = int(n)
        assert max(attempts.values()) >= 2, "no job taken over after the " \
            "lease: %s" % attempts
        retaken = stack.psql(
            "SELECT (SELECT count(*) FROM orders WHERE id IN (%s) AND "
            "attempts > 1), (SELECT count(*) FROM challenge c JOIN "
            "authorization_ a ON a.id = c.authorization_id WHERE "
            "a.account_id IN (%s) AND c.attempts > 1)" % (ids, accts))

        # both workers and both instances worked
        b_issued = wb.issued()
        assert a_issued > 0 and b_issued > 0, (a_issued, b_issued)
        total = wa.issued() + b_issued
        assert ORDERS - 1 <= total <= ORDERS, total
        served_a = fa.log_text().count(" request rid=")
        served_b = fb.log_text().count(" request rid=")
        assert served_a > 0 and served_b > 0, (served_a, served_b)
        print("\nscale-out (worker_processes = %d): %d orders in %.1f s; "
              "killed instance a and worker a after %d orders (%.1f s "
              "before the end); worker a issued %d, worker b %d; instance "
              "a answered %d requests, b %d; orders and challenges claimed "
              "more than once: %s; leases held when worker a was killed "
              "(attempts): %s" % (
                  processes, ORDERS, elapsed, KILL_AT,
                  time.monotonic() - killed_at, a_issued, b_issued,
                  served_a, served_b, retaken.strip(), attempts))
    finally:
        for p in reversed(procs):
            p.stop()
        stack.restart_worker()
