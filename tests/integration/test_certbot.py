"""certbot (Debian 12's 2.1) against the stack: EAB registration, http-01
with its standalone server on the CA's http01_port, dns-01 with the
tests/hooks scripts updating BIND with nsupdate."""

import os
import subprocess

import pytest

import certcheck
import stack as stackmod

CERTBOT = "/usr/bin/certbot"


def certbot(stack, base, *args, timeout=240):
    """Run certbot with its own directories under base; fail the test with
    its output and letsencrypt.log if it fails."""
    assert os.access(CERTBOT, os.X_OK), "certbot missing: run .ci/deps.sh"
    cmd = [CERTBOT, *args, "-n", "--server", stack.directory_url,
           "--config-dir", os.path.join(base, "config"),
           "--work-dir", os.path.join(base, "work"),
           "--logs-dir", os.path.join(base, "logs")]
    env = dict(os.environ, REQUESTS_CA_BUNDLE=stack.tls_ca, **stack.dns_env())
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        rc = r.returncode
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc = "timeout after %ds" % timeout
        out = str(e.stdout or "") + str(e.stderr or "")
    if rc != 0:
        log = stackmod.tail(os.path.join(base, "logs", "letsencrypt.log"),
                            250)
        pytest.fail("certbot %s: exit %s\n%s\n--- letsencrypt.log:\n%s" % (
            " ".join(args), rc, out, log), pytrace=False)
    return out


def lineage(base, name):
    live = os.path.join(base, "config", "live", name)
    return (certcheck.read(os.path.join(live, "fullchain.pem")),
            certcheck.read(os.path.join(live, "privkey.pem")))


@pytest.fixture(scope="module")
def registered(stack):
    """A certbot configuration directory with an account registered with
    EAB (certbot register)."""
    base = os.path.join(stack.state, "clients", "certbot-account")
    os.makedirs(base)
    kid, hmac_key = stack.mint_eab()
    certbot(stack, base, "register", "--agree-tos", "-m",
            "admin@" + stack.zone, "--no-eff-email", "--eab-kid", kid,
            "--eab-hmac-key", hmac_key)
    return base


def test_register(registered):
    accounts = os.path.join(registered, "config", "accounts")
    found = [f for _, _, files in os.walk(accounts) for f in files
             if f == "regr.json"]
    assert found, "certbot saved no account under %s" % accounts


def http01(stack, base, names, bits=2048):
    args = ["certonly", "--standalone", "--preferred-challenges", "http-01",
            "--http-01-address", "127.0.0.1",
            "--http-01-port", str(stack.http01_port),
            "--key-type", "rsa", "--rsa-key-size", str(bits),
            "--cert-name", names[0]]
    for n in names:
        args += ["-d", n]
    certbot(stack, base, *args)
    return lineage(base, names[0])


def test_http01_one_name(stack, registered, uniq):
    names = [uniq("cb")]
    chain, key = http01(stack, registered, names)
    certcheck.check_certificate(chain, key, names, 2048, stack.root_pem)


def test_http01_two_names(stack, registered, uniq):
    names = [uniq("cb2"), uniq("www")]
    chain, key = http01(stack, registered, names)
    certcheck.check_certificate(chain, key, names, 2048, stack.root_pem)


def test_dns01_manual_hooks(stack, workdir, uniq):
    """A fresh certbot directory: the account is made by certonly itself
    with the EAB options, then dns-01 through the hooks, RSA 3072."""
    kid, hmac_key = stack.mint_eab()
    names = [uniq("cbdns"), uniq("api")]
    args = ["certonly", "--agree-tos", "-m", "admin@" + stack.zone,
            "--no-eff-email", "--eab-kid", kid, "--eab-hmac-key", hmac_key,
            "--manual", "--preferred-challenges", "dns-01",
            "--manual-auth-hook",
            "sh " + os.path.join(stackmod.HOOKS, "createtxt.sh"),
            "--manual-cleanup-hook",
            "sh " + os.path.join(stackmod.HOOKS, "cleantxt.sh"),
            "--key-type", "rsa", "--rsa-key-size", "3072",
            "--cert-name", names[0]]
    for n in names:
        args += ["-d", n]
    certbot(stack, workdir, *args)
    chain, key = lineage(workdir, names[0])
    certcheck.check_certificate(chain, key, names, 3072, stack.root_pem)
