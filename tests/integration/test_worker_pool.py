"""acme-worker with worker_processes above 1: one master, one LISTEN session.

Every NOTIFY acme_work reaches every listening session, and each worker it
wakes claims: N workers listening make N claims of a job, all but one
empty. With worker_processes = N, acme-worker is a master that holds the
one LISTEN session and hands each notification to one idle process of its
pool (worker/pool.c); each process has a session of its own that does
not listen, and still runs every kind at each poll_interval by itself.

Seen through the processes' debug logs (one "sql:" line per statement),
their pids (/proc) and the database.
"""

import os
import re
import signal
import time

import deploykit
from deploykit import Worker, children_of, wait_until
from deploykit import no_sanitizer_reports  # noqa: F401
from test_revocation_status import issue
from test_worker_wakeups import (CLAIMS, claims_in, log_since, log_size,
                                 notify, settle)


def start_pool(stack, name, processes, poll_interval=3600, **conf):
    d = deploykit.workdir(stack, name)
    path = deploykit.derive_conf(stack, os.path.join(d, "worker.conf"),
                                 poll_interval=poll_interval,
                                 log_level="debug",
                                 worker_processes=processes, **conf)
    w = Worker(stack, name, path)
    wait_until(lambda: len(children_of(w.pid)) == processes, 20,
               lambda: "%d processes in the pool of %s:\n%s" % (
                   len(children_of(w.pid)), name,
                   deploykit.log_tail(w.log)))
    return w


def notified(stack, w, kind, times):
    """Sends times notifications of kind, one at a time; returns the
    claims the pool's log shows for them, and that log."""
    offset = log_size(w)
    for _ in range(times):
        notify(stack, [kind])
        time.sleep(0.3)
    settle(w, 0.7)
    text = log_since(w, offset)
    return claims_in(text), text


def claimers(text, kind):
    """The pids whose log lines show a claim of kind."""
    return set(int(m) for m in re.findall(
        r"acme-worker\[(\d+)\][^\n]*" + re.escape(CLAIMS[kind]), text))


def test_a_notification_wakes_one_process(stack):
    # three processes, polling once an hour: after their first rounds,
    # each notification makes one claim, by one process, where three
    # workers listening would make three
    w = start_pool(stack, "pool-one", 3)
    try:
        settle(w)
        first = log_since(w, 0)
        assert len(claimers(first, "order")) == 3, \
            "each process starts with a round of every kind:\n" + first[-3000:]
        got, text = notified(stack, w, "order", 6)
        assert got == {"order": 6}, \
            "6 order notifications made claims %s:\n%s" % (got, text[-3000:])
        # each time by the first idle process: the same one, idle again
        # by the next notification
        by = claimers(text, "order")
        assert len(by) == 1 and by <= set(children_of(w.pid)), by
    finally:
        w.stop()


def test_notifications_wait_for_an_idle_process(stack):
    # both processes stopped, so that neither can report idle: the first
    # two notifications go to them, the next ones wait in the master, at
    # most one per process, and go to the first that reports idle
    w = start_pool(stack, "pool-pending", 2)
    procs = children_of(w.pid)
    try:
        settle(w)
        offset = log_size(w)
        for p in procs:
            os.kill(p, signal.SIGSTOP)
        try:
            for _ in range(5):
                notify(stack, ["order"])
            time.sleep(0.5)
        finally:
            for p in procs:
                os.kill(p, signal.SIGCONT)
        settle(w, 0.7)
        got = claims_in(log_since(w, offset))
        assert got == {"order": 4}, \
            "5 notifications, 2 busy processes: claims %s" % got
    finally:
        w.stop()


def test_only_the_master_listens(stack):
    w = start_pool(stack, "pool-listen", 3)
    try:
        settle(w)
        # the database's view: one session of this pool on acme_work
        # (the sessions whose backends list the channel are not visible
        # to another session; LISTEN is the master's last statement, and
        # the processes never run one)
        text = log_since(w, 0)
        listens = re.findall(r"acme-worker\[(\d+)\][^\n]*sql: LISTEN ",
                             text)
        assert len(listens) == 1 and int(listens[0]) == w.pid, \
            "LISTEN run by %s (master %d):\n%s" % (listens, w.pid,
                                                    text[-3000:])
    finally:
        w.stop()


