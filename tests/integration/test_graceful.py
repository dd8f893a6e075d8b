"""Graceful behaviour of acme-fcgi and acme-worker, on instances of their own
next to the stack (its PostgreSQL), driven by a FastCGI client of the tests
(fcgiclient.py) that tells apart a request answered, a connection refused
and a request cut:

  - SIGTERM under load: every request in flight is answered, those queued
    on the socket too; new connections are refused once the socket is
    gone; the master exits 0;
  - SIGHUP: the master reads the configuration again and replaces its
    children (the socket served throughout); a broken file changes nothing;
  - a child killed by SIGKILL is replaced, the listener never drops; the
    children of a killed master stop;
  - acme-worker: SIGHUP between jobs; a broken file changes nothing.
"""

import collections
import os
import signal
import threading
import time

import deploykit
import fcgiclient
from deploykit import Fcgi, Worker, no_sanitizer_reports  # noqa: F401

# A body acme-fcgi reads whole and then refuses (not a JWS): a complete
# answer, 400 malformed.
JUNK = b'{"protected": "' + b"A" * 2000 + b'", "payload": "", ' \
    b'"signature": ""}'


class Load:
    """Threads sending GET /directory to an address in a loop until
    stopped; outcomes counts "ok", "refused", "cut" and the other
    statuses."""

    def __init__(self, address, threads=3, pause=0.0):
        self.address = address
        self.pause = pause
        self.outcomes = collections.Counter()
        self.errors = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(threads)]

    def run(self):
        while not self.stopping.is_set():
            try:
                r = fcgiclient.request(self.address, "GET", "/directory")
                what = "ok" if r.status == 200 else "status %d" % r.status
            except fcgiclient.Refused:
                what = "refused"
                time.sleep(0.02)
            except (fcgiclient.Cut, OSError) as e:
                what = "cut"
                with self.lock:
                    self.errors.append("%s at %.3f" % (e, time.time()))
            with self.lock:
                self.outcomes[what] += 1
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.outcomes)


def metric(fc, name):
    """The value of one sample of the instance's /metrics."""
    r = fc.get("/metrics")
    assert r.status == 200
    for line in r.body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no %s in /metrics" % name)


def test_sigterm_answers_requests_in_flight(stack):
    fc = Fcgi(stack, "graceful-term", children=3)
    sock = fc.listen
    results = {}
    sent = threading.Semaphore(0)

    def slow(i):
        try:
            r = fcgiclient.slow_request(fc.address, "POST",
                                        "/acme/new-order", JUNK,
                                        "application/jose+json", 1.5,
                                        on_sent=sent.release)
            results[i] = r.status
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)

    # six requests whose bodies arrive slowly: three keep the children
    # busy, three wait on the socket behind them
    slows = [threading.Thread(target=slow, args=(i,)) for i in range(6)]
    try:
        with Load(fc.address) as load:
            for t in slows:
                t.start()
            for _ in slows:
                assert sent.acquire(timeout=10), "a slow request never " \
                    "started"
            time.sleep(0.2)
            fc.signal(signal.SIGTERM)
            for t in slows:
                t.join(30)
            status = fc.wait(20)
            time.sleep(0.2)
        outcomes = load.snapshot()
    finally:
        fc.kill()
    log = fc.log_text()
    assert results == {i: 400 for i in range(6)}, \
        "requests in flight not answered: %s\n%s" % (
            results, deploykit.log_tail(fc.log))
    assert outcomes["cut"] == 0, "requests cut: %s %s" % (outcomes,
                                                          load.errors)
    assert outcomes["ok"] > 0 and outcomes["refused"] > 0, outcomes
    assert status == 0, "acme-fcgi exited with %s:\n%s" % (
        status, deploykit.log_tail(fc.log))
    assert not os.path.exists(sock), "the socket is still there"
    assert "stopping: the children finish their requests" in log
    assert log.rstrip().endswith("info: stopped"), deploykit.log_tail(
        fc.log)


