"""Apache httpd in front of acme-fcgi, both ways apache/acme-site.conf (and
the locations of apache/acme-locations.conf) offer:

  - proxy: mod_proxy_fcgi to a standalone acme-fcgi (master and children)
    through the balancer;
  - fcgid: mod_fcgid starting acme-fcgi itself with "-n 0" (no master: the
    process serves the socket mod_fcgid hands it on fd 0, one request at a
    time).

Each is its own apache2 (-DFOREGROUND, its own ServerRoot and PidFile, free
ports, TLS with mod_ssl, HTTP/2) in front of the stack's PostgreSQL; the
stack's worker validates and issues. In each mode certbot registers with
EAB and gets a certificate through http-01, and mod_unique_id's UNIQUE_ID
reaches acme-fcgi's log as the request id.
"""

import os
import re

import pytest

import acmeclient
import certcheck
import deploykit
import stack as stackmod
import test_certbot
from deploykit import Apache, Fcgi, Via, no_sanitizer_reports  # noqa: F401


class Front:
    def __init__(self, mode, apache, fcgi):
        self.mode = mode
        self.apache = apache
        self.fcgi = fcgi

    def service_log(self):
        """Where acme-fcgi's lines go: its own log (proxy) or Apache's
        error log, to which mod_fcgid connects its processes' stderr."""
        path = self.fcgi.log if self.fcgi is not None else \
            self.apache.error_log
        with open(path, errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module", params=["proxy", "fcgid"])
def front(request, stack):
    mode = request.param
    https = stackmod.free_port()
    base = "https://127.0.0.1:%d" % https
    fcgi = None
    if mode == "proxy":
        fcgi = Fcgi(stack, "apache-proxy-fcgi", children=2, listen="tcp",
                    conf={"base_url": base})
        apache = Apache(stack, "apache-proxy", "proxy",
                        members=[fcgi.address], https=https)
    else:
        d = deploykit.workdir(stack, "apache-fcgid")
        conf = deploykit.derive_conf(stack, os.path.join(d, "acme.conf"),
                                     base_url=base, listen=None,
                                     children=None)
        command = "%s -c %s -n 0" % (os.path.join(stack.build, "acme-fcgi"),
                                     conf)
        apache = Apache(stack, "apache-fcgid", "fcgid",
                        fcgid_command=command, https=https)
    f = Front(mode, apache, fcgi)
    try:
        yield f
    finally:
        apache.stop()
        if fcgi is not None:
            fcgi.stop()


def test_directory_through_apache(stack, front):
    status, body = deploykit.https_get(stack, front.apache.directory_url)
    assert status == 200, "%s: HTTP %d %s\n%s" % (
        front.mode, status, body[:300], deploykit.log_tail(
            front.apache.error_log))
    assert b'"newAccount":"%s/acme/new-account"' % \
        front.apache.base_url.encode() in body.replace(b" ", b"")


def test_certbot_http01(stack, front, uniq):
    """The whole issuance: certbot registers with EAB and gets a
    certificate through http-01, every request through Apache."""
    via = Via(stack, front.apache.directory_url)
    base = os.path.join(stack.state, "clients", "certbot-apache-" +
                        front.mode)
    os.makedirs(base)
    kid, hmac_key = stack.mint_eab()
    names = [uniq("ap" + front.mode)]
    args = ["certonly", "--agree-tos", "-m", "admin@" + stack.zone,
            "--no-eff-email", "--eab-kid", kid, "--eab-hmac-key", hmac_key,
            "--standalone", "--preferred-challenges", "http-01",
            "--http-01-address", "127.0.0.1",
            "--http-01-port", str(stack.http01_port),
            "--key-type", "rsa", "--rsa-key-size", "2048",
            "--cert-name", names[0], "-d", names[0]]
    test_certbot.certbot(via, base, *args)
    chain, key = test_certbot.lineage(base, names[0])
    certcheck.check_certificate(chain, key, names, 2048, stack.root_pem)
    # every request went through this Apache and this acme-fcgi
    log = front.service_log()
    assert re.search(r"method=POST path=/acme/order/\S+/finalize "
                     r"status=200", log), \
        "no finalize in the %s acme-fcgi log" % front.mode


def test_request_id_is_unique_id(stack, front):
    """mod_unique_id's UNIQUE_ID, logged by Apache, is the rid= of
    acme-fcgi's log line for the same request."""
    seen = set(front.apache.unique_ids())
    status, _ = deploykit.https_get(stack, front.apache.base_url +
                                    "/acme/new-nonce")
    assert status in (200, 204)

    def logged():
        with open(front.apache.access_log) as f:
            return [line.split()[-1] for line in f
                    if '"GET /acme/new-nonce HTTP/1.1" 204' in line and
                    line.split()[-1] not in seen]
    uid = deploykit.wait_until(logged, 10, "the access log line")[0]
    assert re.fullmatch(r"[A-Za-z0-9@_-]{19,}", uid), uid
    deploykit.wait_until(
        lambda: "rid=%s method=GET path=/acme/new-nonce status=204" % uid
        in front.service_log(), 10,
        "acme-fcgi logging rid=%s (mode %s)" % (uid, front.mode))


def test_http2_and_body_limit(stack, front):
    assert deploykit.http_version(stack, front.apache.directory_url) == "2"
    # A body over 64 KiB never reaches acme-fcgi (LimitRequestBody):
    # mod_proxy_fcgi answers 413; mod_fcgid drops the body instead (it
    # ignores the error of its input filter), and acme-fcgi refuses the
    # empty request.
    r = acmeclient.session(stack.tls_ca).post(
        front.apache.base_url + "/acme/new-order", data=b"x" * 70000,
        headers={"Content-Type": "application/jose+json"}, timeout=30)
    want = (413,) if front.mode == "proxy" else (400, 413)
    assert r.status_code in want, "HTTP %d %s" % (r.status_code,
                                                  r.text[:200])


def test_health_location(stack, front):
    status, body = deploykit.https_get(stack, front.apache.base_url +
                                       "/health")
    assert status == 200, body
    assert b'"status":"ok"' in body.replace(b" ", b"")


def test_processes(stack, front):
    """proxy: acme-fcgi is a master with its children; fcgid: each
    acme-fcgi process mod_fcgid started serves its own socket alone (no
    master, no child)."""
    if front.mode == "proxy":
        assert len(front.fcgi.children()) == 2
        return
    log = front.service_log()
    assert "serving on fd 0 in this process (children = 0)" in log, \
        deploykit.log_tail(front.apache.error_log)
    procs = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/acme-fcgi") and \
                front.apache.dir.encode() in b" ".join(argv):
            procs.append(int(entry))
    assert procs, "no acme-fcgi process started by mod_fcgid"
    for pid in procs:
        assert deploykit.children_of(pid) == [], \
            "acme-fcgi %d under mod_fcgid has children" % pid


def test_200_with_location(stack, front):
    """ACME answers 200 with a Location (RFC 8555 section 7.3.1: the
    account of a key registered already). mod_fcgid would turn that into a
    302 redirect (CGI rules): acme-locations.conf has it sent under
    another name and renamed back."""
    c = acmeclient.AcmeClient(front.apache.directory_url, stack.tls_ca)
    r = c.new_account(eab=stack.mint_eab())
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    assert url.startswith(front.apache.base_url + "/acme/acct/")
    r = c.new_account(only_return_existing=True)
    assert r.status_code == 200, "HTTP %d %s" % (r.status_code, r.text)
    assert r.headers.get("Location") == url
    assert "X-Acme-Location" not in r.headers


def test_accept_language_reaches_acme_fcgi(stack, front):
    """HTTP_ACCEPT_LANGUAGE: a client preferring French gets the
    catalogue's detail in French."""
    c = acmeclient.AcmeClient(front.apache.directory_url, stack.tls_ca)
    assert c.new_account(eab=stack.mint_eab()).status_code == 201
    c.session.headers["Accept-Language"] = "fr-FR, en;q=0.5"
    r = c.post_as_get(front.apache.base_url + "/acme/order/" + "A" * 22)
    assert r.status_code == 404, r.text
    assert r.json()["detail"].startswith("ACME_REQUEST_NOT_FOUND: l'objet "
                                         "demandé est introuvable"), r.text
