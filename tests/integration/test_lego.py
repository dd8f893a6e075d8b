"""lego (Debian 12's 4.9.1) against the stack: EAB + http-01 with its own
server on the CA's http01_port, and dns-01 through BIND with its rfc2136
provider (TSIG-signed updates)."""

import glob
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import acmeclient
import certcheck

LEGO = "/usr/bin/lego"


def lego(stack, base, *args, env=None, timeout=240):
    """Run lego with --path base and a fresh EAB credential; fail the test
    with its output if it fails."""
    assert os.access(LEGO, os.X_OK), "lego missing: run .ci/deps.sh"
    kid, hmac_key = stack.mint_eab()
    cmd = [LEGO, "--server", stack.directory_url, "--path", base,
           "--email", "admin@" + stack.zone, "--accept-tos",
           "--eab", "--kid", kid, "--hmac", hmac_key, *args]
    full_env = dict(os.environ, LEGO_CA_CERTIFICATES=stack.tls_ca,
                    **(env or {}))
    try:
        r = subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        rc = r.returncode
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc = "timeout after %ds" % timeout
        out = str(e.stdout or "") + str(e.stderr or "")
    if rc != 0:
        pytest.fail("lego %s: exit %s\n%s" % (" ".join(args), rc, out),
                    pytrace=False)
    print(out)
    return out


def test_http01_rsa2048(stack, workdir, uniq):
    name = uniq("lego")
    lego(stack, workdir, "--key-type", "rsa2048", "--http", "--http.port",
         "127.0.0.1:%d" % stack.http01_port, "-d", name, "run")
    certs = os.path.join(workdir, "certificates")
    chain = certcheck.read(os.path.join(certs, name + ".crt"))
    key = certcheck.read(os.path.join(certs, name + ".key"))
    certcheck.check_certificate(chain, key, [name], 2048, stack.root_pem)


def test_dns01_rfc2136_csr_rsa3072(stack, workdir, uniq):
    """dns-01 with lego's rfc2136 provider; RSA 3072 through --csr, as
    lego's --key-type has no rsa3072."""
    names = [uniq("legodns"), uniq("mail")]
    der, key = acmeclient.make_csr(names, bits=3072)
    csr = os.path.join(workdir, "request.csr")
    with open(csr, "wb") as f:
        f.write(x509.load_der_x509_csr(der).public_bytes(
            serialization.Encoding.PEM))
    keyname, alg, secret = stack.tsig_secret()
    env = {
        "RFC2136_NAMESERVER": "127.0.0.1:%d" % stack.dns_port,
        "RFC2136_TSIG_KEY": keyname,
        "RFC2136_TSIG_SECRET": secret,
        "RFC2136_TSIG_ALGORITHM": alg + ".",
        "RFC2136_TTL": "10",
        # the provider waits this long between two names (default 60s)
        "RFC2136_SEQUENCE_INTERVAL": "1",
        "RFC2136_POLLING_INTERVAL": "1",
        "RFC2136_PROPAGATION_TIMEOUT": "30",
    }
    lego(stack, workdir, "--csr", csr, "--dns", "rfc2136",
         "--dns.resolvers", "127.0.0.1:%d" % stack.dns_port,
         "--dns.disable-cp", "run", env=env)
    found = [p for p in glob.glob(os.path.join(workdir, "certificates",
                                               "*.crt"))
             if not p.endswith(".issuer.crt")]
    assert len(found) == 1, found
    certcheck.check_certificate(certcheck.read(found[0]), None, names, 3072,
                                stack.root_pem, public_key=key.public_key())
