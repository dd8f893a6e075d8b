"""Helpers of the deployment tests (test_apache, test_graceful, test_metrics,
test_scaleout, test_units): acme-fcgi instances, acme-worker processes, nginx
and Apache of their own, next to the session's stack and sharing its
PostgreSQL, BIND and CA, on free ports, with their files under
STATE/deploy/NAME and their logs in STATE/logs (kept when a test fails).

nginx and Apache are configured from the repository's sample sites
(nginx/acme-site.conf, apache/acme-site.conf), rendered for loopback: the
lines marked EDIT in them are the ones replaced here, and a replacement that
finds nothing fails loudly, so the samples stay the ones proven to work.
"""

import atexit
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import fcgiclient
import stack as stackmod
import test_zz_health

REPO = stackmod.REPO
NGINX_SITE = os.path.join(REPO, "nginx", "acme-site.conf")
NGINX_LOCATIONS = os.path.join(REPO, "nginx", "acme-locations.conf")
APACHE_SITE = os.path.join(REPO, "apache", "acme-site.conf")
APACHE_LOCATIONS = os.path.join(REPO, "apache", "acme-locations.conf")
APACHE_MODULES = "/usr/lib/apache2/modules"

_running = []
_started = []          # every Proc, for the sanitizer scan


def _kill_all():
    for p in list(_running):
        p.kill()


atexit.register(_kill_all)


def workdir(stack, name):
    """A fresh directory STATE/deploy/NAME, mode 0755 (Apache's User and
    postgres traverse it)."""
    d = os.path.join(stack.state, "deploy", name)
    os.makedirs(d, exist_ok=True)
    os.chmod(os.path.dirname(d), 0o755)
    os.chmod(d, 0o755)
    return d


def derive_conf(stack, path, **overrides):
    """Write a copy of the stack's acme.conf with some keys changed (a value
    None removes the key); return path."""
    seen = set()
    out = []
    with open(stack.conf) as f:
        for line in f:
            key = None
            if "=" in line and not line.lstrip().startswith("#"):
                key = line.split("=", 1)[0].strip()
            if key in overrides:
                seen.add(key)
                if overrides[key] is None:
                    continue
                line = "%s = %s\n" % (key, overrides[key])
            out.append(line)
    for key, value in overrides.items():
        if key not in seen and value is not None:
            out.append("%s = %s\n" % (key, value))
    with open(path, "w") as f:
        f.writelines(out)
    os.chmod(path, 0o644)
    return path


def children_of(pid):
    """The pids whose parent is pid (from /proc), sorted."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def wait_until(check, timeout, what, interval=0.1):
    """Poll check() until it returns a true value (returned); fail with
    what (or what(), when it is callable, made at the timeout) on
    timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = check()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported below
            last = e
        time.sleep(interval)
    raise AssertionError("timeout after %ss: %s%s" % (
        timeout, what() if callable(what) else what,
        " (last error: %r)" % last if last else ""))


def tcp_open(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def log_tail(path, n=60):
    return stackmod.tail(path, n)


class Proc:
    """A process of ours in its own session (so that its whole group can
    be killed), its output appended to STATE/logs/NAME.log."""

    def __init__(self, stack, name, argv, env=None, cwd=None):
        self.name = name
        self.log = stack.log(name)
        with open(self.log, "ab") as logf:
            logf.write(("---- %s starting: %s\n" % (
                time.strftime("%H:%M:%S"), " ".join(argv))).encode())
            logf.flush()
            self.popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, env=env, cwd=cwd or stack.state,
                start_new_session=True)
        self.pid = self.popen.pid
        self.logs = [self.log]
        _running.append(self)
        _started.append(self)

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Wait for the process to exit; return its status (None if it
        still runs)."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """SIGKILL to the whole process group (a host that dies)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.wait(5)
        if self in _running:
            _running.remove(self)

    def stop(self, timeout=15):
        """SIGTERM, wait, then SIGKILL to whatever is left of the group;
        return the exit status of the process (None if it was killed)."""
        self.signal(signal.SIGTERM)
        status = self.wait(timeout)
        self.kill()
        return status

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


