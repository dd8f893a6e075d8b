#!/usr/bin/python3
"""Start and stop the whole ACME service on loopback, in one state directory.

The stack is a throwaway PostgreSQL cluster (initdb), BIND serving a test zone
with a wildcard A record to 127.0.0.1 and TSIG-signed dynamic updates, acme-fcgi
behind nginx with TLS (a test CA made here with openssl), and acme-worker. Every
file it writes is under the state directory; every port is a free one found by
binding to port 0. Every process runs in its own session with its output in
STATE/logs/NAME.log and its pid in STATE/run/NAME.pid.

Used two ways:

  - by the integration tests (tests/conftest.py): Stack(build, state).start(),
    then stop() at the end of the session;
  - by hand, for a demo (`make run` / `make stop`):
        /usr/bin/python3 tests/stack.py start --build build --state .state
        /usr/bin/python3 tests/stack.py stop --state .state
    `start` leaves the processes running, prints the directory URL, the CA
    bundle to trust, a fresh EAB credential and certbot command lines, and
    writes the same as shell variables to STATE/env. Running it again while the
    stack runs only prints the information again (with a new EAB credential).

When the build holds acme-web (the CA's web site), the stack runs it too,
behind two more server blocks of the same nginx, configured from
nginx/acme-web-locations.conf: the portal (stack.web_url) and the office
(stack.office_url), which requires a TLS client certificate issued by the
operators' CA made here (stack.operator_ca; one operator's certificate and
key in stack.operator_cert, stack.operator_key, stack.operator_p12).

Run it with /usr/bin/python3 (Debian's python3-acme and friends live there).
"""

import argparse
import atexit
import glob
import hashlib
import json
import os
import pwd
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOKS = os.path.join(REPO, "tests", "hooks")
LOCATIONS = os.path.join(REPO, "nginx", "acme-locations.conf")
WEB_LOCATIONS = os.path.join(REPO, "nginx", "acme-web-locations.conf")
DEFAULT_ZONE = "demo.test"
TSIG_NAME = "acme-update"
CAA_IDENTITIES = "certigna.com,acme.test"

# --- CAA test records (tests/integration/test_caa.py): begin ---
# Fixed names of the test zone with CAA records (RFC 8659, RFC 8657),
# relative to the zone. A name owning any record is no longer covered by
# the zone's wildcard A record: each of them also gets A 127.0.0.1.
CAA_RECORDS = (
    ("caa-allow", 'CAA 0 issue "certigna.com"'),
    ("caa-deny", 'CAA 0 issue "other.example"'),
    # sub.caa-parent has no CAA record: the climb finds its parent's
    ("caa-parent", 'CAA 0 issue "other.example"'),
    ("sub.caa-parent", None),
    ("caa-acct", 'CAA 0 issue "certigna.com; '
     'accounturi=https://example.invalid/acme/acct/1"'),
    ("caa-meth", 'CAA 0 issue "certigna.com; validationmethods=dns-01"'),
    ("caa-wild", 'CAA 0 issuewild "other.example"'),
    ("caa-wild", 'CAA 0 issue "certigna.com"'),
    ("caa-crit", 'CAA 128 tbs "x"'),
    ("caa-crit", 'CAA 0 issue "certigna.com"'),
    ("caa-iodef", 'CAA 0 iodef "mailto:security@example.invalid"'),
)
# A zone BIND fails to load (it answers SERVFAIL for it), and a good zone
# below it: names there resolve, but the CAA climb meets the SERVFAIL.
CAA_SERVFAIL = "caa-servfail"
CAA_SERVFAIL_OK = "ok." + CAA_SERVFAIL
# --- CAA test records: end ---

# Order in which the processes start; they stop in the reverse order.
PROCS = ("postgres", "named", "acme-fcgi", "nginx", "acme-worker")
# --- the web site (acme-web): begin ---
# acme-web runs when the build holds it; it starts before nginx (after
# acme-fcgi) and stops after it. Not in PROCS, which lists the processes
# every stack runs.
WEB_PROCS = ("acme-web",)
ALL_PROCS = ("postgres", "named", "acme-fcgi", "acme-web", "nginx",
             "acme-worker")
# The password of the operator's PKCS#12 file (tests only).
OPERATOR_P12_PASSWORD = "operator"
# --- the web site: end ---


class StackError(Exception):
    """A part of the stack did not start; the message says which and why."""


def tail(path, n=40):
    """Return the last n lines of a file as one string ("" if none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def free_port(udp=False):
    """Return a loopback TCP port that is free now (and UDP too if udp)."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if not udp:
                return port
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
            finally:
                u.close()
        finally:
            t.close()
    raise StackError("no free port found")


