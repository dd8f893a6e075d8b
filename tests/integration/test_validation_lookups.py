"""The DNS lookups of a validation are in flight together.

A validation looks up the name's A and AAAA records (http-01) and the CAA
records at the name and at each parent down to the TLD (RFC 8659). The
worker sends the CAA lookups of every level at once, while the challenge
is validated, and the A and AAAA lookups together: on a real resolver a
validation takes one round trip to the slowest name server, not one per
lookup.

Seen from a name server in front of BIND that holds every query until
all those expected are in (or HOLD seconds have passed), then forwards
them: the most it held at once is the number of lookups in flight
together. One lookup after the other, it would hold one at a time.
"""

import os
import select
import signal
import socket
import threading
import time

import deploykit
from deploykit import Worker
from deploykit import no_sanitizer_reports  # noqa: F401
from test_caa import account, assert_ready, new_order, validate_http01

HOLD = 2.0


def qname(msg):
    """The (name, type) of a DNS query message."""
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = int.from_bytes(msg[i + 1:i + 3], "big") if i + 3 <= len(msg) \
        else 0
    return ".".join(labels).lower(), qtype


class HoldingDNS:
    """A UDP name server in front of BIND: holds the queries until gate of
    them are in, or HOLD seconds after the first, then forwards them and
    relays the answers."""

    def __init__(self, upstream, gate):
        self.upstream = upstream
        self.gate = gate
        self.most = 0
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def forward(self, held):
        for data, addr in held:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(5)
            try:
                u.sendto(data, ("127.0.0.1", self.upstream))
                self.sock.sendto(u.recv(65535), addr)
            except OSError:
                pass
            finally:
                u.close()

    def run(self):
        held, first = [], None
        while not self.stopping:
            wait = 0.2 if first is None else \
                max(0.0, first + HOLD - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], wait)
            if ready:
                data, addr = self.sock.recvfrom(4096)
                held.append((data, addr))
                self.queries.append(qname(data))
                self.most = max(self.most, len(held))
                if first is None:
                    first = time.monotonic()
            if held and (len(held) >= self.gate or
                         time.monotonic() >= first + HOLD):
                self.forward(held)
                held, first = [], None

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def test_lookups_of_a_validation_in_flight_together(stack, mint_eab, uniq):
    c = account(stack, mint_eab)
    name = uniq("lookups")
    levels = name.count(".") + 1
    order_url, authz_url = new_order(c, name)
    # A, AAAA, and CAA at each level
    dns = HoldingDNS(stack.dns_port, 2 + levels)
    d = deploykit.workdir(stack, "lookups")
    conf = deploykit.derive_conf(stack, os.path.join(d, "worker.conf"),
                                 dns_servers="127.0.0.1:%d" % dns.port,
                                 poll_interval=3600)
    # the stack's worker stopped, so that this one validates
    main = stack.procs["acme-worker"].pid
    os.kill(main, signal.SIGSTOP)
    w = None
    try:
        w = Worker(stack, "lookups", conf)
        authz = validate_http01(stack, c, authz_url)
    finally:
        os.kill(main, signal.SIGCONT)
        if w is not None:
            w.stop()
        dns.close()
    assert_ready(c, order_url, authz)
    want = {(name, 1), (name, 28)}
    labels = name.split(".")
    want |= {(".".join(labels[i:]), 257) for i in range(levels)}
    assert set(dns.queries) == want, dns.queries
    assert dns.most == 2 + levels, \
        "at most %d of the %d lookups in flight together: %s" % (
            dns.most, 2 + levels, dns.queries)
