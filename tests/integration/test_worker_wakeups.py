"""acme-worker wakes for the kind of work a notification names.

Every NOTIFY on acme_work carries the kind of work it announces
('challenge', 'order', 'ocsp', 'revocation', 'outbox'). A worker runs the
claims of the kinds it was told about (every notification libpq holds, not
only the first), every kind for a payload it does not know, and every kind
at each poll_interval whatever it was told, so that a lost notification
only delays work. The certificates a worker issues are not announced
(sql/014_worker_wakeups.sql): it signs their OCSP responses itself.

Seen from workers of the tests' own (deploykit.Worker, the stack's
configuration with another poll_interval), through their debug logs: one
"sql:" line per statement they run.
"""

import os
import re
import time

import deploykit
from deploykit import Worker, no_sanitizer_reports  # noqa: F401
from test_revocation_status import issue

# the first words of each kind's claim in the worker's debug log
CLAIMS = {
    "challenge": "sql: UPDATE challenge c SET lease_until",
    "order": "sql: SELECT * FROM order_claim(",
    "crl": "sql: SELECT crl_due()",
    "outbox": "sql: UPDATE outbox o SET lease_until",
}
EVERY = set(CLAIMS)


def start_worker(stack, name, poll_interval):
    d = deploykit.workdir(stack, name)
    conf = deploykit.derive_conf(stack, os.path.join(d, "worker.conf"),
                                 poll_interval=poll_interval,
                                 log_level="debug")
    return Worker(stack, name, conf)


def log_size(w):
    return os.path.getsize(w.log)


def log_since(w, offset):
    with open(w.log, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def claims_in(text):
    """The kinds whose claim the text shows, and how many times each."""
    return {k: text.count(v) for k, v in CLAIMS.items() if v in text}


def settle(w, quiet=1.0, timeout=60):
    """Waits until w's log has not grown for quiet seconds (the worker
    waits for work); returns the log's size."""
    deadline = time.monotonic() + timeout
    size, since = log_size(w), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        assert w.alive(), "acme-worker %s exited:\n%s" % (
            w.name, deploykit.log_tail(w.log))
        now = log_size(w)
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return size
    raise AssertionError("acme-worker %s never went quiet:\n%s" % (
        w.name, deploykit.log_tail(w.log)))


def notify(stack, payloads):
    """The payloads in one transaction (delivered together)."""
    stack.psql("SELECT " + ", ".join(
        "pg_notify('acme_work', '%s')" % p for p in payloads))


# payloads sent together -> the claims they must wake
CASES = [
    (["challenge"], {"challenge"}),
    (["order"], {"order"}),
    (["revocation"], {"crl"}),
    (["outbox"], {"outbox"}),
    (["ocsp"], set()),
    (["challenge", "order"], {"challenge", "order"}),
    (["order", "revocation", "outbox"], {"order", "crl", "outbox"}),
    ([""], EVERY),
    (["a-kind-of-a-later-schema"], EVERY),
]


def test_a_notification_wakes_the_claims_of_its_kind(stack):
    # poll_interval 3600: after its first round, only notifications
    # wake this worker
    w = start_worker(stack, "wakeup-worker", 3600)
    try:
        start = settle(w)
        first = claims_in(log_since(w, 0))
        assert set(first) == EVERY, "the first round ran %s" % first
        failures = []
        for payloads, want in CASES:
            offset = log_size(w)
            notify(stack, payloads)
            # the outbox claim is skipped while the e-mail delivery is
            # paused (a second after a failure to reach the SMTP server,
            # which no test runs here): tell again until it is seen
            deadline = time.monotonic() + 15
            while True:
                settle(w, 0.7)
                got = claims_in(log_since(w, offset))
                if want <= set(got) or time.monotonic() > deadline:
                    break
                notify(stack, payloads)
            if set(got) != want:
                failures.append("%s: got claims %s, want %s" % (
                    payloads, sorted(got), sorted(want)))
        assert not failures, "\n".join(failures)
        assert log_size(w) > start
    finally:
        w.stop()


def test_poll_interval_runs_every_kind_even_under_notifications(stack):
    # nothing is announced: every kind is looked at each poll_interval;
    # and a stream of 'challenge' notifications does not hold that back
    w = start_worker(stack, "poll-worker", 2)
    try:
        settle(w, 0.5)
        offset = log_size(w)
        time.sleep(6)
        quiet = claims_in(log_since(w, offset))
        assert quiet.get("order", 0) >= 2 and \
            quiet.get("crl", 0) >= 2, \
            "no round of every kind in 6 s of poll_interval 2: %s" % quiet
        offset = log_size(w)
        end = time.monotonic() + 6
        sent = 0
        while time.monotonic() < end:
            notify(stack, ["challenge"])
            sent += 1
            time.sleep(0.2)
        busy = claims_in(log_since(w, offset))
        assert busy.get("order", 0) >= 2, \
            "the notifications held the poll back: %s" % busy
        # most rounds were the challenge's alone
        assert busy.get("challenge", 0) >= busy.get("order", 0) + 5, busy
    finally:
        w.stop()


def test_the_issuing_worker_signs_its_ocsp_response(stack, mint_eab,
                                                    workdir):
    # the only worker polls once an hour: the certificate's OCSP
    # response, which no one is told about, is signed by the worker that
    # issued it, in the same run
    stack.stop_worker()
    w = None
    try:
        w = start_worker(stack, "ocsp-worker", 3600)
        settle(w, 0.5)
        offset = log_size(w)
        name = "wake-%d.%s" % (os.getpid(), stack.zone)
        _, leaf, _ = issue(stack, mint_eab, [name], workdir)
        serial = "%x" % leaf.serial_number
        deadline = time.monotonic() + 20
        while True:
            status = stack.psql(
                "SELECT coalesce(r.status, 'due') FROM ocsp_response r "
                "JOIN certificate c ON c.serial = r.serial WHERE "
                "ltrim(lower(c.serial), '0') = '%s'" % serial.lstrip("0"))
            if status.strip() == "good" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status.strip() == "good", \
            "OCSP response of %s: %r after 20 s" % (serial, status)
        text = log_since(w, offset)
        assert ": issued certificate " in text
        assert re.search(r"OCSP: signed [1-9][0-9]* response", text), \
            text[-3000:]
    finally:
        if w is not None:
            w.stop()
        stack.restart_worker()
