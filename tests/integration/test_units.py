"""`make install` and what it installs for operations: the systemd units
(admin/systemd/), checked with systemd-analyze (verify; security --offline
for the hardening), the service users (systemd-sysusers --dry-run), and the
unit's own command line run the way systemd runs it: the socket of
acme-fcgi.socket on fd 0 (StandardInput=socket)."""

import os
import re
import shlex
import signal
import socket
import subprocess

import pytest

import deploykit
import fcgiclient
from deploykit import REPO, no_sanitizer_reports  # noqa: F401

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
SYSUSERS = "/usr/bin/systemd-sysusers"
UNITS = ("acme-fcgi.socket", "acme-fcgi.service", "acme-worker.service")


@pytest.fixture(scope="module")
def installed(stack):
    """make install into a prefix of the state directory (the programs of
    ACME_BUILD as they are: -o keeps make from rebuilding them)."""
    root = deploykit.workdir(stack, "install")
    prefix = os.path.join(root, "usr")
    progs = [os.path.join(stack.build, p)
             for p in ("acme-fcgi", "acme-worker", "acmectl")]
    argv = ["make", "-C", REPO, "install", "BUILD=" + stack.build,
            "PREFIX=" + prefix, "SYSCONFDIR=" + os.path.join(root, "etc")]
    for p in progs:
        argv += ["-o", p]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "make install:\n%s%s" % (r.stdout, r.stderr)
    return root, prefix


def unit_dir(prefix):
    return os.path.join(prefix, "lib", "systemd", "system")


def test_install_layout(installed):
    root, prefix = installed
    for rel in ("sbin/acme-fcgi", "sbin/acme-worker", "sbin/acmectl",
                "share/acme/acme.conf.sample",
                "share/acme/acme-locations.conf", "share/acme/acme-site.conf",
                "share/acme/apache/acme-locations.conf",
                "share/acme/apache/acme-site.conf",
                "lib/sysusers.d/acme.conf"):
        assert os.path.isfile(os.path.join(prefix, rel)), rel
    for u in UNITS:
        with open(os.path.join(unit_dir(prefix), u)) as f:
            text = f.read()
        assert "/usr/local/sbin" not in text and "/etc/acme/" not in text, \
            "%s: paths not substituted" % u
    with open(os.path.join(unit_dir(prefix), "acme-fcgi.service")) as f:
        assert "ExecStart=%s/sbin/acme-fcgi -c %s/etc/acme.conf" % (
            prefix, root) in f.read()


def test_units_verify(installed):
    """systemd-analyze verify: no error and no warning (an unknown key or a
    bad value is only a warning to it)."""
    assert os.access(SYSTEMD_ANALYZE, os.X_OK), \
        "systemd-analyze missing: run .ci/deps.sh"
    _, prefix = installed
    d = unit_dir(prefix)
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no"] +
                       [os.path.join(d, u) for u in UNITS],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip() and \
        not r.stderr.strip(), "systemd-analyze verify:\n%s%s" % (r.stdout,
                                                                 r.stderr)


def directives(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def test_units_hardening(installed):
    _, prefix = installed
    d = unit_dir(prefix)
    for u in ("acme-fcgi.service", "acme-worker.service"):
        dd = directives(os.path.join(d, u))
        for k, v in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                     ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""),
                     ("ExecReload", "/bin/kill -HUP $MAINPID")):
            assert dd.get(k) == [v], "%s: %s=%s, want %s" % (u, k, dd.get(k),
                                                            v)
        assert dd["User"][0] in ("acme-fcgi", "acme-worker")
        assert "Restart" in dd
    fcgi = directives(os.path.join(d, "acme-fcgi.service"))
    worker = directives(os.path.join(d, "acme-worker.service"))
    assert fcgi["User"] != worker["User"]
    # the CA key: the worker's state directory, its user's alone; hidden
    # from acme-fcgi altogether
    assert worker["StateDirectory"] == ["acme"]
    assert worker["StateDirectoryMode"] == ["0700"]
    assert fcgi["InaccessiblePaths"] == ["-/var/lib/acme"]
    assert fcgi["StandardInput"] == ["socket"]
    assert fcgi["KillMode"] == ["mixed"]
    r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes",
                        "--threshold=25", os.path.join(d, "acme-fcgi.service"),
                        os.path.join(d, "acme-worker.service")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "exposure above 2.5:\n%s" % r.stdout[-3000:]


def test_sysusers(installed, tmp_path):
    assert os.access(SYSUSERS, os.X_OK), "systemd-sysusers missing"
    _, prefix = installed
    r = subprocess.run([SYSUSERS, "--dry-run", "--root=%s" % tmp_path,
                        os.path.join(prefix, "lib", "sysusers.d",
                                     "acme.conf")],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    for what in ("Creating group 'acme'", "Creating user 'acme-fcgi'",
                 "Creating user 'acme-worker'"):
        assert what in out, out


def test_exec_start_with_the_socket_on_fd0(stack, installed):
    """The unit's ExecStart, run as systemd runs it with acme-fcgi.socket:
    the listening socket on fd 0, "-s ''" overriding the file's listen. The
    master serves it with its children and stops gracefully, leaving the
    socket (systemd's) in place."""
    _, prefix = installed
    dd = directives(os.path.join(unit_dir(prefix), "acme-fcgi.service"))
    argv = shlex.split(dd["ExecStart"][0])
    d = deploykit.workdir(stack, "units-fd0")
    conf = deploykit.derive_conf(stack, os.path.join(d, "acme.conf"),
                                 listen="/nonexistent/not-this-one.sock",
                                 children=2)
    argv[argv.index("-c") + 1] = conf
    assert argv[-2:] == ["-s", ""], argv
    path = os.path.join(d, "fcgi.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(128)
    log = stack.log("units-fd0")
    with open(log, "ab") as logf:
        p = subprocess.Popen(argv, stdin=ls.fileno(), stdout=logf,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
    ls.close()
    try:
        r = deploykit.wait_until(
            lambda: fcgiclient.request("unix:" + path, "GET", "/health"), 20,
            "acme-fcgi on fd 0 answering")
        assert r.status == 200, r.body
        assert len(deploykit.children_of(p.pid)) == 2
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
        assert os.path.exists(path), "acme-fcgi removed a socket not its own"
        with open(log) as f:
            text = f.read()
        assert re.search(r"listening on fd 0 with 2 children", text), text
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