def test_the_pool_issues(stack, mint_eab, workdir):
    # the pool is the only worker: a validation, an issuance and the
    # certificate's first OCSP response, all through its wake-ups
    stack.stop_worker()
    w = None
    try:
        w = start_pool(stack, "pool-issue", 2)
        settle(w, 0.5)
        name = "pool-%d.%s" % (os.getpid(), stack.zone)
        _, leaf, _ = issue(stack, mint_eab, [name], workdir)
        serial = "%x" % leaf.serial_number
        status = wait_until(lambda: stack.psql(
            "SELECT r.status FROM ocsp_response r JOIN certificate c ON "
            "c.serial = r.serial WHERE ltrim(lower(c.serial), '0') = "
            "'%s' AND r.status = 'good'" % serial.lstrip("0")).strip(),
            20, "the OCSP response of %s" % serial)
        assert status == "good"
        assert ": issued certificate " in log_since(w, 0)
    finally:
        if w is not None:
            w.stop()
        stack.restart_worker()


def test_a_process_that_dies_is_replaced(stack):
    w = start_pool(stack, "pool-reap", 3)
    try:
        settle(w)
        before = children_of(w.pid)
        victim = before[1]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(children_of(w.pid)) == 3 and
                   victim not in children_of(w.pid), 10,
                   lambda: "the pool after a kill: %s" % children_of(w.pid))
        settle(w)
        assert "process %d killed by signal 9" % victim in log_since(w, 0)
        # the pool still answers, one claim per notification
        got, _ = notified(stack, w, "challenge", 3)
        assert got == {"challenge": 3}, got
    finally:
        w.stop()


def test_the_processes_stop_with_their_master(stack):
    w = start_pool(stack, "pool-orphans", 2)
    procs = children_of(w.pid)
    try:
        os.kill(w.pid, signal.SIGKILL)
        w.wait(5)

        # told by SIGTERM (PR_SET_PDEATHSIG), and their socket closed
        wait_until(lambda: not any(_alive(p) for p in procs), 10,
                   "processes %s still running" % procs)
        assert log_since(w, 0).count("worker stopping") == 2
    finally:
        w.kill()


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_sigterm_stops_the_pool(stack):
    w = start_pool(stack, "pool-term", 3)
    procs = children_of(w.pid)
    settle(w)
    assert w.stop() == 0
    assert not any(_alive(p) for p in procs)
    text = log_since(w, 0)
    assert text.count("worker stopping") == 3 and "] info: stopped" in text, \
        text[-3000:]


def test_sighup_resizes_the_pool(stack):
    w = start_pool(stack, "pool-hup", 3)
    try:
        settle(w)
        for n in (1, 4):
            deploykit.derive_conf(stack, w.conf, poll_interval=3600,
                                  log_level="debug", worker_processes=n)
            w.signal(signal.SIGHUP)
            wait_until(lambda: len(children_of(w.pid)) == n, 10,
                       lambda: "%d processes after a reload to %d" % (
                           len(children_of(w.pid)), n))
        settle(w)
        assert notified(stack, w, "order", 1)[0] == {"order": 1}
        assert "reload: 4 worker processes (were 1)" in log_since(w, 0)
    finally:
        w.stop()


def test_a_lost_listen_session_is_opened_again(stack):
    w = start_pool(stack, "pool-lost", 2)
    try:
        settle(w)
        # the master's session: the only one whose last statement is
        # the LISTEN (the stack's worker claims every second after its)
        killed = stack.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query = 'LISTEN acme_work'")
        assert killed.split() == ["t"], killed
        wait_until(lambda: "the LISTEN session is lost" in log_since(w, 0),
                   10, lambda: deploykit.log_tail(w.log))
        # reconnected: every kind is looked at once (work announced
        # meanwhile is lost), then each notification wakes one process
        wait_until(lambda: log_since(w, 0).count("sql: LISTEN ") == 2, 10,
                   lambda: deploykit.log_tail(w.log))
        settle(w)
        assert notified(stack, w, "order", 1)[0] == {"order": 1}
    finally:
        w.stop()
