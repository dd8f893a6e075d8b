"""Monitoring: GET /health and GET /metrics of acme-fcgi, through nginx
configured from nginx/acme-site.conf (the monitoring locations allowed from
127.0.0.1 only), and the structured request log line.

The instance is the test's own (two children, its own counters): the
request counters are checked exactly, and so is their aggregation across
children (a shared mapping with atomic adds). The service-wide figures come
from PostgreSQL at scrape time: an issuance (dns-01, validated by the
stack's worker) and a refusal for lack of credit move them.
"""

import collections
import hashlib
import re
import subprocess
import threading
import time
import uuid

import pytest

import acmeclient
import deploykit
import fcgiclient
import stack as stackmod
from deploykit import Fcgi, Nginx, no_sanitizer_reports  # noqa: F401

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')


@pytest.fixture(scope="module")
def site(stack):
    https = stackmod.free_port()
    fc = Fcgi(stack, "metrics-fcgi", children=2,
              conf={"base_url": "https://127.0.0.1:%d" % https})
    ngx = Nginx(stack, "metrics-nginx", [fc.nginx_address], https=https)
    try:
        yield fc, ngx
    finally:
        ngx.stop()
        fc.stop()


def scrape(stack, ngx, n=1):
    status, body = deploykit.https_get(stack, ngx.base_url +
                                       "/metrics/%d" % n)
    assert status == 200, body[:500]
    return body.decode()


def parse(text):
    """{(name, labels): value} of an exposition, checking its format: a
    TYPE before the samples of each family, numeric values."""
    types = {}
    samples = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram"), line
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, "no TYPE for %s" % name
        samples[(name, labels)] = float(value)
    return samples, types


def check_histogram(samples, name):
    buckets = [(k[1], v) for k, v in samples.items()
               if k[0] == name + "_bucket"]
    assert buckets, "no buckets for " + name
    values = [v for _, v in buckets]
    assert values == sorted(values), "%s buckets not cumulative" % name
    assert buckets[-1][0] == '{le="+Inf"}', buckets[-1]
    assert buckets[-1][1] == samples[(name + "_count", "")]
    return samples[(name + "_count", "")]


def test_requests_counted_across_children(stack, site):
    fc, ngx = site
    s = acmeclient.session(stack.tls_ca)
    counts = collections.Counter()
    lock = threading.Lock()

    def run():
        ss = acmeclient.session(stack.tls_ca)
        for _ in range(10):
            r = ss.get(ngx.directory_url, timeout=30)
            with lock:
                counts[r.status_code] += 1
    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == {200: 60}
    for _ in range(3):
        assert s.get(ngx.base_url + "/acme/no-such-thing",
                     timeout=30).status_code == 404
    samples, _ = parse(scrape(stack, ngx))
    assert samples[("acme_http_requests_total",
                    '{resource="/directory",status="200"}')] == 60
    assert samples[("acme_http_requests_total",
                    '{resource="none",status="404"}')] == 3
    assert check_histogram(samples,
                           "acme_http_request_duration_seconds") >= 63
    # both children answered some: the counters add up across them
    pids = set(re.findall(r"acme-fcgi\[(\d+)\] info: \[[^]]*\] request "
                          r"rid=\S+ method=GET path=/directory status=200",
                          fc.log_text()))
    assert len(pids) == 2, "one child served everything: %s" % pids
    assert samples[("acme_fcgi_children", "")] == 2


def test_exposition_format(stack, site):
    fc, ngx = site
    text = scrape(stack, ngx)
    samples, types = parse(text)
    assert samples[("acme_database_up", "")] == 1
    for name in ("acme_jobs_pending", "acme_jobs_unclaimed",
                 "acme_validations_total", "acme_certificates_issued_total",
                 "acme_credit_refusals_total", "acme_issuance_seconds",
                 "acme_http_requests_total", "acme_fcgi_child_restarts_total"):
        assert name in types, "no %s in /metrics" % name
    assert types["acme_issuance_seconds"] == "histogram"
    check_histogram(samples, "acme_issuance_seconds")
    assert ("acme_jobs_pending", '{kind="order"}') in samples
    assert ("acme_jobs_pending", '{kind="challenge"}') in samples
    r = fc.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "replay-nonce" not in r.headers


