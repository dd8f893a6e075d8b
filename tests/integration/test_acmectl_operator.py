"""acmectl operator ...: the people who sign in to the back office. Each
command against the stack's database, in human and --json form: the
certificate registered as the SHA-256 of its DER, the password read from a
file (or standard input) or made and printed once, only its scrypt hash
stored (checked here with Python's own scrypt), disable/enable, a new
password or certificate, the audit rows, and the refusals (exit 1, one
line, nothing changed) and bad usage (exit 2).
"""

import base64
import hashlib
import json
import os
import re
import ssl
import subprocess
import uuid

import pytest

from test_acmectl import Ctl, sql

PASSWORD_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@pytest.fixture(scope="module")
def ctl(stack):
    return Ctl(stack)


@pytest.fixture
def certs(workdir):
    """A function making a fresh self-signed PEM certificate; returns
    (path, the SHA-256 of its DER in lower-case hex)."""
    def make(name="op"):
        path = os.path.join(workdir, "%s-%s.pem" % (name,
                                                    uuid.uuid4().hex[:6]))
        key = path[:-4] + ".key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", path, "-days", "30",
                        "-subj", "/CN=%s" % name], check=True,
                       capture_output=True, timeout=60)
        with open(path) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        return path, hashlib.sha256(der).hexdigest()
    return make


def write(workdir, text, name="pw"):
    path = os.path.join(workdir, "%s-%s.txt" % (name, uuid.uuid4().hex[:6]))
    with open(path, "w") as f:
        f.write(text)
    return path


def uniq(label="op"):
    return "%s-%s" % (label, uuid.uuid4().hex[:8])


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def stored_hash(stack, name):
    return sql(stack, "SELECT password_hash FROM web_operator "
               "WHERE name = '%s'" % name)


def verifies(stored, password):
    """True if password matches a stored scrypt$LOGN$R$P$SALT$HASH."""
    kind, logn, r, p, salt, want = stored.split("$")
    assert kind == "scrypt", stored
    n, r, p = 1 << int(logn), int(r), int(p)
    got = hashlib.scrypt(password.encode(), salt=b64u(salt), n=n, r=r, p=p,
                         maxmem=256 * r * (n + p + 2) + (1 << 20),
                         dklen=len(b64u(want)))
    return got == b64u(want)


def audit_rows(stack, operator_id):
    out = sql(stack, "SELECT actor || ' ' || action FROM audit_log "
              "WHERE object_type = 'web_operator' AND object_id = '%s' "
              "ORDER BY id" % operator_id)
    return out.splitlines()


def snapshot(stack):
    return sql(stack, "SELECT (SELECT md5(coalesce(string_agg(o::text, '|' "
               "ORDER BY o::text), '')) FROM web_operator o), "
               "(SELECT count(*) FROM audit_log)")


def create(ctl, workdir, certs, password="correct horse battery"):
    """An operator made with a password file; (name, its document, the
    path of its certificate)."""
    name = uniq()
    cert, _ = certs()
    doc = ctl.json("operator", "create", name, "--email",
                   "%s@ca.example" % name, "--cert", cert,
                   "--password-file", write(workdir, password + "\n"))
    return name, doc, cert


def test_create_with_a_password_file(stack, ctl, workdir, certs):
    name = uniq()
    cert, fp = certs()
    pw = write(workdir, "correct horse battery staple\n")
    out = ctl.ok("operator", "create", name, "--email",
                 "%s@ca.example" % name, "--cert", cert, "--password-file",
                 pw)
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["name"] == name
    assert lines["email"] == "%s@ca.example" % name
    assert lines["cert_sha256"] == fp
    assert lines["status"] == "ACTIVE"
    assert "password" not in lines, "a given password is never printed"
    stored = stored_hash(stack, name)
    assert stored.startswith("scrypt$"), stored
    assert "correct horse" not in stored
    assert verifies(stored, "correct horse battery staple")
    assert not verifies(stored, "correct horse battery stapl")
    assert sql(stack, "SELECT cert_sha256 || ' ' || status FROM web_operator "
               "WHERE name = '%s'" % name) == fp + " ACTIVE"
    assert audit_rows(stack, lines["id"]) == ["pytest create"]


