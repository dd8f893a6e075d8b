"""Runs last (file order): after every client above, the service's
processes must still run and none may have logged a sanitizer report or a
crash (under `make sanitize` the programs are built with ASan and UBSan)."""

import re

import stack as stackmod

SANITIZER = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|"
                       r"runtime error:|SUMMARY: \w+Sanitizer")
CRASH = re.compile(r"(signal|killed by|died|terminated by) .*"
                   r"(SEGV|SIGSEGV|SIGABRT|SIGBUS|SIGILL|SIGFPE|signal 6|"
                   r"signal 11)", re.I)


def scan(stack, names=("acme-fcgi", "acme-worker", "acmectl")):
    """Return the suspicious lines of the service's logs."""
    found = []
    for name in names:
        try:
            with open(stack.log(name), errors="replace") as f:
                for line in f:
                    if SANITIZER.search(line) or CRASH.search(line):
                        found.append("%s: %s" % (name, line.rstrip()))
        except OSError:
            pass
    return found


def test_processes_still_running(stack):
    dead = [name for name in stackmod.PROCS
            if not stack.procs[name].alive()]
    assert not dead, "died during the tests: %s\n%s" % (dead, "\n".join(
        "--- %s:\n%s" % (n, stackmod.tail(stack.log(n))) for n in dead))


def test_no_sanitizer_report_or_crash(stack):
    found = scan(stack)
    assert not found, "\n".join(found[:50])