def nsupdate(stack, commands):
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\nquit\n" % (
        stack.dns_port, stack.zone, "\n".join(commands))
    r = subprocess.run(["nsupdate", "-k", stack.tsig_key], input=script,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "nsupdate: %s%s" % (r.stdout, r.stderr)


def issue_dns01(stack, directory_url, name):
    """One certificate for name through dns-01 (TXT record with nsupdate);
    returns the account's client."""
    c = acmeclient.AcmeClient(directory_url, stack.tls_ca)
    r = c.new_account(eab=stack.mint_eab())
    assert r.status_code == 201, r.text
    r = c.new_order([name])
    assert r.status_code == 201, r.text
    order, order_url = r.json(), r.headers["Location"]
    authz = c.post_as_get(order["authorizations"][0]).json()
    ch = [x for x in authz["challenges"] if x["type"] == "dns-01"][0]
    digest = acmeclient.b64u(hashlib.sha256(
        c.key_authorization(ch["token"]).encode()).digest())
    nsupdate(stack, ['update add _acme-challenge.%s. 10 TXT "%s"' % (
        name, digest)])
    r = c.post(ch["url"], {})
    assert r.status_code == 200, r.text
    body = c.poll(order["authorizations"][0], ("valid",), what="authz")
    assert body["status"] == "valid", body
    csr, _ = acmeclient.make_csr([name])
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    body = c.poll(order_url, ("valid",), what="order")
    assert body["status"] == "valid", body
    return c


def test_service_figures_from_the_database(stack, site, uniq):
    fc, ngx = site
    before, _ = parse(scrape(stack, ngx))
    issue_dns01(stack, ngx.directory_url, uniq("met"))
    # an organization without credit: its order is refused
    out = stack.acmectl("eab", "create", "--org", "No credit %s" %
                        uuid.uuid4().hex[:8], "--credit", "0", "--domain",
                        stack.zone, "--json")
    import json
    cred = json.loads(out)
    c = acmeclient.AcmeClient(ngx.directory_url, stack.tls_ca)
    assert c.new_account(eab=(cred["kid"], cred["hmac_key"])).status_code \
        == 201
    r = c.new_order([uniq("broke")])
    assert r.status_code == 403 and "OUT_OF_CREDIT" in r.text, r.text
    after, _ = parse(scrape(stack, ngx))

    def delta(name, labels=""):
        return after[(name, labels)] - before.get((name, labels), 0)
    assert delta("acme_issuance_seconds_count") >= 1
    assert delta("acme_certificates_issued_total") >= 1
    assert delta("acme_validations_total",
                 '{type="dns-01",result="valid"}') >= 1
    assert delta("acme_credit_refusals_total") >= 1
    assert delta("acme_refusals_total", '{code="OUT_OF_CREDIT"}') >= 1
    # the order was finalized and issued by now: nothing left for it
    assert after[("acme_issuance_seconds_sum", "")] > 0
    # the instance's own counters saw the account's requests
    assert after[("acme_http_requests_total",
                  '{resource="/acme/order/{id}/finalize",status="200"}')] \
        >= 1


def test_health(stack, site):
    fc, ngx = site
    status, body = deploykit.https_get(stack, ngx.base_url + "/health")
    assert status == 200, body
    import json
    doc = json.loads(body)
    assert doc["status"] == "ok" and doc["database"] == "ok", doc
    assert doc["schema_version"] >= 8


def test_monitoring_only_from_localhost(stack, site):
    """acme-site.conf allows /health and /metrics from 127.0.0.1 (and ::1)
    only: from another address (127.0.0.2 here) nginx refuses them, while
    the ACME resources answer."""
    fc, ngx = site
    for path in ("/health", "/metrics/1"):
        status, _ = deploykit.https_get(stack, ngx.base_url + path,
                                        source="127.0.0.2")
        assert status == 403, "%s from 127.0.0.2: HTTP %d" % (path, status)
    status, _ = deploykit.https_get(stack, ngx.directory_url,
                                    source="127.0.0.2")
    assert status == 200


def test_health_without_database(stack):
    """A child that cannot reach PostgreSQL stays up: /health answers 503
    JSON, the ACME resources a problem document, /metrics
    acme_database_up 0."""
    port = stackmod.free_port()
    fc = Fcgi(stack, "metrics-nodb", children=1, wait=False, conf={
        "database": "host=127.0.0.1 port=%d dbname=acme user=postgres "
                    "connect_timeout=2" % port})
    try:
        r = deploykit.wait_until(
            lambda: fcgiclient.request(fc.address, "GET", "/health"), 20,
            "acme-fcgi answering /health")
        assert r.status == 503, r.body
        doc = r.json()
        assert doc["status"] == "unavailable", doc
        assert doc["database"] == "unreachable", doc
        r = fc.get("/directory")
        assert r.status == 500
        assert r.headers["content-type"] == "application/problem+json"
        r = fc.get("/metrics")
        assert r.status == 200
        assert "\nacme_database_up 0\n" in r.body.decode()
        assert fc.alive() and len(fc.children()) == 1
    finally:
        fc.stop()


def test_structured_log_line(stack, site):
    """One key=value line per request, with nginx's $request_id (also the
    last field of nginx's access log line) and the signing account."""
    fc, ngx = site
    c = acmeclient.AcmeClient(ngx.directory_url, stack.tls_ca)
    r = c.new_account(eab=stack.mint_eab())
    assert r.status_code == 201
    acct = int(c.account_url.rsplit("/", 1)[1])
    r = c.post_as_get(c.account_url)
    assert r.status_code == 200
    time.sleep(0.2)
    with open(ngx.access_log) as f:
        last = [line for line in f if "POST /acme/acct/" in line][-1]
    rid = last.split()[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", rid), last
    pattern = (r"\[%s\] request rid=%s method=POST path=/acme/acct/%d "
               r"status=200 ms=\d+ account=%d$" % (rid, rid, acct, acct))
    assert re.search(pattern, fc.log_text(), re.M), \
        "no line matching %s in\n%s" % (pattern, deploykit.log_tail(fc.log))
    # a refusal names its code and detail
    r = c.new_order(["bad..name." + stack.zone])
    assert r.status_code == 400
    assert re.search(r"method=POST path=/acme/new-order status=400 ms=\d+ "
                     r"account=%d code=INVALID_DOMAIN detail=\"INVALID_DOMAIN:"
                     % acct, fc.log_text()), deploykit.log_tail(fc.log)