def port_free(port, udp=False):
    """Return True if the loopback port can be bound now (by a server that
    sets SO_REUSEADDR, as they all do: connections in TIME_WAIT left by the
    previous run do not count)."""
    kinds = [socket.SOCK_STREAM] + ([socket.SOCK_DGRAM] if udp else [])
    for kind in kinds:
        s = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def proc_start_time(pid):
    """Return the kernel start time of pid (field 22 of stat), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its ')'
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return fields[19]


def pg_bindir():
    """Return the bin directory of the newest installed PostgreSQL."""
    dirs = glob.glob("/usr/lib/postgresql/*/bin")
    dirs = [d for d in dirs if os.path.exists(os.path.join(d, "initdb"))]
    if not dirs:
        raise StackError("PostgreSQL server binaries not found in "
                         "/usr/lib/postgresql/*/bin (run .ci/deps.sh)")
    return max(dirs, key=lambda d: int(d.split("/")[-2].split(".")[0]))


def need_tool(name):
    """Return the path of a program, or raise: a missing tool is a failure."""
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise StackError("%s not found (run .ci/deps.sh)" % name)


def caa_zone_lines():
    """Zone file lines of CAA_RECORDS, with one A record per name."""
    lines = []
    for name, rr in CAA_RECORDS:
        if rr is not None:
            lines.append("%s\tIN %s" % (name, rr))
        a = "%s\tIN A 127.0.0.1" % name
        if a not in lines:
            lines.append(a)
    return lines


class Proc:
    """One process of the stack: its pid, start time, log and Popen if ours."""

    def __init__(self, name, pid, start, log, popen=None):
        self.name = name
        self.pid = pid
        self.start = start
        self.log = log
        self.popen = popen

    def alive(self):
        if self.popen is not None:
            return self.popen.poll() is None
        return proc_start_time(self.pid) == self.start


class Stack:
    """The whole service on loopback in one state directory.

    build: directory holding acme-fcgi, acme-worker and acmectl.
    state: directory for every file the stack writes (created if needed).
    keep_ports: reuse the ports recorded in STATE/ports.json (the demo).
    ca_key_type: acmectl ca init --key-type (None: not passed, rsa3072).
    """

    # web_signup_max_per_hour: sign-ups per client address in an hour
    SIGNUP_MAX = 1000

    def __init__(self, build, state, zone=DEFAULT_ZONE, keep_ports=False,
                 children=2, log_level="debug", stop_at_exit=True,
                 ca_key_type=None):
        self.build = os.path.abspath(build)
        self.state = os.path.abspath(state)
        self.zone = zone
        self.keep_ports = keep_ports
        self.children = children
        self.log_level = log_level
        self.stop_at_exit = stop_at_exit
        self.ca_key_type = ca_key_type
        self.procs = {}
        self.ports = {}
        s = self.state
        self.conf = os.path.join(s, "acme.conf")
        self.logdir = os.path.join(s, "logs")
        self.rundir = os.path.join(s, "run")
        self.pgdir = os.path.join(s, "pg")
        self.pgdata = os.path.join(self.pgdir, "data")
        self.pgsock = os.path.join(self.pgdir, "sock")
        self.named_dir = os.path.join(s, "named")
        self.tsig_key = os.path.join(self.named_dir, "update.key")
        self.nginx_dir = os.path.join(s, "nginx")
        self.tls_dir = os.path.join(s, "tls")
        self.tls_ca = os.path.join(self.tls_dir, "ca.pem")
        self.ca_dir = os.path.join(s, "ca")
        self.root_pem = os.path.join(self.ca_dir, "root.pem")
        self.pgbin = None
        # --- the web site (acme-web): begin ---
        self.web = os.access(os.path.join(self.build, "acme-web"), os.X_OK)
        self.operator_ca = os.path.join(self.tls_dir, "operators-ca.pem")
        self.operator_ca_key = os.path.join(self.tls_dir, "operators-ca.key")
        self.operator_cert = os.path.join(self.tls_dir, "operator.pem")
        self.operator_key = os.path.join(self.tls_dir, "operator.key")
        self.operator_p12 = os.path.join(self.tls_dir, "operator.p12")
        self.operator_p12_password = OPERATOR_P12_PASSWORD
        # --- the web site: end ---

    # ---------------------------------------------------------------- names

    @property
    def base_url(self):
        return "https://127.0.0.1:%d" % self.ports["https"]

    @property
    def directory_url(self):
        return self.base_url + "/directory"

    @property
    def http01_port(self):
        return self.ports["http01"]

    # --- validation safety (test_hostile.py): begin ---
    @property
    def http01_https_port(self):
        """The port, besides 443, an https redirect of http-01 may name."""
        if "http01_https" not in self.ports:
            while True:
                port = free_port()
                if port not in self.ports.values():
                    break
            self.ports["http01_https"] = port
        return self.ports["http01_https"]
    # --- validation safety: end ---

    @property
    def dns_port(self):
        return self.ports["dns"]

    # --- the web site (acme-web): begin ---
    @property
    def web_url(self):
        """The portal (the customers' site), without trailing slash."""
        return "https://127.0.0.1:%d" % self.ports["web_https"]

    @property
    def office_url(self):
        """The operators' back office (client certificate required)."""
        return "https://127.0.0.1:%d" % self.ports["office_https"]

    def procs_names(self):
        """The processes this stack runs, in start order."""
        return tuple(n for n in ALL_PROCS
                     if n in PROCS or (self.web and n in WEB_PROCS))
    # --- the web site: end ---

    @property
    def database(self):
        return "host=%s port=%d dbname=acme user=postgres" % (
            self.pgsock, self.ports["postgres"])

    def log(self, name):
        return os.path.join(self.logdir, name + ".log")

    def dns_env(self):
        """Environment variables the dns-01 hooks (tests/hooks) read."""
        return {
            "ACME_DNS_SERVER": "127.0.0.1",
            "ACME_DNS_PORT": str(self.dns_port),
            "ACME_DNS_ZONE": self.zone,
            "ACME_DNS_KEY": self.tsig_key,
        }

    def tsig_secret(self):
        """Return (name, algorithm, base64 secret) of the update key."""
        with open(self.tsig_key) as f:
            text = f.read()
        secret = text.split('secret "', 1)[1].split('"', 1)[0]
        return TSIG_NAME, "hmac-sha256", secret

    # ------------------------------------------------------------- helpers

    def run(self, argv, what, env=None, user=None, timeout=120, log=None):
        """Run a command to completion; return stdout; raise with output."""
        if user is not None:
            argv = self.as_user(user) + list(argv)
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               capture_output=True, env=env, cwd=self.state,
                               timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StackError("%s: %s" % (what, e))
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        if log is not None:
            with open(self.log(log), "a") as f:
                f.write("$ %s\n%s%s" % (" ".join(map(shlex.quote, argv)),
                                        out, err))
        if r.returncode != 0:
            raise StackError("%s failed (exit %d): %s\n%s%s" % (
                what, r.returncode, " ".join(map(shlex.quote, argv)),
                out[-4000:], err[-4000:]))
        return out

    def as_user(self, user):
        """Command prefix running as user when we are root (else nothing).

        initdb and postgres refuse to run as root: CI runs as root, so they
        run as the postgres system user through setpriv (which execs, so the
        pid we record is the server's own).
        """
        if os.geteuid() != 0:
            return []
        return [need_tool("setpriv"), "--reuid=" + user, "--regid=" + user,
                "--init-groups", "--reset-env", "--"]

    def acmectl(self, *args, timeout=60):
        """Run build/acmectl -c CONF ARGS; return its stdout."""
        return self.run([os.path.join(self.build, "acmectl"), "-c", self.conf]
                        + list(args), "acmectl " + " ".join(args),
                        timeout=timeout, log="acmectl")

    def mint_eab(self, profile=None):
        """Return a fresh (kid, hmac_key) from acmectl eab create: an ACME
        account of the demo organization whose domain list holds the
        stack's zone (so its names pass the domain-list policy), with the
        given profile (OV by default; OV_WILDCARD for wildcard names)."""
        args = ["eab", "create", "--domain", self.zone, "--json"]
        if profile is not None:
            args += ["--profile", profile]
        out = self.acmectl(*args)
        try:
            d = json.loads(out)
            return d["kid"], d["hmac_key"]
        except (ValueError, KeyError, TypeError):
            pass
        vals = {}
        for line in out.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                vals[k.strip()] = v.strip()
        if "kid" not in vals or "hmac_key" not in vals:
            raise StackError("acmectl eab create: unexpected output: %r" % out)
        return vals["kid"], vals["hmac_key"]

    def spawn(self, name, argv, env=None, user=None):
        """Start a long-running process in its own session, logging to
        STATE/logs/NAME.log; record its pid in STATE/run/NAME.pid."""
        if user is not None:
            argv = self.as_user(user) + list(argv)
        logf = open(self.log(name), "ab")
        logf.write(("---- %s starting: %s\n" % (
            time.strftime("%Y-%m-%d %H:%M:%S"),
            " ".join(map(shlex.quote, argv)))).encode())
        logf.flush()
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, cwd=self.state,
                                 env=env, start_new_session=True)
        except OSError as e:
            raise StackError("cannot start %s: %s" % (name, e))
        finally:
            logf.close()
        start = proc_start_time(p.pid)
        with open(os.path.join(self.rundir, name + ".pid"), "w") as f:
            f.write("%d %s\n" % (p.pid, start))
        self.procs[name] = Proc(name, p.pid, start, self.log(name), p)
        return self.procs[name]

    def fail(self, name, why, extra=()):
        """Raise a StackError naming the process and the tail of its log."""
        msg = ["%s: %s" % (name, why), "--- last lines of %s:" % self.log(name),
               tail(self.log(name))]
        for path in extra:
            msg += ["--- last lines of %s:" % path, tail(path)]
        raise StackError("\n".join(msg))

    def wait_for(self, name, check, timeout, what, extra=()):
        """Poll check() until true; fail if the process dies or on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                if check():
                    return
            except Exception as e:  # noqa: BLE001 - reported below
                last = e
            proc = self.procs.get(name)
            if proc is not None and not proc.alive():
                code = proc.popen.poll() if proc.popen else "?"
                self.fail(name, "exited (status %s) before %s" % (code, what),
                          extra)
            if time.monotonic() > deadline:
                self.fail(name, "not ready after %ds (%s)%s" % (
                    timeout, what, ": %s" % last if last else ""), extra)
            time.sleep(0.2)

    @staticmethod
    def tcp_open(port):
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    # ----------------------------------------------------------- pidfiles

    def recorded(self):
        """Return {name: Proc} of the processes recorded in STATE/run that
        are still the ones we started (pid and start time agree)."""
        found = {}
        for name in ALL_PROCS:
            path = os.path.join(self.rundir, name + ".pid")
            try:
                with open(path) as f:
                    pid_s, start = f.read().split()
                pid = int(pid_s)
            except (OSError, ValueError):
                continue
            if proc_start_time(pid) == start:
                found[name] = Proc(name, pid, start, self.log(name))
        return found

    def running(self):
        """Return True if every process of a previous start still runs."""
        found = self.recorded()
        return all(n in found for n in self.procs_names())

    # -------------------------------------------------------------- ports

    def choose_ports(self):
        path = os.path.join(self.state, "ports.json")
        if self.keep_ports and os.path.exists(path):
            with open(path) as f:
                self.ports = json.load(f)
            for name, port in self.ports.items():
                if name == "http01":
                    continue
                if not port_free(port, udp=(name == "dns")):
                    raise StackError(
                        "port %d (%s) recorded in %s is in use by another "
                        "program; stop it or remove %s" % (
                            port, name, path, path))
            # ports of the web site, for a state made before it existed
            changed = False
            for name in ("web_fcgi", "web_https", "office_https"):
                if name not in self.ports:
                    while True:
                        port = free_port()
                        if port not in self.ports.values():
                            break
                    self.ports[name] = port
                    changed = True
            if changed:
                with open(path, "w") as f:
                    json.dump(self.ports, f, indent=1)
            return
        self.ports = {}
        taken = set()
        for name in ("postgres", "dns", "fcgi", "https", "http01",
                     "web_fcgi", "web_https", "office_https"):
            while True:
                port = free_port(udp=(name == "dns"))
                if port not in taken:
                    break
            taken.add(port)
            self.ports[name] = port
        with open(path, "w") as f:
            json.dump(self.ports, f, indent=1)

    # --------------------------------------------------------------- parts

    def write_conf(self):
        p = self.ports
        base = self.base_url
        lines = [
            "# written by tests/stack.py for the stack in %s" % self.state,
            "database = %s" % self.database,
            "base_url = %s" % base,
            "listen = 127.0.0.1:%d" % p["fcgi"],
            "children = %d" % self.children,
            "log_level = %s" % self.log_level,
            "terms_of_service = %s/terms" % base,
            "website = https://www.certigna.com",
            "caa_identities = %s" % CAA_IDENTITIES,
            "ca_dir = %s" % self.ca_dir,
            "cert_validity_days = 199",
            "dns_servers = 127.0.0.1:%d" % p["dns"],
            "http01_port = %d" % p["http01"],
            "validation_timeout = 5",
            # --- validation safety (test_hostile.py): begin ---
            # the stack's names all resolve to loopback, a special-purpose
            # range that production never allows
            "validation_allow = 127.0.0.0/8,::1",
            "http01_https_port = %d" % self.http01_https_port,
            # --- validation safety: end ---
            "poll_interval = 1",
            "lease_seconds = 30",
            "retry_after = 1",
            "nonce_lifetime = 3600",
            "order_lifetime = 3600",
            "orders_page_size = 3",
            # housekeeping (expiring documents...) only when a worker
            # starts: tests that need it restart the worker
            "housekeeping_interval = 3600",
            "documents_url = https://ca.test/documents",
            "ca_issuers_url = http://127.0.0.1:%d/ca/intermediate.der"
            % p["https"],
            # --- revocation status (test_revocation_status.py): begin ---
            # served by acme-fcgi through nginx (the stack has TLS only)
            "ocsp_url = %s/acme/ocsp" % base,
            "crl_url = %s/acme/crl" % base,
            # --- revocation status: end ---
        ]
        # --- e-mail notifications (test_notifications.py): begin ---
        # The workers deliver to an SMTP sink on this port, which the
        # tests start (python3-aiosmtpd) when they want mail; meanwhile
        # messages wait. notify_hour = -1: no digests unless a test asks
        # (acmectl notify run-daily); short retries.
        p.setdefault("smtp", free_port())
        lines += [
            "smtp_host = 127.0.0.1",
            "smtp_port = %d" % p["smtp"],
            "smtp_starttls = no",
            "smtp_from = ACME test CA <acme@ca.test>",
            "smtp_timeout = 5",
            "templates_dir = %s" % os.path.join(REPO, "worker",
                                                "templates"),
            "notify_hour = -1",
            "notify_retry_min = 1",
            "notify_retry_max = 2",
            "notify_max_attempts = 1000",
        ]
        # --- e-mail notifications: end ---
        # --- the web site (acme-web): begin ---
        # scrypt at its cheapest (N = 2^10) so that sign-ups are fast
        if self.web:
            lines += [
                "web_listen = 127.0.0.1:%d" % p["web_fcgi"],
                "web_children = 2",
                "web_base_url = %s" % self.web_url,
                "web_scrypt_log_n = 10",
                # the suite signs up many customers from 127.0.0.1; the
                # limit's test fills the count of its own address first
                "web_signup_max_per_hour = %d" % self.SIGNUP_MAX,
            ]
        # --- the web site: end ---
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start_postgres(self):
        self.pgbin = pg_bindir()
        uid = gid = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise StackError("no postgres system user (install the "
                                 "postgresql package: .ci/deps.sh)")
            uid, gid = pw.pw_uid, pw.pw_gid
            self.check_traversable(pw)
        for d in (self.pgdir, self.pgsock):
            os.makedirs(d, mode=0o700, exist_ok=True)
            if uid is not None:
                os.chown(d, uid, gid)
        user = "postgres" if uid is not None else None
        if not os.path.exists(os.path.join(self.pgdata, "PG_VERSION")):
            self.run([os.path.join(self.pgbin, "initdb"), "-D", self.pgdata,
                      "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--no-sync"],
                     "initdb", user=user, log="initdb")
        self.spawn("postgres", [
            os.path.join(self.pgbin, "postgres"), "-D", self.pgdata,
            "-p", str(self.ports["postgres"]),
            "-c", "listen_addresses=",
            "-c", "unix_socket_directories=" + self.pgsock,
            "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=100",
            "-c", "log_min_messages=warning",
            "-c", "log_min_error_statement=error",
        ], user=user)
        isready = os.path.join(self.pgbin, "pg_isready")

        def ready():
            r = subprocess.run([isready, "-q", "-h", self.pgsock, "-p",
                                str(self.ports["postgres"]), "-U", "postgres",
                                "-d", "postgres"], stdin=subprocess.DEVNULL,
                               capture_output=True)
            return r.returncode == 0
        self.wait_for("postgres", ready, 60, "pg_isready")
        exists = self.run([os.path.join(self.pgbin, "psql"), "-h", self.pgsock,
                           "-p", str(self.ports["postgres"]), "-U", "postgres",
                           "-d", "postgres", "-Atc",
                           "SELECT 1 FROM pg_database WHERE datname = 'acme'"],
                          "psql")
        if exists.strip() != "1":
            self.run([os.path.join(self.pgbin, "createdb"), "-h", self.pgsock,
                      "-p", str(self.ports["postgres"]), "-U", "postgres",
                      "acme"], "createdb", log="initdb")

    def check_traversable(self, pw):
        """The postgres user must reach its directories under the state dir."""
        path = self.state
        while path != "/":
            st = os.stat(path)
            mode = st.st_mode
            ok = (mode & 0o001) or (st.st_uid == pw.pw_uid and mode & 0o100) \
                or (st.st_gid == pw.pw_gid and mode & 0o010)
            if not ok:
                if path == self.state:
                    os.chmod(path, mode | 0o011)
                else:
                    raise StackError(
                        "the postgres user cannot reach %s: %s is mode %o; "
                        "use a state directory elsewhere (e.g. under /tmp)"
                        % (self.state, path, mode & 0o7777))
            path = os.path.dirname(path)

    def psql(self, sql):
        """Run one SQL statement on the acme database; return its output."""
        return self.run([os.path.join(self.pgbin or pg_bindir(), "psql"),
                         "-h", self.pgsock, "-p", str(self.ports["postgres"]),
                         "-U", "postgres", "-d", "acme", "-v",
                         "ON_ERROR_STOP=1", "-Atc", sql], "psql")

    def start_named(self):
        d = self.named_dir
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(self.tsig_key):
            key = self.run([need_tool("tsig-keygen"), "-a", "hmac-sha256",
                            TSIG_NAME], "tsig-keygen")
            with open(self.tsig_key, "w") as f:
                f.write(key)
            os.chmod(self.tsig_key, 0o600)
        zones = [self.zone]
        parent = self.zone.split(".", 1)[1] if "." in self.zone else None
        if parent:
            # the CAA tree climb (RFC 8659) asks the parent too: make BIND
            # authoritative for it, so that it answers NODATA, not REFUSED
            zones.append(parent)
        # --- CAA test zones: begin ---
        broken = CAA_SERVFAIL + "." + self.zone
        good = CAA_SERVFAIL_OK + "." + self.zone
        zones += [broken, good]
        # --- CAA test zones: end ---
        conf = [
            'include "%s";' % self.tsig_key,
            "options {",
            '\tdirectory "%s";' % d,
            '\tpid-file "%s";' % os.path.join(self.rundir, "named.own.pid"),
            '\tsession-keyfile "%s";' % os.path.join(d, "session.key"),
            '\tmanaged-keys-directory "%s";' % d,
            "\tlisten-on port %d { 127.0.0.1; };" % self.dns_port,
            "\tlisten-on-v6 { none; };",
            "\trecursion no;",
            "\tdnssec-validation no;",
            "\tallow-transfer { none; };",
            "\tnotify no;",
            "};",
            "controls { };",
        ]
        for z in zones:
            zfile = os.path.join(d, z + ".zone")
            if z == broken:
                # --- CAA: no SOA, so named refuses to load it ---
                with open(zfile, "w") as f:
                    f.write("; broken on purpose (tests/stack.py)\n"
                            "@\tIN A 127.0.0.1\n")
            elif not os.path.exists(zfile):
                recs = [
                    "$TTL 10",
                    "@\tIN SOA ns.%s. hostmaster.%s. 1 60 60 600 10" % (z, z),
                    "@\tIN NS ns.%s." % z,
                    "ns\tIN A 127.0.0.1",
                ]
                if z == self.zone:
                    recs += ["@\tIN A 127.0.0.1", "*\tIN A 127.0.0.1"]
                    recs += caa_zone_lines()
                if z == good:
                    recs += ["@\tIN A 127.0.0.1"]
                with open(zfile, "w") as f:
                    f.write("\n".join(recs) + "\n")
            conf += [
                'zone "%s" {' % z,
                "\ttype primary;",
                '\tfile "%s";' % zfile,
                "\tallow-update { key %s; };" % TSIG_NAME,
                "};",
            ]
        nconf = os.path.join(d, "named.conf")
        with open(nconf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.run([need_tool("named-checkconf"), nconf], "named-checkconf")
        self.spawn("named", [need_tool("named"), "-c", nconf, "-g", "-4",
                             "-n", "2"])
        dig = need_tool("dig")

        def ready():
            r = subprocess.run([dig, "@127.0.0.1", "-p", str(self.dns_port),
                                "+short", "+time=1", "+tries=1",
                                "probe." + self.zone, "A"],
                               stdin=subprocess.DEVNULL, capture_output=True)
            return r.returncode == 0 and b"127.0.0.1" in r.stdout
        self.wait_for("named", ready, 30, "dig probe.%s" % self.zone)

    def make_tls(self):
        """A test CA and a server certificate for 127.0.0.1 and localhost."""
        d = self.tls_dir
        os.makedirs(d, exist_ok=True)
        if os.path.exists(os.path.join(d, "server.pem")):
            return
        openssl = need_tool("openssl")
        cakey = os.path.join(d, "ca.key")
        key = os.path.join(d, "server.key")
        csr = os.path.join(d, "server.csr")
        ext = os.path.join(d, "server.ext")
        self.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                  "-keyout", cakey, "-out", self.tls_ca, "-days", "3650",
                  "-subj", "/CN=ACME test TLS CA",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                 "openssl req (TLS CA)")
        self.run([openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
                 "openssl req (server)")
        with open(ext, "w") as f:
            f.write("basicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage = serverAuth\n"
                    "subjectAltName = IP:127.0.0.1,DNS:localhost\n")
        self.run([openssl, "x509", "-req", "-in", csr, "-CA", self.tls_ca,
                  "-CAkey", cakey, "-CAcreateserial", "-days", "825",
                  "-extfile", ext, "-out", os.path.join(d, "server.pem")],
                 "openssl x509 (server)")

    # --- the web site (acme-web): begin ---
    def make_operator_tls(self):
        """The operators' CA (a CA of its own, for the office's TLS client
        certificates only) and one operator's certificate and key, also as
        PKCS#12 (password stack.operator_p12_password)."""
        if os.path.exists(self.operator_p12):
            return
        self.make_ca(self.operator_ca, self.operator_ca_key,
                     "ACME test operators CA")
        self.make_client_cert("operator", "Operator One")

    def make_ca(self, cert, key, cn):
        """A self-signed CA certificate and its key (RSA 2048, PEM)."""
        self.run([need_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048",
                  "-nodes", "-keyout", key, "-out", cert, "-days", "3650",
                  "-subj", "/O=ACME test/CN=%s" % cn,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                 "openssl req (%s)" % cn)

    def make_client_cert(self, name, cn, ca=None, ca_key=None):
        """A TLS client certificate (clientAuth) for cn, issued by the
        operators' CA (or by ca/ca_key): STATE/tls/NAME.pem, NAME.key and
        NAME.p12. Returns (cert, key, p12) paths."""
        openssl = need_tool("openssl")
        d = self.tls_dir
        ca = ca or self.operator_ca
        ca_key = ca_key or self.operator_ca_key
        cert = os.path.join(d, name + ".pem")
        key = os.path.join(d, name + ".key")
        p12 = os.path.join(d, name + ".p12")
        csr = os.path.join(d, name + ".csr")
        ext = os.path.join(d, name + ".ext")
        self.run([openssl, "req", "-new", "-newkey", "rsa:2048", "-nodes",
                  "-keyout", key, "-out", csr,
                  "-subj", "/O=ACME test/OU=Operators/CN=%s" % cn],
                 "openssl req (client %s)" % name)
        with open(ext, "w") as f:
            f.write("basicConstraints = critical,CA:FALSE\n"
                    "keyUsage = critical,digitalSignature\n"
                    "extendedKeyUsage = clientAuth\n")
        self.run([openssl, "x509", "-req", "-in", csr, "-CA", ca,
                  "-CAkey", ca_key, "-CAcreateserial", "-days", "825",
                  "-extfile", ext, "-out", cert],
                 "openssl x509 (client %s)" % name)
        self.run([openssl, "pkcs12", "-export", "-in", cert, "-inkey", key,
                  "-name", cn, "-out", p12,
                  "-passout", "pass:" + self.operator_p12_password],
                 "openssl pkcs12 (client %s)" % name)
        return cert, key, p12

    @staticmethod
    def cert_sha256(path):
        """The SHA-256 fingerprint of a PEM certificate's DER, lower-case
        hex without colons (as acme-web and acmectl operator show it)."""
        with open(path) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        return hashlib.sha256(der).hexdigest()
    # --- the web site: end ---

    def init_acme(self):
        os.makedirs(self.ca_dir, exist_ok=True)
        self.acmectl("db", "migrate")
        if not os.path.exists(self.root_pem):
            args = ["ca", "init", "--name", "ACME Test"]
            if self.ca_key_type is not None:
                args += ["--key-type", self.ca_key_type]
            self.acmectl(*args)

    def start_fcgi(self):
        port = self.ports["fcgi"]
        self.spawn("acme-fcgi", [os.path.join(self.build, "acme-fcgi"),
                                 "-c", self.conf, "-n", str(self.children),
                                 "-s", "127.0.0.1:%d" % port])
        self.wait_for("acme-fcgi", lambda: self.tcp_open(port), 30,
                      "FastCGI port 127.0.0.1:%d accepting" % port)

    # --- the web site (acme-web): begin ---
    def start_web(self):
        port = self.ports["web_fcgi"]
        self.spawn("acme-web", [os.path.join(self.build, "acme-web"),
                                "-c", self.conf])
        self.wait_for("acme-web", lambda: self.tcp_open(port), 30,
                      "FastCGI port 127.0.0.1:%d accepting" % port)

    def web_servers(self):
        """The nginx server blocks of the web site: the portal, and the
        office with the operators' client certificates; both from
        nginx/acme-web-locations.conf, as in nginx/acme-web.conf."""
        if not self.web:
            return ""
        return """
	upstream acme_web {
		server 127.0.0.1:%(web_fcgi)d;
	}

	server {
		listen 127.0.0.1:%(web_https)d ssl http2;
		server_name 127.0.0.1 localhost;
		ssl_certificate %(tls)s/server.pem;
		ssl_certificate_key %(tls)s/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		access_log %(logdir)s/nginx-web-access.log web;

		set $acme_web_area portal;
		include %(locations)s;

		location ^~ /office/ {
			return 404;
		}
	}

	server {
		listen 127.0.0.1:%(office_https)d ssl http2;
		server_name 127.0.0.1 localhost;
		ssl_certificate %(tls)s/server.pem;
		ssl_certificate_key %(tls)s/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_verify_client on;
		ssl_verify_depth 1;
		ssl_client_certificate %(opca)s;
		access_log %(logdir)s/nginx-office-access.log web;

		set $acme_web_area office;
		include %(locations)s;

		location = / {
			return 303 /office/;
		}
	}
""" % {"web_fcgi": self.ports["web_fcgi"],
            "web_https": self.ports["web_https"],
            "office_https": self.ports["office_https"],
            "tls": self.tls_dir, "logdir": self.logdir,
            "opca": self.operator_ca, "locations": WEB_LOCATIONS}

    def wait_web(self, errlog):
        """The whole path of the web site: TLS, nginx, FastCGI, acme-web
        (its stylesheet, then a page that reads the database)."""
        ctx = ssl.create_default_context(cafile=self.tls_ca)

        def get(path):
            def check():
                try:
                    with urllib.request.urlopen(self.web_url + path,
                                                context=ctx, timeout=5) as r:
                        r.read()
                        return r.status == 200
                except urllib.error.HTTPError as e:
                    raise Exception("HTTP %d: %s" % (e.code, e.read()[:300]))
            return check
        self.wait_for("acme-web", get("/static/site.css"), 30,
                      "GET %s/static/site.css answering 200" % self.web_url,
                      [errlog])
        self.wait_for("acme-web", get("/login"), 30,
                      "GET %s/login answering 200" % self.web_url, [errlog])
    # --- the web site: end ---

    def start_nginx(self):
        d = self.nginx_dir
        os.makedirs(d, exist_ok=True)
        for t in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(d, t), exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            # test only: workers as root so that they can use the temporary
            # directories in the (private, mode 0700) state directory
            user = "user root root;\n"
        conf = """# written by tests/stack.py
%(user)sdaemon off;
master_process on;
worker_processes 1;
pid %(rundir)s/nginx.own.pid;
error_log %(logdir)s/nginx-error.log info;
events { worker_connections 256; }
http {
	access_log %(logdir)s/nginx-access.log;
	client_body_temp_path %(d)s/body;
	fastcgi_temp_path %(d)s/fastcgi;
	proxy_temp_path %(d)s/proxy;
	scgi_temp_path %(d)s/scgi;
	uwsgi_temp_path %(d)s/uwsgi;
	default_type application/octet-stream;
	server_tokens off;
	log_format web '$remote_addr [$time_local] "$request" $status '
	    '$body_bytes_sent $ssl_client_verify $request_id';

	upstream acme_fcgi {
		server 127.0.0.1:%(fcgi)d;
	}

	server {
		listen 127.0.0.1:%(https)d ssl http2;
		server_name 127.0.0.1 localhost;
		ssl_certificate %(tls)s/server.pem;
		ssl_certificate_key %(tls)s/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;

		include %(locations)s;

		location / {
			return 404;
		}
	}
%(web)s}
""" % {"user": user, "rundir": self.rundir, "logdir": self.logdir, "d": d,
            "fcgi": self.ports["fcgi"], "https": self.ports["https"],
            "tls": self.tls_dir, "locations": LOCATIONS,
            "web": self.web_servers()}
        nconf = os.path.join(d, "nginx.conf")
        with open(nconf, "w") as f:
            f.write(conf)
        nginx = need_tool("nginx")
        errlog = os.path.join(self.logdir, "nginx-error.log")
        self.run([nginx, "-t", "-p", d, "-c", nconf, "-e", errlog],
                 "nginx -t")
        self.spawn("nginx", [nginx, "-p", d, "-c", nconf, "-e", errlog])
        port = self.ports["https"]
        self.wait_for("nginx", lambda: self.tcp_open(port), 30,
                      "TLS port 127.0.0.1:%d accepting" % port, [errlog])
        # the whole path: TLS, nginx, FastCGI, acme-fcgi, PostgreSQL
        ctx = ssl.create_default_context(cafile=self.tls_ca)
        last = [None]

        def directory():
            try:
                with urllib.request.urlopen(self.directory_url, context=ctx,
                                            timeout=5) as r:
                    json.loads(r.read())
                    return r.status == 200
            except urllib.error.HTTPError as e:
                last[0] = "HTTP %d: %s" % (e.code, e.read()[:500])
                raise Exception(last[0])
        self.wait_for("acme-fcgi", directory, 30,
                      "GET %s answering 200 with JSON" % self.directory_url,
                      [errlog])
        if self.web:
            self.wait_web(errlog)

    def start_worker(self):
        self.spawn("acme-worker", [os.path.join(self.build, "acme-worker"),
                                   "-c", self.conf])
        time.sleep(0.5)
        if not self.procs["acme-worker"].alive():
            self.fail("acme-worker", "exited right after starting")

    # --- worker restart (tests/integration/test_catalogue.py): begin ---
    def stop_worker(self):
        """Stop acme-worker (if it runs); restart_worker() starts it."""
        p = self.procs.get("acme-worker") or \
            self.recorded().get("acme-worker")
        if p is not None:
            self._stop_one(p, signal.SIGTERM, 10)

    def restart_worker(self, env=None):
        """Stop acme-worker and start it again, with the variables of env
        added to the environment (e.g. {"ACME_WORKER_FAULT": "ca"} for the
        worker's fault injection); env None: the normal worker."""
        self.stop_worker()
        full = None
        if env:
            full = dict(os.environ)
            full.update(env)
        self.spawn("acme-worker", [os.path.join(self.build, "acme-worker"),
                                   "-c", self.conf], env=full)
        time.sleep(0.3)
        if not self.procs["acme-worker"].alive():
            self.fail("acme-worker", "exited right after restarting")
    # --- worker restart: end ---

    # --- faults (tests/integration/test_faults.py): begin ---
    def restart_postgres_immediate(self):
        """PostgreSQL crashes and comes back: `pg_ctl stop -m immediate`
        (no checkpoint: recovery at the next start empties the UNLOGGED
        tables), then the same server started again on the same port."""
        user = "postgres" if os.geteuid() == 0 else None
        p = self.procs.get("postgres") or self.recorded().get("postgres")
        self.run([os.path.join(self.pgbin or pg_bindir(), "pg_ctl"), "-D",
                  self.pgdata, "-m", "immediate", "-w", "-t", "30", "stop"],
                 "pg_ctl stop -m immediate", user=user, log="postgres")
        if p is not None:
            self._stop_one(p, signal.SIGQUIT, 10)
        self.start_postgres()

    def stop_named(self):
        """Stop BIND: every lookup of the worker times out."""
        p = self.procs.get("named") or self.recorded().get("named")
        if p is not None:
            self._stop_one(p, signal.SIGTERM, 10)

    def start_named_again(self):
        """Start BIND again after stop_named() (zones and their journals
        kept)."""
        self.start_named()
    # --- faults: end ---

    # ----------------------------------------------------------- start/stop

    def start(self):
        """Start everything; on any failure stop what started and raise."""
        for prog in ("acme-fcgi", "acme-worker", "acmectl"):
            if not os.access(os.path.join(self.build, prog), os.X_OK):
                raise StackError("%s/%s is missing: run make" % (
                    self.build, prog))
        for d in (self.state, self.logdir, self.rundir):
            os.makedirs(d, exist_ok=True)
        if self.recorded():
            raise StackError("processes of a previous start still run in %s:"
                             " stop them first" % self.state)
        if self.stop_at_exit:
            # whatever happens to the test run, nothing is left running
            atexit.register(self.stop)
        try:
            self.choose_ports()
            self.write_conf()
            self.make_tls()
            if self.web:
                self.make_operator_tls()
            self.start_postgres()
            self.start_named()
            self.init_acme()
            self.start_fcgi()
            if self.web:
                self.start_web()
            self.start_nginx()
            self.start_worker()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout=10):
        """Stop every process started (ours, or recorded in STATE/run):
        SIGTERM (SIGINT, fast shutdown, for postgres), then SIGKILL to the
        whole process group. Removes no file but the pidfiles."""
        procs = dict(self.recorded())
        procs.update({n: p for n, p in self.procs.items()})
        for name in reversed(ALL_PROCS):
            p = procs.get(name)
            if p is None:
                continue
            sig = signal.SIGINT if name == "postgres" else signal.SIGTERM
            self._stop_one(p, sig, timeout)
            try:
                os.unlink(os.path.join(self.rundir, name + ".pid"))
            except OSError:
                pass
        self.procs = {}

    @staticmethod
    def _group_alive(pgid):
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def _stop_one(self, p, sig, timeout):
        # the process is a session (and group) leader: pgid == pid
        if p.alive():
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while p.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if p.alive():
            with open(p.log, "a") as f:
                f.write("---- stack.py: %s did not stop in %ds, SIGKILL\n"
                        % (p.name, timeout))
        # leftovers in the group (children of a killed master) too
        deadline = time.monotonic() + 2
        while self._group_alive(p.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._group_alive(p.pid):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        if p.popen is not None:
            try:
                p.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass

    # ------------------------------------------------------------ the demo

    def info(self, kid, hmac):
        """Return (text, env) describing the running stack for a human."""
        env = {
            "ACME_STATE": self.state,
            "ACME_CONF": self.conf,
            "ACME_DIRECTORY": self.directory_url,
            "ACME_CA_BUNDLE": self.tls_ca,
            "REQUESTS_CA_BUNDLE": self.tls_ca,
            "LEGO_CA_CERTIFICATES": self.tls_ca,
            "ACME_ROOT": self.root_pem,
            "ACME_EAB_KID": kid,
            "ACME_EAB_HMAC_KEY": hmac,
            "ACME_HTTP01_PORT": str(self.http01_port),
        }
        env.update(self.dns_env())
        q = shlex.quote
        cb = os.path.join(self.state, "certbot")
        common = ("certbot certonly -n --server %s --config-dir %s "
                  "--work-dir %s --logs-dir %s --agree-tos -m admin@%s "
                  "--no-eff-email --eab-kid %s --eab-hmac-key %s "
                  "--key-type rsa" % (q(self.directory_url), q(cb + "/config"),
                                      q(cb + "/work"), q(cb + "/logs"),
                                      self.zone, q(kid), q(hmac)))
        http01 = ("REQUESTS_CA_BUNDLE=%s %s --rsa-key-size 2048 --standalone "
                  "--preferred-challenges http-01 --http-01-address 127.0.0.1"
                  " --http-01-port %d -d www.%s" % (
                      q(self.tls_ca), common, self.http01_port, self.zone))
        hookenv = " ".join("%s=%s" % (k, q(v))
                           for k, v in sorted(self.dns_env().items()))
        dns01 = ("REQUESTS_CA_BUNDLE=%s %s %s --rsa-key-size 3072 --manual "
                 "--preferred-challenges dns-01 --manual-auth-hook %s "
                 "--manual-cleanup-hook %s -d api.%s" % (
                     q(self.tls_ca), hookenv, common,
                     q("sh " + os.path.join(HOOKS, "createtxt.sh")),
                     q("sh " + os.path.join(HOOKS, "cleantxt.sh")), self.zone))
        text = "\n".join([
            "ACME directory:   %s" % self.directory_url,
            "CA bundle (TLS):  %s" % self.tls_ca,
            "issuing CA root:  %s" % self.root_pem,
            "EAB kid:          %s" % kid,
            "EAB hmac key:     %s" % hmac,
            "http-01 port:     %d (the CA validates http-01 there)"
            % self.http01_port,
            "DNS (BIND):       127.0.0.1:%d, zone %s (*.%s -> 127.0.0.1), "
            "TSIG key %s" % (self.dns_port, self.zone, self.zone,
                             self.tsig_key),
            "logs:             %s" % self.logdir,
            "shell variables:  . %s" % os.path.join(self.state, "env"),
            "",
            "The EAB credential binds one account: mint another with",
            "  %s -c %s eab create --domain %s" % (
                os.path.join(self.build, "acmectl"), self.conf, self.zone),
            "",
            "certbot, http-01 (standalone on port %d):" % self.http01_port,
            "  " + http01,
            "",
            "certbot, dns-01 (nsupdate to BIND through tests/hooks):",
            "  " + dns01,
            "",
            "(the second command reuses the account of the first one when "
            "run after it; its EAB options are then ignored)",
            "stop with: make stop   (or %s stop --state %s)" % (
                os.path.abspath(__file__), self.state),
        ])
        # --- the web site (acme-web): begin ---
        if self.web:
            env.update({
                "ACME_WEB_URL": self.web_url,
                "ACME_OFFICE_URL": self.office_url,
                "ACME_OPERATOR_CERT": self.operator_cert,
                "ACME_OPERATOR_KEY": self.operator_key,
                "ACME_OPERATOR_P12": self.operator_p12,
            })
            text += "\n" + "\n".join([
                "",
                "web site (acme-web):",
                "  portal:           %s/" % self.web_url,
                "  office:           %s/office/ (TLS client certificate "
                "required)" % self.office_url,
                "  operator's cert:  %s (key %s)" % (self.operator_cert,
                                                    self.operator_key),
                "  as PKCS#12:       %s (password %s): import it in the "
                "browser" % (self.operator_p12, self.operator_p12_password),
                "  operators' CA:    %s" % self.operator_ca,
                "  register an operator with that certificate:",
                "    %s -c %s operator create NAME --email EMAIL "
                "--cert %s" % (os.path.join(self.build, "acmectl"),
                               self.conf, self.operator_cert),
                "  (it prints the password it made; --password-file F "
                "reads one instead)",
            ])
        # --- the web site: end ---
        return text, env

    def write_env(self, env):
        path = os.path.join(self.state, "env")
        with open(path, "w") as f:
            for k in sorted(env):
                f.write("%s=%s; export %s\n" % (k, shlex.quote(env[k]), k))
        return path


def cmd_start(args):
    st = Stack(args.build, args.state, zone=args.zone, keep_ports=True,
               stop_at_exit=False)
    os.makedirs(st.state, exist_ok=True)
    os.chmod(st.state, 0o711)
    ports = os.path.join(st.state, "ports.json")
    if st.running():
        with open(ports) as f:
            st.ports = json.load(f)
        print("stack already running in %s" % st.state)
    else:
        if st.recorded():
            print("some processes of a previous start died: restarting",
                  file=sys.stderr)
            st.stop()
        try:
            st.start()
        except StackError as e:
            print("stack.py: %s" % e, file=sys.stderr)
            return 1
    kid, hmac = st.mint_eab()
    text, env = st.info(kid, hmac)
    st.write_env(env)
    print(text)
    return 0


def cmd_stop(args):
    st = Stack(args.build or ".", args.state, stop_at_exit=False)
    if not os.path.isdir(st.state):
        print("no state directory %s" % st.state)
        return 0
    found = st.recorded()
    st.stop()
    print("stopped: %s" % (", ".join(sorted(found)) or "nothing was running"))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("start", help="start the stack in the background")
    a.add_argument("--build", default=os.path.join(REPO, "build"))
    a.add_argument("--state", required=True)
    a.add_argument("--zone", default=DEFAULT_ZONE)
    b = sub.add_parser("stop", help="stop the stack started in --state")
    b.add_argument("--state", required=True)
    b.add_argument("--build", default=None)
    args = ap.parse_args()
    if args.cmd == "start":
        return cmd_start(args)
    return cmd_stop(args)


if __name__ == "__main__":
    sys.exit(main())