class Fcgi(Proc):
    """An acme-fcgi instance (master and children) with a configuration of
    its own derived from the stack's. listen: "unix" (a socket in its
    directory, the default), "tcp" (a free port), or an explicit value."""

    def __init__(self, stack, name, children=2, listen="unix", conf=None,
                 env=None, wait=True):
        self.dir = workdir(stack, name)
        if listen == "unix":
            listen = os.path.join(self.dir, "fcgi.sock")
        elif listen == "tcp":
            listen = "127.0.0.1:%d" % stackmod.free_port()
        self.listen = listen
        self.conf = derive_conf(stack, os.path.join(self.dir, "acme.conf"),
                                listen=listen, children=children,
                                **(conf or {}))
        self.address = ("unix:" + listen) if listen.startswith("/") \
            else listen
        super().__init__(stack, name, [
            os.path.join(stack.build, "acme-fcgi"), "-c", self.conf],
            env=env)
        if wait:
            self.wait_ready()

    @property
    def nginx_address(self):
        """The address as nginx's server and fastcgi_pass take it."""
        return self.address

    def wait_ready(self, timeout=30):
        def ready():
            if not self.alive():
                raise AssertionError("acme-fcgi %s exited:\n%s" % (
                    self.name, log_tail(self.log)))
            r = fcgiclient.request(self.address, "GET", "/health")
            return r.status == 200
        wait_until(ready, timeout, "acme-fcgi %s answering /health" %
                   self.name)

    def children(self):
        return children_of(self.pid)

    def get(self, uri, **kw):
        return fcgiclient.request(self.address, "GET", uri, **kw)


class Worker(Proc):
    """An acme-worker with the given configuration file."""

    def __init__(self, stack, name, conf):
        self.conf = conf
        super().__init__(stack, name, [
            os.path.join(stack.build, "acme-worker"), "-c", conf])
        time.sleep(0.3)
        assert self.alive(), "acme-worker %s exited:\n%s" % (
            name, log_tail(self.log))

    def issued(self):
        """How many certificates this worker logged as issued."""
        return len(re.findall(r": issued certificate ", self.log_text()))


@pytest.fixture(scope="module", autouse=True)
def no_sanitizer_reports():
    """Module fixture (autouse where imported): once the module's tests are
    done, the logs of every process it started must hold no sanitizer
    report and no crash (as test_zz_health checks the stack's)."""
    first = len(_started)
    yield
    found = []
    for p in _started[first:]:
        for path in p.logs:
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        if test_zz_health.SANITIZER.search(line) or \
                                test_zz_health.CRASH.search(line):
                            found.append("%s: %s" % (path, line.rstrip()))
            except OSError:
                pass
    assert not found, "\n".join(found[:50])


def _replace(text, old, new, what):
    assert old in text, "the sample %s no longer contains %r: update " \
        "tests/integration/deploykit.py with it" % (what, old)
    return text.replace(old, new)


def https_context(stack):
    return ssl.create_default_context(cafile=stack.tls_ca)


def https_get(stack, url, source=None, timeout=10):
    """GET url over TLS (trusting the stack's TLS CA), from the loopback
    address source if given; return (status, body)."""
    ctx = https_context(stack)
    handler = urllib.request.HTTPSHandler(context=ctx)
    if source is not None:
        import http.client

        class Conn(http.client.HTTPSConnection):
            def __init__(self, *a, **kw):
                kw["source_address"] = (source, 0)
                super().__init__(*a, **kw)

        class Handler(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(Conn, req, context=ctx)
        handler = Handler()
    opener = urllib.request.build_opener(handler)
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_version(stack, url):
    """The HTTP version curl negotiates with url when offered HTTP/2."""
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                        "%{http_version}", "--http2", "--cacert",
                        stack.tls_ca, url], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, "curl %s: %s" % (url, r.stderr)
    return r.stdout.strip()