def test_sighup_reloads_and_replaces_children(stack):
    fc = Fcgi(stack, "graceful-hup", children=2)
    try:
        old = fc.children()
        assert len(old) == 2
        website = "https://reloaded.example/%d" % os.getpid()
        with Load(fc.address, threads=2) as load:
            time.sleep(0.3)
            deploykit.derive_conf(stack, fc.conf, listen=fc.listen,
                                  children=3, website=website)
            fc.signal(signal.SIGHUP)
            new = deploykit.wait_until(
                lambda: (lambda c: c if len(c) == 3 and not set(c) & set(
                    old) else None)(fc.children()), 15,
                "three new children replacing %s" % old)

            def all_new():
                for _ in range(10):
                    d = fc.get("/directory").json()
                    if d["meta"].get("website") != website:
                        return False
                return True
            deploykit.wait_until(all_new, 10, "every child serving "
                                 "website %s" % website)
            # a broken file: nothing changes
            with open(fc.conf, "a") as f:
                f.write("no_such_key = 1\n")
            fc.signal(signal.SIGHUP)
            deploykit.wait_until(
                lambda: "reload: keeping the previous configuration" in
                fc.log_text(), 10, "the reload refused")
            time.sleep(0.3)
            assert fc.children() == new
            assert fc.get("/directory").json()["meta"]["website"] == \
                website
            time.sleep(0.3)
        outcomes = load.snapshot()
        assert set(outcomes) == {"ok"}, "requests failed during the " \
            "reload: %s %s" % (outcomes, load.errors)
        assert metric(fc, "acme_fcgi_reloads_total") == 1
        assert metric(fc, "acme_fcgi_children") == 3
        assert "reloaded %s: 3 children replace 2" % fc.conf in \
            fc.log_text()
    finally:
        fc.stop()


def test_killed_child_is_replaced(stack):
    fc = Fcgi(stack, "graceful-kill", children=3)
    try:
        with Load(fc.address, threads=2, pause=0.01) as load:
            time.sleep(0.5)
            victim = fc.children()[0]
            os.kill(victim, signal.SIGKILL)
            after = deploykit.wait_until(
                lambda: (lambda c: c if len(c) == 3 and victim not in c
                         else None)(fc.children()), 10,
                "child %d replaced" % victim)
            before = load.snapshot()["ok"]
            time.sleep(1)
        outcomes = load.snapshot()
        assert outcomes["refused"] == 0, outcomes
        # at most the request the victim was serving is lost
        assert outcomes["cut"] <= 1, (outcomes, load.errors)
        assert outcomes["ok"] > before, "no request answered after the " \
            "kill: %s" % outcomes
        assert len(after) == 3
        assert "child %d killed by signal 9" % victim in fc.log_text()
        assert metric(fc, "acme_fcgi_child_restarts_total") == 1
    finally:
        fc.stop()


def test_children_stop_when_the_master_is_killed(stack):
    """A master killed by SIGKILL (by a supervisor, or mod_fcgid) leaves
    no orphan serving: its children are told with SIGTERM and exit."""
    fc = Fcgi(stack, "graceful-orphans", children=2)
    try:
        kids = fc.children()
        assert len(kids) == 2
        os.kill(fc.pid, signal.SIGKILL)
        fc.wait(5)

        def gone():
            return not any(os.path.exists("/proc/%d" % k) and
                           open("/proc/%d/stat" % k).read().split(") ")[1]
                           [0] != "Z" for k in kids)
        deploykit.wait_until(gone, 10, "children %s exiting" % kids)
    finally:
        fc.kill()


def test_worker_sighup(stack):
    d = deploykit.workdir(stack, "graceful-worker")
    conf = deploykit.derive_conf(stack, os.path.join(d, "acme.conf"),
                                 log_level="info")
    w = Worker(stack, "graceful-worker", conf)
    try:
        assert "debug: sql:" not in w.log_text()
        deploykit.derive_conf(stack, conf, log_level="debug")
        w.signal(signal.SIGHUP)
        deploykit.wait_until(lambda: "reloaded %s" % conf in w.log_text(),
                             10, "the worker reloading")
        # the new log level is in force for the next jobs
        deploykit.wait_until(lambda: "debug: sql:" in w.log_text(), 10,
                             "debug lines after the reload")
        with open(conf, "a") as f:
            f.write("no_such_key = 1\n")
        w.signal(signal.SIGHUP)
        deploykit.wait_until(
            lambda: "reload: keeping the previous configuration" in
            w.log_text(), 10, "the reload refused")
        time.sleep(0.3)
        assert w.alive()
    finally:
        status = w.stop()
    assert status == 0, deploykit.log_tail(w.log)