def test_create_makes_a_password_printed_once(stack, ctl, workdir, certs):
    name = uniq()
    cert, fp = certs()
    doc = ctl.json("operator", "create", name, "--email",
                   "%s@ca.example" % name, "--cert", cert)
    assert doc["name"] == name and doc["cert_sha256"] == fp
    assert PASSWORD_RE.match(doc["password"]), doc
    assert "password_hash" not in doc
    assert verifies(stored_hash(stack, name), doc["password"])
    # the human form prints it too (a new operator, another password)
    name2 = uniq()
    cert2, _ = certs()
    out = ctl.ok("operator", "create", name2, "--email",
                 "%s@ca.example" % name2, "--cert", cert2)
    pw = re.search(r"^password: (\S+)$", out, re.M).group(1)
    assert PASSWORD_RE.match(pw) and pw != doc["password"]
    assert verifies(stored_hash(stack, name2), pw)
    # and nothing shows it again
    listed = ctl.json("operator", "list")
    assert all("password" not in o and "password_hash" not in o
               for o in listed)
    assert doc["password"] not in ctl.ok("operator", "list")


def test_password_from_standard_input(stack, ctl, certs):
    name = uniq()
    cert, _ = certs()
    r = subprocess.run(
        [os.path.join(stack.build, "acmectl"), "-c", stack.conf, "--json",
         "operator", "create", name, "--email", "%s@ca.example" % name,
         "--cert", cert, "--password-file", "-"],
        input=b"from standard input\nsecond line ignored\n",
        capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert "password" not in doc
    assert verifies(stored_hash(stack, name), "from standard input")


def test_list(stack, ctl, workdir, certs):
    a, da, _ = create(ctl, workdir, certs)
    b, db, _ = create(ctl, workdir, certs)
    listed = {o["name"]: o for o in ctl.json("operator", "list")}
    for name, doc in ((a, da), (b, db)):
        assert listed[name]["email"] == doc["email"]
        assert listed[name]["cert_sha256"] == doc["cert_sha256"]
        assert listed[name]["status"] == "ACTIVE"
        assert set(listed[name]) == {"id", "name", "email", "cert_sha256",
                                     "status", "created_at"}
    out = ctl.ok("operator", "list")
    assert out.splitlines()[0].split() == ["id", "name", "email",
                                           "cert_sha256", "status",
                                           "created_at"]
    assert any(line.split()[1] == a for line in out.splitlines()[1:])


def test_disable_and_enable(stack, ctl, workdir, certs):
    name, doc, _ = create(ctl, workdir, certs)
    assert ctl.json("operator", "disable", name)["status"] == "DISABLED"
    assert sql(stack, "SELECT status FROM web_operator WHERE name = '%s'"
               % name) == "DISABLED"
    ctl.fails("operator", "disable", name, want="already DISABLED")
    out = ctl.ok("operator", "enable", name)
    assert "status: ACTIVE" in out.splitlines()
    ctl.fails("operator", "enable", name, want="already ACTIVE")
    assert audit_rows(stack, doc["id"]) == [
        "pytest create", "pytest disabled", "pytest active"]


def test_disable_ends_the_operators_sessions(stack, ctl, workdir, certs):
    name, doc, _ = create(ctl, workdir, certs)
    sql(stack, "SELECT web_session_open('operator', %d, "
        "sha256('%s'::bytea), 'csrf-token-of-the-test', 3600, '127.0.0.1')"
        % (doc["id"], uuid.uuid4().hex))
    count = ("SELECT count(*) FROM web_session WHERE operator_id = %d"
             % doc["id"])
    assert sql(stack, count) == "1"
    ctl.ok("operator", "disable", name)
    assert sql(stack, count) == "0"


def test_set_password(stack, ctl, workdir, certs):
    name, doc, _ = create(ctl, workdir, certs,
                          password="the first password")
    assert verifies(stored_hash(stack, name), "the first password")
    out = ctl.json("operator", "set-password", name, "--password-file",
                   write(workdir, "the second password\r\n"))
    assert "password" not in out
    stored = stored_hash(stack, name)
    assert verifies(stored, "the second password")
    assert not verifies(stored, "the first password")
    made = ctl.json("operator", "set-password", name)["password"]
    assert PASSWORD_RE.match(made)
    assert verifies(stored_hash(stack, name), made)
    assert audit_rows(stack, doc["id"]) == [
        "pytest create", "pytest set_password", "pytest set_password"]


def test_set_cert(stack, ctl, workdir, certs):
    name, doc, _ = create(ctl, workdir, certs)
    cert, fp = certs("new")
    assert fp != doc["cert_sha256"]
    assert ctl.json("operator", "set-cert", name, "--cert",
                    cert)["cert_sha256"] == fp
    assert sql(stack, "SELECT cert_sha256 FROM web_operator "
               "WHERE name = '%s'" % name) == fp
    assert audit_rows(stack, doc["id"])[-1] == "pytest set_cert"


def test_actor(stack, ctl, workdir, certs):
    name = uniq()
    cert, _ = certs()
    doc = ctl.json("operator", "create", name, "--email",
                   "%s@ca.example" % name, "--cert", cert, "--actor", "root")
    assert audit_rows(stack, doc["id"]) == ["root create"]


def test_refusals_change_nothing(stack, ctl, workdir, certs):
    name, doc, same = create(ctl, workdir, certs)
    cert, _ = certs()
    pw = write(workdir, "long enough password\n")
    short = write(workdir, "short\n", "short")
    not_pem = write(workdir, "not a certificate\n", "notpem")
    before = snapshot(stack)
    cases = [
        (("operator", "create", name, "--email", "other@ca.example",
          "--cert", cert, "--password-file", pw), "operator %s exists"
         % name),
        (("operator", "create", uniq(), "--email", doc["email"].upper(),
          "--cert", cert, "--password-file", pw), "has the address"),
        (("operator", "create", uniq(), "--email", "x@ca.example",
          "--cert", same, "--password-file", pw), "has this certificate"),
        (("operator", "create", "bad name!", "--email", "x@ca.example",
          "--cert", cert, "--password-file", pw), "operator name"),
        (("operator", "create", uniq(), "--email", "not-an-address",
          "--cert", cert, "--password-file", pw), "e-mail address"),
        (("operator", "create", uniq(), "--email", "x@ca.example",
          "--cert", not_pem, "--password-file", pw),
         "no PEM certificate"),
        (("operator", "create", uniq(), "--email", "x@ca.example",
          "--cert", os.path.join(workdir, "missing.pem")),
         "No such file"),
        (("operator", "create", uniq(), "--email", "x@ca.example",
          "--cert", cert, "--password-file", short), "at least 12"),
        (("operator", "create", uniq(), "--email", "x@ca.example",
          "--cert", cert, "--password-file",
          os.path.join(workdir, "missing.txt")), "No such file"),
        (("operator", "disable", uniq("nobody")), "no operator"),
        (("operator", "enable", uniq("nobody")), "no operator"),
        (("operator", "set-password", uniq("nobody"), "--password-file",
          pw), "no operator"),
        (("operator", "set-password", name, "--password-file", short),
         "at least 12"),
        (("operator", "set-cert", uniq("nobody"), "--cert", cert),
         "no operator"),
        (("operator", "set-cert", uniq(), "--cert", not_pem),
         "no PEM certificate"),
    ]
    for args, want in cases:
        ctl.fails(*args, want=want)
    assert snapshot(stack) == before
    # the refused password did not replace the one in place
    assert verifies(stored_hash(stack, name), "correct horse battery")


@pytest.mark.parametrize("args", [
    ("operator",),
    ("operator", "frobnicate", "x"),
    ("operator", "create"),
    ("operator", "create", "alice"),
    ("operator", "create", "alice", "--email", "a@ca.example"),
    ("operator", "create", "--email", "a@ca.example", "--cert", "x.pem"),
    ("operator", "create", "alice", "--email", "a@ca.example", "--cert"),
    ("operator", "create", "alice", "bob", "--email", "a@ca.example",
     "--cert", "x.pem"),
    ("operator", "list", "extra"),
    ("operator", "disable"),
    ("operator", "enable", "a", "b"),
    ("operator", "set-password"),
    ("operator", "set-password", "a", "--password-file"),
    ("operator", "set-cert", "a"),
])
def test_bad_usage_exits_2(stack, ctl, args):
    before = snapshot(stack)
    ctl.usage(*args)
    assert snapshot(stack) == before


def test_usage_lists_the_operator_commands(ctl):
    err = ctl.usage()
    for verbs in ("create", "list", "disable|enable", "set-password",
                  "set-cert"):
        assert "\n  operator %s" % verbs in err, err