class Nginx(Proc):
    """nginx serving nginx/acme-site.conf on loopback, its upstream made of
    the given acme-fcgi addresses ("unix:/path" or "host:port"), one
    /metrics/N location each."""

    def __init__(self, stack, name, backends, https=None):
        self.dir = workdir(stack, name)
        for t in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(self.dir, t), exist_ok=True)
        self.https = https or stackmod.free_port()
        self.http = stackmod.free_port()
        while self.http == self.https:
            self.http = stackmod.free_port()
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = stack.log(name + "-error")
        site = self.render(stack, backends)
        self.site = os.path.join(self.dir, "acme-site.conf")
        with open(self.site, "w") as f:
            f.write(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = """# written by tests/integration/deploykit.py
%(user)sdaemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(err)s info;
events { worker_connections 512; }
http {
	client_body_temp_path %(d)s/body;
	fastcgi_temp_path %(d)s/fastcgi;
	proxy_temp_path %(d)s/proxy;
	scgi_temp_path %(d)s/scgi;
	uwsgi_temp_path %(d)s/uwsgi;
	default_type application/octet-stream;
	include %(site)s;
}
""" % {"user": user, "d": self.dir, "err": self.error_log, "site": self.site}
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        nginx = stackmod.need_tool("nginx")
        r = subprocess.run([nginx, "-t", "-p", self.dir, "-c", self.conf,
                            "-e", self.error_log], capture_output=True,
                           text=True)
        assert r.returncode == 0, "nginx -t:\n%s%s" % (r.stdout, r.stderr)
        super().__init__(stack, name, [nginx, "-p", self.dir, "-c",
                                       self.conf, "-e", self.error_log])
        self.logs.append(self.error_log)
        wait_until(lambda: tcp_open(self.https), 30, "nginx %s on port %d"
                   % (name, self.https))

    def render(self, stack, backends):
        with open(NGINX_SITE) as f:
            s = f.read()
        what = "nginx/acme-site.conf"
        up = re.search(r"upstream acme_fcgi \{.*?\n\}", s, re.S)
        assert up, "no upstream acme_fcgi block in " + what
        s = s.replace(up.group(0), "upstream acme_fcgi {\n" + "".join(
            "\tserver %s max_fails=1 fail_timeout=10s;\n" % b
            for b in backends) + "}")
        m = re.search(r"\tlocation = /metrics/1 \{.*?\n\t\}\n", s, re.S)
        assert m, "no /metrics/1 location in " + what
        block = m.group(0)
        s = s.replace(block, "".join(
            _replace(block, "unix:/run/acme/acme-fcgi.sock", b, what)
            .replace("/metrics/1", "/metrics/%d" % (i + 1))
            for i, b in enumerate(backends)))
        s = _replace(s, "listen 443 ssl http2;",
                     "listen 127.0.0.1:%d ssl http2;" % self.https, what)
        s = _replace(s, "listen [::]:443 ssl http2;\n", "", what)
        s = _replace(s, "listen 80;", "listen 127.0.0.1:%d;" % self.http,
                     what)
        s = _replace(s, "listen [::]:80;\n", "", what)
        s = _replace(s, "server_name acme.example.com;",
                     "server_name 127.0.0.1;", what)
        s = _replace(s, "/etc/ssl/acme/acme.example.com.fullchain.pem",
                     os.path.join(stack.tls_dir, "server.pem"), what)
        s = _replace(s, "/etc/ssl/private/acme.example.com.key",
                     os.path.join(stack.tls_dir, "server.key"), what)
        s = _replace(s, "/var/log/nginx/acme.access.log", self.access_log,
                     what)
        s = _replace(s, "/var/log/nginx/acme.error.log", self.error_log,
                     what)
        s = _replace(s, "/usr/local/share/acme/acme-locations.conf",
                     NGINX_LOCATIONS, what)
        return s

    @property
    def base_url(self):
        return "https://127.0.0.1:%d" % self.https

    @property
    def directory_url(self):
        return self.base_url + "/directory"


def apache_user():
    """The user Apache's children (and the acme-fcgi processes mod_fcgid
    starts) run as. As root: postgres, the one user that can reach the
    stack's PostgreSQL socket (its directory is private to postgres);
    Apache refuses to serve as root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("postgres").pw_name


class Apache(Proc):
    """Apache httpd serving apache/acme-site.conf on loopback, in its own
    ServerRoot, in the foreground (-DFOREGROUND). mode "proxy": the balancer
    holds the given acme-fcgi addresses; mode "fcgid": Apache starts
    acme-fcgi itself with fcgid_command."""

    MODULES = ("mpm_event", "authz_core", "authz_host", "alias", "headers",
               "setenvif", "unique_id", "socache_shmcb", "ssl", "http2")
    PROXY_MODULES = ("proxy", "proxy_fcgi", "proxy_balancer", "slotmem_shm",
                     "lbmethod_byrequests")
    FCGID_MODULES = ("fcgid", "env")

    def __init__(self, stack, name, mode, members=(), fcgid_command=None,
                 https=None):
        self.dir = workdir(stack, name)
        for sub in ("run", "htdocs", "fcgid"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            os.chmod(os.path.join(self.dir, sub), 0o755)
        user = apache_user()
        if user is not None:
            # mod_fcgid's process manager, running as User, makes its
            # sockets there
            pw = pwd.getpwnam(user)
            os.chown(os.path.join(self.dir, "fcgid"), pw.pw_uid, pw.pw_gid)
        self.mode = mode
        self.https = https or stackmod.free_port()
        self.http = stackmod.free_port()
        while self.http == self.https:
            self.http = stackmod.free_port()
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = stack.log(name + "-error")
        self.site = os.path.join(self.dir, "acme-site.conf")
        with open(self.site, "w") as f:
            f.write(self.render(stack, members, fcgid_command))
        mods = self.MODULES + (self.PROXY_MODULES if mode == "proxy"
                               else self.FCGID_MODULES)
        lines = [
            "# written by tests/integration/deploykit.py",
            'ServerRoot "%s"' % self.dir,
            'PidFile "%s/run/httpd.pid"' % self.dir,
            'DefaultRuntimeDir "%s/run"' % self.dir,
            "Mutex file:%s/run default" % self.dir,
            "ServerName 127.0.0.1",
            'DocumentRoot "%s/htdocs"' % self.dir,
            "Listen 127.0.0.1:%d" % self.https,
            "Listen 127.0.0.1:%d" % self.http,
            'ErrorLog "%s"' % self.error_log,
            "LogLevel info",
            "StartServers 1",
            "ServerLimit 2",
            "ThreadsPerChild 16",
            "MaxRequestWorkers 32",
            "GracefulShutdownTimeout 5",
        ]
        if user is not None:
            lines += ["User %s" % user, "Group %s" % user]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m)
                  for m in mods]
        lines += ["SSLSessionCache shmcb:%s/run/ssl_scache(512000)" %
                  self.dir]
        if mode == "fcgid":
            lines += ['FcgidIPCDir "%s/fcgid"' % self.dir,
                      'FcgidProcessTableFile "%s/fcgid/shm"' % self.dir]
        lines += ['Include "%s"' % self.site]
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        apache2 = stackmod.need_tool("apache2")
        r = subprocess.run([apache2, "-t", "-f", self.conf, "-d", self.dir],
                           capture_output=True, text=True, env=self.env())
        assert r.returncode == 0, "apache2 -t:\n%s%s" % (r.stdout, r.stderr)
        super().__init__(stack, name, [apache2, "-DFOREGROUND", "-f",
                                       self.conf, "-d", self.dir],
                         env=self.env())
        # mod_fcgid's acme-fcgi processes log there
        self.logs.append(self.error_log)
        wait_until(lambda: self.alive() and tcp_open(self.https), 30,
                   "apache %s on port %d" % (name, self.https))

    @staticmethod
    def env():
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        return e

    def render(self, stack, members, fcgid_command):
        with open(APACHE_SITE) as f:
            s = f.read()
        what = "apache/acme-site.conf"
        if self.mode == "fcgid":
            s = _replace(s, "\n#Define ACME_FCGID\n", "\nDefine ACME_FCGID\n",
                         what)
            m = re.search(r'\n#Define ACME_FCGI_COMMAND "[^"]*"\n', s)
            assert m, "no ACME_FCGI_COMMAND line in " + what
            s = s.replace(m.group(0), '\nDefine ACME_FCGI_COMMAND "%s"\n' %
                          fcgid_command)
        s = _replace(s, "<VirtualHost *:443>",
                     "<VirtualHost 127.0.0.1:%d>" % self.https, what)
        s = _replace(s, "<VirtualHost *:80>",
                     "<VirtualHost 127.0.0.1:%d>" % self.http, what)
        s = _replace(s, "https://acme.example.com/",
                     "https://127.0.0.1:%d/" % self.https, what)
        s = _replace(s, "ServerName acme.example.com", "ServerName 127.0.0.1",
                     what)
        s = _replace(s, "/etc/ssl/acme/acme.example.com.fullchain.pem",
                     os.path.join(stack.tls_dir, "server.pem"), what)
        s = _replace(s, "/etc/ssl/private/acme.example.com.key",
                     os.path.join(stack.tls_dir, "server.key"), what)
        s = _replace(s, "/var/log/apache2/acme.access.log", self.access_log,
                     what)
        s = _replace(s, "/var/log/apache2/acme.error.log", self.error_log,
                     what)
        s = _replace(s, "/usr/local/share/acme/apache/acme-locations.conf",
                     APACHE_LOCATIONS, what)
        member = '\t\t\tBalancerMember "unix:/run/acme/acme-fcgi.sock|' \
            'fcgi://localhost" retry=10\n'
        lines = ""
        for m in members:
            if m.startswith("unix:"):
                url = "%s|fcgi://localhost" % m
            else:
                url = "fcgi://%s" % m
            lines += '\t\t\tBalancerMember "%s" retry=10\n' % url
        s = _replace(s, member, lines, what)
        return s

    @property
    def base_url(self):
        return "https://127.0.0.1:%d" % self.https

    @property
    def directory_url(self):
        return self.base_url + "/directory"

    def unique_ids(self):
        """The request ids (mod_unique_id) logged in the access log, last
        field of each line, in order."""
        try:
            with open(self.access_log) as f:
                return [line.split()[-1] for line in f if line.strip()]
        except OSError:
            return []


class Via:
    """The stack seen through another front end: the same state, CA and
    DNS, another directory URL (for the certbot helpers of
    test_certbot.py)."""

    def __init__(self, stack, directory_url):
        self._stack = stack
        self.directory_url = directory_url

    def __getattr__(self, name):
        return getattr(self._stack, name)
