"""pytest fixtures of the integration suite (tests/integration).

One stack (tests/stack.py) per session, in a fresh temporary directory: the
build directory comes from $ACME_BUILD (tests/run.sh sets it) or REPO/build.
The stack stops at the end of the session whatever happened (and, through
atexit, even if pytest itself is interrupted). The state directory is removed
when every test passed and kept, with its logs, otherwise (or when
$ACME_KEEP_STATE is set).

When a test fails, the lines the service's processes logged during that test
are added to its report.
"""

import os
import shutil
import signal
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))

import stack as stackmod  # noqa: E402

SERVICE_LOGS = ("acme-fcgi", "acme-worker", "nginx-error", "named",
                "postgres", "acme-web")
_kept = []
_current = []


def pytest_configure(config):
    """SIGTERM or SIGHUP (a CI timeout, a closed terminal) interrupt the
    session like ^C does, so that the stack's teardown still runs."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


@pytest.fixture(scope="session")
def stack(request):
    """The running stack (a stack.Stack)."""
    build = os.environ.get("ACME_BUILD", os.path.join(REPO, "build"))
    state = tempfile.mkdtemp(prefix="acme-it-")
    os.chmod(state, 0o711)
    st = stackmod.Stack(build, state)
    try:
        st.start()
    except stackmod.StackError as e:
        _kept.append(state)
        pytest.fail("the stack did not start:\n%s" % e, pytrace=False)
    _current.append(st)
    try:
        yield st
    finally:
        _current.remove(st)
        st.stop()
        # reports printed at exit (LeakSanitizer) come only now
        import test_zz_health
        found = test_zz_health.scan(st)
        if st.web:
            found += test_zz_health.scan(st, ("acme-web",))
        failed = request.session.testsfailed or found
        if failed or os.environ.get("ACME_KEEP_STATE"):
            _kept.append(state)
        else:
            shutil.rmtree(state, ignore_errors=True)
    assert not found, "sanitizer reports after the stack stopped:\n" + \
        "\n".join(found[:50])


@pytest.fixture
def mint_eab(stack):
    """A function returning a fresh EAB credential (kid, hmac_key); each
    binds one account, so mint one per account."""
    return stack.mint_eab


@pytest.fixture
def workdir(stack, request):
    """A fresh directory for this test's client files, inside the state."""
    name = request.node.name.replace("/", "_").replace("[", "_")[:60]
    d = os.path.join(stack.state, "clients", name + "-" + uuid.uuid4().hex[:6])
    os.makedirs(d)
    return d


@pytest.fixture
def uniq(stack):
    """A function making a fresh DNS name under the test zone."""
    def make(label="t"):
        return "%s-%s.%s" % (label, uuid.uuid4().hex[:8], stack.zone)
    return make


def _log_sizes(st):
    sizes = {}
    for name in SERVICE_LOGS:
        try:
            sizes[name] = os.path.getsize(st.log(name))
        except OSError:
            sizes[name] = 0
    return sizes


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    st = _current[0] if _current else None
    item._acme_logs = _log_sizes(st) if st else None
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    sizes = getattr(item, "_acme_logs", None)
    if rep.when != "call" or not rep.failed or not sizes or not _current:
        return
    st = _current[0]
    for name, start in sizes.items():
        try:
            with open(st.log(name), "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        lines = text.splitlines()
        if len(lines) > 150:
            lines = ["[... %d lines ...]" % (len(lines) - 150)] + lines[-150:]
        if lines:
            rep.sections.append(("%s log during the test" % name,
                                 "\n".join(lines)))


def pytest_terminal_summary(terminalreporter):
    for state in _kept:
        terminalreporter.write_line(
            "stack state (logs in %s/logs) kept in %s" % (state, state))
