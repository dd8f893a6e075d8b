"""Revocation by operators (acmectl): one certificate by serial, and the
cascades: revoking an ACME account revokes every unexpired certificate it
issued and none of another account's; revoking an external account does so
for all its ACME accounts. Also the operator's "renew now" (RFC 9773)."""

import json
import os
import subprocess
import time

import acmeclient
from acmeclient import AcmeClient
from test_protocol import ready_order


def new_org(stack, uniq):
    """An organization with documents, credit, an external account and
    two ACME accounts (bound, each with its own client); returns
    (org_id, external_id, [(kid, client), (kid, client)])."""
    org = json.loads(stack.acmectl(
        "organization", "create", "--name", uniq("org"), "--country", "FR",
        "--json"))["id"]
    for kind in ("ORGANIZATION_PROOF", "REQUEST_FORM"):
        doc = json.loads(stack.acmectl(
            "document", "add", "--org", str(org), "--kind", kind,
            "--days", "30", "--json"))["id"]
        stack.acmectl("document", "validate", str(doc), "--days", "30")
    stack.acmectl("organization", "validate", str(org))
    stack.acmectl("credit", "add", "--org", str(org), "--amount", "10")
    ext = json.loads(stack.acmectl(
        "external-account", "create", "--org", str(org), "--email",
        "ops@" + stack.zone, "--json"))["id"]
    stack.acmectl("external-account", "activate", str(ext))
    accounts = []
    for i in range(2):
        cred = json.loads(stack.acmectl(
            "acme-account", "create", "--external-account", str(ext),
            "--domain", stack.zone, "--json"))
        if i == 0:
            stack.acmectl("domain", "validate", "--org", str(org),
                          stack.zone)
        c = AcmeClient(stack.directory_url, stack.tls_ca)
        r = c.new_account(eab=(cred["kid"], cred["hmac_key"]))
        assert r.status_code == 201, r.text
        accounts.append((cred["kid"], c))
    return org, ext, accounts


def issue(stack, c, name):
    """Issues a certificate for name; returns its serial (hex)."""
    order, url = ready_order(stack, c, [name])
    csr, _ = acmeclient.make_csr([name])
    r = c.finalize(order, csr)
    assert r.status_code == 200, r.text
    order = c.poll(url, ("valid",), what="order")
    assert order["status"] == "valid", order
    pem = c.post_as_get(order["certificate"]).text
    from cryptography import x509
    cert = x509.load_pem_x509_certificate(pem.encode())
    serial = "%x" % cert.serial_number
    return "0" + serial if len(serial) % 2 else serial


def acmectl_fails(stack, *args):
    """Runs acmectl expecting a refusal; returns its stderr."""
    r = subprocess.run([os.path.join(stack.build, "acmectl"), "-c",
                        stack.conf, *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, "acmectl %s: exit %d, %s%s" % (
        " ".join(args), r.returncode, r.stdout, r.stderr)
    return r.stderr


def revoked(stack, serial):
    return stack.psql("SELECT revoked_at IS NOT NULL, "
                      "coalesce(revocation_reason, -1) FROM certificate "
                      "WHERE serial = '%s'" % serial).strip()


def test_revoke_one_certificate(stack, uniq):
    _, _, [(kid, c), _] = new_org(stack, uniq)
    serial = issue(stack, c, uniq("one"))
    out = json.loads(stack.acmectl("certificate", "revoke", serial,
                                   "--reason", "4", "--json"))
    assert out["revoked"] is True, out
    assert revoked(stack, serial) == "t|4"
    # twice: refused, exit 1, nothing changes
    assert "already revoked" in acmectl_fails(stack, "certificate",
                                              "revoke", serial)
    assert "reason" in acmectl_fails(stack, "certificate", "revoke", serial,
                                     "--reason", "2")
    n = stack.psql("SELECT count(*) FROM audit_log WHERE action = 'revoke' "
                   "AND object_type = 'certificate' AND detail->>'reason' "
                   "= '4'")
    assert int(n) >= 1


def test_revoke_acme_account_cascades(stack, uniq):
    _, _, [(kid_a, a), (kid_b, b)] = new_org(stack, uniq)
    sa1 = issue(stack, a, uniq("a1"))
    sa2 = issue(stack, a, uniq("a2"))
    sb = issue(stack, b, uniq("b"))
    out = json.loads(stack.acmectl("acme-account", "revoke", kid_a,
                                   "--json"))
    assert out["certificates_revoked"] == 2, out
    assert revoked(stack, sa1) == "t|9"
    assert revoked(stack, sa2) == "t|9"
    assert revoked(stack, sb) == "f|-1"
    # the revoked ACME account can no longer order
    r = a.new_order([uniq("late")])
    assert r.status_code == 403 and r.json()["code"] == "REVOKED_ACCOUNT", \
        r.text


def test_revoke_external_account_cascades(stack, uniq):
    _, ext, [(_, a), (_, b)] = new_org(stack, uniq)
    _, _, [(_, other), _] = new_org(stack, uniq)
    sa = issue(stack, a, uniq("xa"))
    sb = issue(stack, b, uniq("xb"))
    so = issue(stack, other, uniq("xo"))
    out = json.loads(stack.acmectl("external-account", "revoke", str(ext),
                                   "--json"))
    assert out["certificates_revoked"] == 2, out
    assert revoked(stack, sa) == "t|9"
    assert revoked(stack, sb) == "t|9"
    assert revoked(stack, so) == "f|-1"


def test_renew_now_moves_the_window(stack, uniq):
    _, _, [(_, c), _] = new_org(stack, uniq)
    serial = issue(stack, c, uniq("ari"))
    der = stack.psql("SELECT encode(der, 'hex') FROM certificate "
                     "WHERE serial = '%s'" % serial).strip()
    from cryptography import x509
    cert = x509.load_der_x509_certificate(bytes.fromhex(der))
    aki = cert.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier).value.key_identifier
    sn = bytes.fromhex(serial)
    if sn[0] & 0x80:
        sn = b"\0" + sn
    certid = acmeclient.b64u(aki) + "." + acmeclient.b64u(sn)
    url = c.directory["renewalInfo"] + "/" + certid
    before = c.session.get(url).json()["suggestedWindow"]
    assert before["start"] > time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                           time.gmtime()), before
    stack.acmectl("certificate", "renew-now", serial)
    after = c.session.get(url).json()["suggestedWindow"]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert after["start"] <= now, after
