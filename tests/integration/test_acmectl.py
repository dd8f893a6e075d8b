"""acmectl, the operator's tool, against the stack's database: every command
in human and --json form, the credential format, refusals (exit 1, one line,
nothing changed), bad usage (exit 2 with the usage text), the audit log, the
credit ledger invariant, the append-only tables, key regeneration and
document expiry. These tests drive acmectl and PostgreSQL only, never ACME
issuance.
"""

import json
import os
import re
import shlex
import subprocess
import uuid

import pytest

import stack as stackmod

KID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                    r"[0-9a-f]{12}$")
HMAC_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# the tables only operators write (the worker may add audit rows of its own
# only when documents expire, which these tests do not leave pending)
OPERATOR_TABLES = ("organization", "document", "external_account",
                   "acme_account", "domain", "acme_account_domain",
                   "credit_ledger", "audit_log", "account")


class Ctl:
    """Runs build/acmectl with the stack's configuration."""

    def __init__(self, stack):
        self.stack = stack

    def run(self, *args, env=None):
        """Return (exit status, stdout, stderr)."""
        argv = [os.path.join(self.stack.build, "acmectl"), "-c",
                self.stack.conf] + [str(a) for a in args]
        e = dict(os.environ)
        e.pop("SUDO_USER", None)
        e["USER"] = "pytest"
        if env:
            e.update(env)
        r = subprocess.run(argv, capture_output=True, timeout=60, env=e,
                           stdin=subprocess.DEVNULL)
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        with open(self.stack.log("acmectl"), "a") as f:
            f.write("$ %s\n%s%s" % (" ".join(map(shlex.quote, argv)), out,
                                    err))
        return r.returncode, out, err

    def ok(self, *args, env=None):
        """Run; expect exit 0 and nothing on stderr; return stdout."""
        rc, out, err = self.run(*args, env=env)
        assert rc == 0, "acmectl %s: exit %d, want 0\n%s%s" % (
            " ".join(map(str, args)), rc, out, err)
        assert err == "", "acmectl %s wrote on stderr: %r" % (
            " ".join(map(str, args)), err)
        return out

    def json(self, *args, env=None):
        """Run with --json; return the one JSON document it printed."""
        out = self.ok("--json", *args, env=env)
        assert out.count("\n") == 1, "more than one line: %r" % out
        return json.loads(out)

    def fails(self, *args, want=None):
        """Run; expect exit 1 with one line on stderr (matching want)."""
        rc, out, err = self.run(*args)
        what = "acmectl %s: exit %d\n%s%s" % (" ".join(map(str, args)), rc,
                                             out, err)
        assert rc == 1, "want exit 1: " + what
        assert out == "", "output on a refusal: " + what
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("acmectl: "), \
            "want one 'acmectl: ...' line on stderr: " + what
        if want is not None:
            assert re.search(want, lines[0]), "got %r, want /%s/" % (
                lines[0], want)
        return lines[0]

    def usage(self, *args):
        """Run; expect exit 2 with the usage text on stderr."""
        rc, out, err = self.run(*args)
        what = "acmectl %s: exit %d\n%s%s" % (" ".join(map(str, args)), rc,
                                             out, err)
        assert rc == 2, "want exit 2: " + what
        assert out == "", what
        assert err.startswith("usage: acmectl"), what
        return err


@pytest.fixture(scope="module")
def ctl(stack):
    return Ctl(stack)


def sql(stack, query):
    """One SQL statement's output (psql -At)."""
    return stack.psql(query).strip()


def snapshot(stack):
    """Row counts and a digest of the operator tables."""
    parts = ", ".join("(SELECT md5(coalesce(string_agg(t::text, '|' "
                      "ORDER BY t::text), '')) FROM %s t)" % t
                      for t in OPERATOR_TABLES)
    return sql(stack, "SELECT " + parts)


def fields(out):
    """The "key: value" lines of a human output, as a dict."""
    d = {}
    for line in out.splitlines():
        if ": " in line and not line.startswith(" "):
            k, v = line.split(": ", 1)
            d.setdefault(k, v)
    return d


def uniq(label="org"):
    return "%s-%s" % (label, uuid.uuid4().hex[:8])


def audit(stack, object_type, object_id):
    """The (actor, action) of the audit rows of one object, in order."""
    out = sql(stack, "SELECT actor || ' ' || action FROM audit_log "
              "WHERE object_type = '%s' AND object_id = '%s' ORDER BY id"
              % (object_type, object_id))
    return [tuple(line.split(" ", 1)) for line in out.splitlines()]


def ready_org(ctl, name=None):
    """A VALID organization with VALID required documents; its id."""
    org = ctl.json("organization", "create", "--name", name or uniq(),
                   "--country", "FR")["id"]
    for kind in ("ORGANIZATION_PROOF", "REQUEST_FORM"):
        doc = ctl.json("document", "add", "--org", org, "--kind", kind,
                       "--days", 30)["id"]
        ctl.ok("document", "validate", doc, "--days", 30)
    ctl.ok("organization", "validate", org)
    return org


def ready_external_account(ctl, org=None):
    """A VALID external account (of a new ready organization); (org, id)."""
    org = org or ready_org(ctl)
    xa = ctl.json("external-account", "create", "--org", org, "--email",
                  "ops@%s.example" % uniq("x"))["id"]
    ctl.ok("external-account", "activate", xa)
    return org, xa


# ------------------------------------------------------------------ usage

@pytest.mark.parametrize("args", [
    (),
    ("organization",),
    ("nosuch", "thing"),
    ("organization", "frobnicate", "1"),
    ("organization", "create", "--country", "FR"),
    ("organization", "create", "--name"),
    ("organization", "create", "--name", "A", "--country", "FR", "--bogus",
     "x"),
    ("organization", "create", "--name", "A", "--name", "B", "--country",
     "FR"),
    ("organization", "show"),
    ("organization", "show", "1", "2"),
    ("organization", "validate"),
    ("document", "add", "--org", "1", "--kind", "REQUEST_FORM", "--expires",
     "2030-01-01", "--days", "3"),
    ("document", "list"),
    ("external-account", "create", "--org", "1"),
    ("acme-account", "create"),
    ("acme-account", "regenerate-key"),
    ("domain", "list"),
    ("domain", "list", "--org", "1", "--acme-account",
     "6136f1b5-39c8-4417-b8a7-c4114b092be6"),
    ("domain", "validate", "--org", "1"),
    ("credit", "add", "--org", "1"),
    ("certificate", "list", "--org", "1", "--acme-account",
     "6136f1b5-39c8-4417-b8a7-c4114b092be6"),
    ("certificate", "show"),
    ("eab", "create", "--domain"),
    ("db", "migrate", "extra"),
    ("--actor",),
])
def test_bad_usage_exits_2(stack, ctl, args):
    before = snapshot(stack)
    ctl.usage(*args)
    assert snapshot(stack) == before


def test_usage_lists_every_command(ctl):
    err = ctl.usage()
    for group in ("organization", "document", "external-account",
                  "acme-account", "domain", "credit", "certificate", "eab",
                  "db", "ca", "config"):
        assert "\n  %s " % group in err, "%s missing from:\n%s" % (group, err)


def test_options_anywhere(stack, ctl):
    """-c FILE, --json and --actor NAME may come before or after the verb."""
    out = subprocess.run(
        [os.path.join(stack.build, "acmectl"), "organization", "list",
         "--json", "-c", stack.conf], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert isinstance(json.loads(out.stdout), list)


def test_migrate_is_idempotent(ctl):
    assert "up to date" in ctl.ok("db", "migrate")
    assert ctl.json("db", "migrate") == {"applied": 0}


# ------------------------------------------------------------ eab create

def test_eab_create_credential_format(stack, ctl):
    out = ctl.ok("eab", "create", "--domain", stack.zone)
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith("kid: ") and lines[1].startswith("hmac_key: ")
    kid, key = lines[0][5:], lines[1][10:]
    assert KID_RE.match(kid), kid
    assert HMAC_RE.match(key), key
    d = ctl.json("eab", "create", "--domain", stack.zone)
    assert set(d) == {"kid", "hmac_key", "organization"}
    assert KID_RE.match(d["kid"]) and HMAC_RE.match(d["hmac_key"])
    assert d["organization"] == "Demo Organization"
    assert d["kid"] != kid and d["hmac_key"] != key


def test_eab_create_passes_the_account_policy(stack, ctl):
    """The demo credential's ACME account is usable: VALID organization and
    documents, VALID external account, VALID domain in its list, credit."""
    name = uniq("eab")
    d = ctl.json("eab", "create", "--org", name, "--domain", "Shop.Example",
                 "--domain", "api.example", "--credit", 7)
    acct = ctl.json("acme-account", "show", d["kid"])
    assert acct["status"] == "VALID" and acct["problem"] is None
    assert acct["key_unused"] is True
    assert sorted(x["name"] for x in acct["domains"]) == [
        "api.example", "shop.example"]
    assert all(x["status"] == "VALID" for x in acct["domains"])
    org = ctl.json("organization", "show", acct["organization"])
    assert org["name"] == name and org["status"] == "VALID"
    assert org["credit_balance"] == 7
    kinds = {(x["kind"], x["status"]) for x in org["documents"]}
    assert ("ORGANIZATION_PROOF", "VALID") in kinds
    assert ("REQUEST_FORM", "VALID") in kinds
    xa = ctl.json("external-account", "show", acct["external_account"])
    assert xa["status"] == "VALID" and xa["email"] == "demo@shop.example"
    rows = sql(stack, "SELECT count(*) FROM order_policy((SELECT id FROM "
               "acme_account WHERE kid = '%s'), '{www.shop.example,"
               "api.example}', NULL)" % d["kid"])
    assert rows == "0"
    # reused by name: no second organization, no second credit
    d2 = ctl.json("eab", "create", "--org", name, "--domain", "shop.example",
                  "--credit", 100)
    acct2 = ctl.json("acme-account", "show", d2["kid"])
    assert acct2["organization"] == acct["organization"]
    assert acct2["external_account"] == acct["external_account"]
    assert ctl.json("credit", "ledger", "--org",
                    acct["organization"])["balance"] == 7
    assert sql(stack, "SELECT count(*) FROM organization WHERE name = '%s'"
               % name) == "1"


def test_eab_create_default_zone_credential(stack):
    """The harness's credential lists the stack's zone."""
    kid, key = stack.mint_eab()
    assert KID_RE.match(kid) and HMAC_RE.match(key)
    names = sql(stack, "SELECT string_agg(d.name, ',') FROM acme_account e "
                "JOIN acme_account_domain ad ON ad.acme_account_id = e.id "
                "JOIN domain d ON d.id = ad.domain_id WHERE e.kid = '%s'"
                % kid)
    assert names == stack.zone
    assert sql(stack, "SELECT count(*) FROM order_policy((SELECT id FROM "
               "acme_account WHERE kid = '%s'), '{www.%s}', NULL)"
               % (kid, stack.zone)) == "0"


def test_eab_create_wildcard_profile(stack):
    """The harness's wildcard credential: profile OV_WILDCARD, the zone
    listed, so that *.NAME.ZONE passes the policy."""
    kid, _ = stack.mint_eab(profile="OV_WILDCARD")
    assert sql(stack, "SELECT profile FROM acme_account WHERE kid = '%s'"
               % kid) == "OV_WILDCARD"
    assert sql(stack, "SELECT count(*) FROM order_policy((SELECT id FROM "
               "acme_account WHERE kid = '%s'), '{*.w.%s}', NULL)"
               % (kid, stack.zone)) == "0"


def test_hmac_keys_never_start_with_a_dash(ctl):
    """certbot --eab-hmac-key KEY takes a KEY starting with '-' for an
    option: such keys are drawn again (1 in 64 would start so)."""
    _, xa = ready_external_account(ctl)
    keys = [ctl.json("acme-account", "create", "--external-account",
                     xa)["hmac_key"] for _ in range(128)]
    assert all(HMAC_RE.match(k) and not k.startswith("-") for k in keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("args,want", [
    (("--credit", "-1"), "credit"),
    (("--country", "FRA"), "country code"),
    (("--domain", "not a name"), "domain"),
    (("--profile", "NOPE"), "no profile NOPE"),
    (("--domain", "*.example.org"), "wildcard"),
])
def test_eab_create_refusals(stack, ctl, args, want):
    before = snapshot(stack)
    ctl.fails("eab", "create", "--org", uniq("eabref"), *args, want=want)
    assert snapshot(stack) == before


def test_eab_create_refuses_a_suspended_organization(stack, ctl):
    name = uniq("eabsus")
    kid = ctl.json("eab", "create", "--org", name)["kid"]
    org = ctl.json("acme-account", "show", kid)["organization"]
    ctl.ok("organization", "suspend", org)
    before = snapshot(stack)
    ctl.fails("eab", "create", "--org", name, want="is SUSPENDED")
    assert snapshot(stack) == before


# --------------------------------------------------------- organizations

def test_organization_create_list_show(stack, ctl):
    name = uniq()
    out = ctl.ok("organization", "create", "--name", name, "--country", "fr",
                 "--locality", "Lyon", "--state", "Rhone")
    f = fields(out)
    assert f["name"] == name and f["country"] == "FR"
    assert f["status"] == "PENDING" and f["credit_balance"] == "0"
    org = int(f["id"])
    d = ctl.json("organization", "show", org)
    assert d["name"] == name and d["locality"] == "Lyon"
    assert d["state"] == "Rhone" and d["status"] == "PENDING"
    assert d["documents"] == [] and d["external_accounts"] == []
    lst = ctl.json("organization", "list")
    assert any(x["id"] == org and x["name"] == name for x in lst)
    text = ctl.ok("organization", "list")
    assert text.splitlines()[0].split()[:3] == ["id", "name", "country"]
    assert any(line.split()[:2] == [str(org), name]
               for line in text.splitlines())
    assert "name: %s" % name in ctl.ok("organization", "show", org)
    assert audit(stack, "organization", org) == [("pytest", "create")]


def test_organization_transitions(stack, ctl):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "DE")["id"]
    steps = [("validate", "PENDING", "VALID"),
             ("suspend", "VALID", "SUSPENDED"),
             ("reinstate", "SUSPENDED", "VALID"),
             ("expire", "VALID", "EXPIRED"),
             ("reinstate", "EXPIRED", "VALID"),
             ("revoke", "VALID", "REVOKED")]
    for action, frm, to in steps:
        d = ctl.json("organization", action, org)
        assert (d["action"], d["from"], d["status"]) == (action, frm, to)
    assert [a for _, a in audit(stack, "organization", org)] == \
        ["create"] + [s[0] for s in steps]
    before = snapshot(stack)
    for action in ("validate", "suspend", "reinstate", "expire", "revoke"):
        ctl.fails("organization", action, org,
                  want=r"cannot %s organization %d: it is REVOKED"
                  % (action, org))
    assert snapshot(stack) == before


def test_organization_human_transition(ctl):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    f = fields(ctl.ok("organization", "validate", org))
    assert f["from"] == "PENDING" and f["status"] == "VALID"
    ctl.fails("organization", "reinstate", org,
              want="reinstate applies to SUSPENDED, EXPIRED only")


@pytest.mark.parametrize("args,want", [
    (("organization", "create", "--name", "X", "--country", "F1"),
     "country code"),
    (("organization", "create", "--name", "X", "--country", "FRA"),
     "country code"),
    (("organization", "create", "--name", "", "--country", "FR"),
     "name"),
    (("organization", "create", "--name", "x" * 65, "--country", "FR"),
     "1 to 64"),
    (("organization", "create", "--name", "tab\there", "--country", "FR"),
     "printable"),
    (("organization", "show", "999999999"), "no organization 999999999"),
    (("organization", "show", "abc"), "not an id"),
    (("organization", "show", "-3"), "not an id"),
    (("organization", "validate", "999999999"), "no organization"),
    (("organization", "suspend", "0"), "not an id"),
])
def test_organization_refusals(stack, ctl, args, want):
    before = snapshot(stack)
    ctl.fails(*args, want=want)
    assert snapshot(stack) == before


def test_organization_duplicate_name(stack, ctl):
    name = uniq()
    ctl.ok("organization", "create", "--name", name, "--country", "FR")
    before = snapshot(stack)
    ctl.fails("organization", "create", "--name", name, "--country", "BE",
              want="already exists")
    assert snapshot(stack) == before


# ------------------------------------------------------------- documents

def test_documents(stack, ctl):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    a = ctl.json("document", "add", "--org", org, "--kind",
                 "ORGANIZATION_PROOF", "--reference", "KBIS 123", "--days",
                 90)
    assert a["status"] == "PENDING" and a["reference"] == "KBIS 123"
    assert a["expires_at"] is not None
    f = fields(ctl.ok("document", "add", "--org", org, "--kind",
                      "DOMAIN_AUTHORIZATION", "--domain", "WWW.Example.COM",
                      "--expires", "2099-12-31"))
    assert f["domain"] == "www.example.com"
    assert f["expires_at"] == "2099-12-31T00:00:00Z"
    c = ctl.json("document", "add", "--org", org, "--kind", "REQUEST_FORM")
    assert c["expires_at"] is None
    d = ctl.json("document", "validate", a["id"], "--days", 90)
    assert (d["from"], d["status"]) == ("PENDING", "VALID")
    assert fields(ctl.ok("document", "reject", c["id"]))["status"] == \
        "REJECTED"
    d = ctl.json("document", "expire", f["id"])
    assert d["status"] == "EXPIRED"
    lst = ctl.json("document", "list", "--org", org)
    assert [(x["id"], x["status"]) for x in lst] == [
        (a["id"], "VALID"), (int(f["id"]), "EXPIRED"), (c["id"], "REJECTED")]
    assert lst[0]["decided_by"] == "pytest"
    text = ctl.ok("document", "list", "--org", org)
    assert "ORGANIZATION_PROOF" in text and "DOMAIN_AUTHORIZATION" in text
    assert [x for _, x in audit(stack, "document", a["id"])] == \
        ["create", "validate", "expiry"]
    before = snapshot(stack)
    ctl.fails("document", "validate", c["id"], "--days", 10,
              want="cannot validate document %d: it is REJECTED" % c["id"])
    ctl.fails("document", "reject", f["id"], want="it is EXPIRED")
    assert snapshot(stack) == before


@pytest.mark.parametrize("extra,want", [
    (("--kind", "PASSPORT"), "not a document kind"),
    (("--kind", "REQUEST_FORM", "--expires", "2030-02-30"), "not a date"),
    (("--kind", "REQUEST_FORM", "--expires", "30/01/2030"), "not a date"),
    (("--kind", "REQUEST_FORM", "--expires", "2001-01-01"),
     "not in the future"),
    (("--kind", "REQUEST_FORM", "--days", "0"), "number of days"),
    (("--kind", "REQUEST_FORM", "--days", "x"), "number of days"),
    (("--kind", "REQUEST_FORM", "--domain", "example.com"),
     "only a DOMAIN_AUTHORIZATION"),
    (("--kind", "DOMAIN_AUTHORIZATION", "--domain", "-bad-.com"),
     "not a valid domain"),
])
def test_document_add_refusals(stack, ctl, extra, want):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    before = snapshot(stack)
    ctl.fails("document", "add", "--org", org, *extra, want=want)
    assert snapshot(stack) == before


def test_document_refusals(stack, ctl):
    before = snapshot(stack)
    ctl.fails("document", "add", "--org", 999999999, "--kind",
              "REQUEST_FORM", want="no organization 999999999")
    ctl.fails("document", "validate", 999999999, "--days", 10,
              want="no document")
    ctl.fails("document", "list", "--org", 999999999, want="no organization")
    assert snapshot(stack) == before


def test_document_validate_expiry(stack, ctl):
    """document validate takes the date until which the document is valid
    (--expires DATE or --days N), as the back office does: required,
    tomorrow to 3 years ahead, stored with the status change and audited
    (an "expiry" row beside the "validate" one)."""
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    doc = ctl.json("document", "add", "--org", org, "--kind",
                   "ORGANIZATION_PROOF", "--days", 30)["id"]
    today = sql(stack, "SELECT (now() AT TIME ZONE 'UTC')::date")
    most = sql(stack, "SELECT ((now() AT TIME ZONE 'UTC')::date + "
               "interval '3 years')::date")
    beyond = sql(stack, "SELECT ((now() AT TIME ZONE 'UTC')::date + "
                 "interval '3 years 1 day')::date")
    # no date, or both: a usage error, nothing changed
    before = snapshot(stack)
    ctl.usage("document", "validate", doc)
    ctl.usage("document", "validate", doc, "--expires", most, "--days", 5)
    ctl.usage("document", "validate", "--days", 5)
    # outside tomorrow .. 3 years: refused, nothing changed
    ctl.fails("document", "validate", doc, "--expires", "2001-01-01",
              want="is not in the future")
    ctl.fails("document", "validate", doc, "--expires", today,
              want="is not in the future")
    ctl.fails("document", "validate", doc, "--expires", beyond,
              want="is more than 3 years ahead")
    ctl.fails("document", "validate", doc, "--days", 1200,
              want="is more than 3 years ahead")
    ctl.fails("document", "validate", doc, "--expires", "2030-02-30",
              want="not a date")
    assert snapshot(stack) == before
    assert ctl.json("document", "list", "--org", org)[0]["status"] == \
        "PENDING"
    # the farthest date: stored with the status, audited
    old = sql(stack, "SELECT rfc3339(expires_at) FROM document WHERE id = %d"
              % doc)
    d = ctl.json("document", "validate", doc, "--expires", most)
    assert (d["from"], d["status"]) == ("PENDING", "VALID"), d
    assert d["expires_at"] == most + "T00:00:00Z", d
    assert sql(stack, "SELECT status || ' ' || rfc3339(expires_at) || ' ' "
               "|| decided_by FROM document WHERE id = %d" % doc) == \
        "VALID %sT00:00:00Z pytest" % most
    assert audit(stack, "document", doc) == [
        ("pytest", "create"), ("pytest", "validate"), ("pytest", "expiry")]
    detail = json.loads(sql(stack, "SELECT detail FROM audit_log WHERE "
                            "object_type = 'document' AND object_id = '%s' "
                            "AND action = 'expiry'" % doc))
    assert detail == {"organization": org,
                      "expires_at": most + "T00:00:00Z",
                      "previous": old}, detail
    # --days N: N days from today (UTC); tomorrow is the nearest
    doc2 = ctl.json("document", "add", "--org", org, "--kind",
                    "REQUEST_FORM")["id"]
    f = fields(ctl.ok("document", "validate", doc2, "--days", 1))
    assert f["status"] == "VALID"
    assert sql(stack, "SELECT expires_at = ((now() AT TIME ZONE 'UTC')"
               "::date + 1)::timestamp AT TIME ZONE 'UTC' FROM document "
               "WHERE id = %d" % doc2) == "t"
    assert [x for _, x in audit(stack, "document", doc2)] == \
        ["create", "validate", "expiry"]


def test_document_expire_puts_external_accounts_pending(stack, ctl):
    org, xa = ready_external_account(ctl)
    assert ctl.json("external-account", "show", xa)["status"] == "VALID"
    docs = ctl.json("document", "list", "--org", org)
    proof = [x for x in docs if x["kind"] == "ORGANIZATION_PROOF"][0]
    d = ctl.json("document", "expire", proof["id"])
    assert d["external_accounts_pending"] == [xa]
    assert ctl.json("external-account", "show", xa)["status"] == "PENDING"
    assert ("pytest", "pending") in audit(stack, "external_account", xa)
    # activation needs the documents again
    ctl.fails("external-account", "activate", xa,
              want="no VALID ORGANIZATION_PROOF document")
    new = ctl.json("document", "add", "--org", org, "--kind",
                   "ORGANIZATION_PROOF", "--days", 10)["id"]
    ctl.ok("document", "validate", new, "--days", 10)
    ctl.ok("external-account", "activate", xa)
    assert ctl.json("external-account", "show", xa)["status"] == "VALID"


def test_documents_expire_function_puts_external_accounts_pending(stack,
                                                                  ctl):
    """The worker's documents_expire() does the same for a past date."""
    org, xa = ready_external_account(ctl)
    form = [x for x in ctl.json("document", "list", "--org", org)
            if x["kind"] == "REQUEST_FORM"][0]["id"]
    sql(stack, "UPDATE document SET expires_at = now() - interval '1 second'"
        " WHERE id = %d" % form)
    sql(stack, "SELECT documents_expire()")
    assert ctl.json("external-account", "show", xa)["status"] == "PENDING"
    docs = {x["id"]: x["status"]
            for x in ctl.json("document", "list", "--org", org)}
    assert docs[form] == "EXPIRED"


# ------------------------------------------------------ external accounts

def test_external_accounts(stack, ctl):
    org = ready_org(ctl)
    f = fields(ctl.ok("external-account", "create", "--org", org, "--email",
                      "certs@example.com", "--language", "fr", "--expires",
                      "2099-01-01"))
    xa = int(f["id"])
    assert f["status"] == "PENDING" and f["language"] == "fr"
    assert f["expires_at"] == "2099-01-01T00:00:00Z"
    steps = [("activate", "PENDING", "VALID"),
             ("suspend", "VALID", "SUSPENDED"),
             ("reactivate", "SUSPENDED", "VALID"),
             ("deactivate", "VALID", "DEACTIVATED"),
             ("revoke", "DEACTIVATED", "REVOKED")]
    for action, frm, to in steps:
        d = ctl.json("external-account", action, xa)
        assert (d["from"], d["status"]) == (frm, to), d
    assert [a for _, a in audit(stack, "external_account", xa)] == \
        ["create"] + [s[0] for s in steps]
    other = ctl.json("external-account", "create", "--org", org, "--email",
                     "b@example.com", "--days", 30)
    assert other["language"] == "en" and other["expires_at"] is not None
    lst = ctl.json("external-account", "list", "--org", org)
    assert [(x["id"], x["status"]) for x in lst] == [
        (xa, "REVOKED"), (other["id"], "PENDING")]
    assert any(x["id"] == xa for x in ctl.json("external-account", "list"))
    assert "certs@example.com" in ctl.ok("external-account", "list",
                                         "--org", org)
    show = ctl.json("external-account", "show", xa)
    assert show["organization"] == org and show["acme_accounts"] == []
    assert "email: certs@example.com" in ctl.ok("external-account", "show",
                                                xa)
    before = snapshot(stack)
    for action in ("activate", "suspend", "reactivate", "deactivate",
                   "revoke"):
        ctl.fails("external-account", action, xa, want="it is REVOKED")
    assert snapshot(stack) == before


def test_external_account_activation_needs_a_valid_organization(stack, ctl):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    xa = ctl.json("external-account", "create", "--org", org, "--email",
                  "a@example.com")["id"]
    before = snapshot(stack)
    ctl.fails("external-account", "activate", xa,
              want="organization %d is PENDING" % org)
    ctl.fails("external-account", "reactivate", xa,
              want="reactivate applies to SUSPENDED only")
    assert snapshot(stack) == before


@pytest.mark.parametrize("extra,want", [
    (("--email", "not-an-address"), "not an e-mail address"),
    (("--email", "a@b.example", "--language", "de"), "not a supported "
     "language"),
    (("--email", "a@b.example", "--expires", "2000-01-01"),
     "not in the future"),
    (("--email", "a@b.example", "--days", "-1"), "number of days"),
])
def test_external_account_refusals(stack, ctl, extra, want):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR")["id"]
    before = snapshot(stack)
    ctl.fails("external-account", "create", "--org", org, *extra, want=want)
    ctl.fails("external-account", "show", 999999999,
              want="no external account")
    ctl.fails("external-account", "list", "--org", 999999999,
              want="no organization")
    assert snapshot(stack) == before


# ---------------------------------------------------------- ACME accounts

def test_acme_account_create_credential(stack, ctl):
    org, xa = ready_external_account(ctl)
    out = ctl.ok("acme-account", "create", "--external-account", xa,
                 "--domain", "WWW.Example.net", "--domain", "example.net")
    lines = out.splitlines()
    assert lines[0].startswith("kid: ") and lines[1].startswith("hmac_key: ")
    kid, key = lines[0][5:], lines[1][10:]
    assert KID_RE.match(kid) and HMAC_RE.match(key)
    f = fields(out)
    assert f["status"] == "VALID" and f["profile"] == "OV"
    assert f["domains"] == "example.net, www.example.net"
    d = ctl.json("acme-account", "create", "--external-account", xa,
                 "--profile", "RGS", "--days", 10, "--key-days", 2,
                 "--domain", "*.example.net")
    assert KID_RE.match(d["kid"]) and HMAC_RE.match(d["hmac_key"])
    assert d["profile"] == "RGS" and d["domains"] == ["*.example.net"]
    assert sql(stack, "SELECT hmac_key FROM acme_account WHERE kid = '%s'"
               % d["kid"]) == d["hmac_key"]
    assert sql(stack, "SELECT (expires_at - now() BETWEEN interval '9 days' "
               "AND interval '10 days') AND (key_expires_at - now() BETWEEN "
               "interval '1 day' AND interval '2 days') FROM acme_account "
               "WHERE kid = '%s'" % d["kid"]) == "t"
    show = ctl.json("acme-account", "show", kid)
    assert show["status"] == "VALID" and show["problem"] is None
    assert show["external_account"] == xa and show["organization"] == org
    assert [(x["name"], x["status"]) for x in show["domains"]] == [
        ("example.net", "PENDING"), ("www.example.net", "PENDING")]
    assert "kid: %s" % kid in ctl.ok("acme-account", "show", kid)
    assert "hmac_key" not in json.dumps(show)
    lst = ctl.json("acme-account", "list", "--external-account", xa)
    assert [x["kid"] for x in lst] == [kid, d["kid"]]
    assert kid in ctl.ok("acme-account", "list")
    assert [a for _, a in audit(stack, "acme_account", kid)] == \
        ["create", "add-domain", "add-domain"]


def test_acme_account_transitions(stack, ctl):
    _, xa = ready_external_account(ctl)
    kid = ctl.json("acme-account", "create", "--external-account", xa)["kid"]
    for action, frm, to in [("suspend", "VALID", "SUSPENDED"),
                            ("reactivate", "SUSPENDED", "VALID"),
                            ("deactivate", "VALID", "DEACTIVATED")]:
        d = ctl.json("acme-account", action, kid)
        assert (d["from"], d["status"]) == (frm, to)
    assert ctl.json("acme-account", "show", kid)["problem"] == \
        "DEACTIVATED_ACCOUNT"
    before = snapshot(stack)
    ctl.fails("acme-account", "activate", kid,
              want="activate applies to PENDING only")
    ctl.fails("acme-account", "suspend", kid, want="it is DEACTIVATED")
    assert snapshot(stack) == before
    assert fields(ctl.ok("acme-account", "revoke", kid))["status"] == \
        "REVOKED"
    ctl.fails("acme-account", "regenerate-key", kid, want="it is REVOKED")
    pending = ctl.json("acme-account", "create", "--external-account",
                       xa)["kid"]
    sql(stack, "UPDATE acme_account SET status = 'PENDING' WHERE kid = '%s'"
        % pending)
    assert ctl.json("acme-account", "activate", pending)["status"] == "VALID"


@pytest.mark.parametrize("extra,want", [
    (("--profile", "EV"), "no profile EV"),
    (("--days", "0"), "number of days"),
    (("--key-days", "40", "--days", "30"), "within 1 to 30 days"),
    (("--domain", "*.example.org"), "wildcard entry needs a profile"),
    (("--domain", "localhost"), "not a fully qualified"),
    (("--domain", "192.0.2.1"), "IP address"),
])
def test_acme_account_create_refusals(stack, ctl, extra, want):
    _, xa = ready_external_account(ctl)
    before = snapshot(stack)
    ctl.fails("acme-account", "create", "--external-account", xa, *extra,
              want=want)
    assert snapshot(stack) == before


def test_acme_account_refusals(stack, ctl):
    org = ready_org(ctl)
    xa = ctl.json("external-account", "create", "--org", org, "--email",
                  "r@example.com")["id"]
    ctl.ok("external-account", "revoke", xa)
    before = snapshot(stack)
    ctl.fails("acme-account", "create", "--external-account", xa,
              want="external account %d is REVOKED" % xa)
    ctl.fails("acme-account", "create", "--external-account", 999999999,
              want="no external account")
    missing = str(uuid.uuid4())
    ctl.fails("acme-account", "show", missing, want="no ACME account")
    ctl.fails("acme-account", "suspend", missing, want="no ACME account")
    ctl.fails("acme-account", "regenerate-key", missing,
              want="no ACME account")
    ctl.fails("acme-account", "show", "not-a-uuid", want="not a kid")
    ctl.fails("acme-account", "list", "--external-account", 999999999,
              want="no external account")
    assert snapshot(stack) == before


def bind(stack, kid, key, thumbprint):
    """Bind an RFC 8555 account to the credential as acme-fcgi does
    (account_bind); return its id or None."""
    out = sql(stack, "SELECT account_bind('%s', '%s', '{\"kty\":\"EC\"}', "
              "'%s', '[]')" % (kid, key, thumbprint))
    return int(out) if out else None


def test_regenerate_key(stack, ctl):
    _, xa = ready_external_account(ctl)
    d = ctl.json("acme-account", "create", "--external-account", xa,
                 "--days", 5)
    kid, key = d["kid"], d["hmac_key"]
    acct = bind(stack, kid, key, uniq("thumb"))
    assert acct is not None
    show = ctl.json("acme-account", "show", kid)
    assert show["key_unused"] is False and show["bound_at"] is not None
    assert [(x["id"], x["status"]) for x in show["accounts"]] == [
        (acct, "valid")]
    out = ctl.ok("acme-account", "regenerate-key", kid, "--key-days", 3)
    lines = out.splitlines()
    assert lines[0] == "kid: %s" % kid
    assert lines[1].startswith("hmac_key: ")
    new = lines[1][10:]
    assert HMAC_RE.match(new) and new != key
    show = ctl.json("acme-account", "show", kid)
    assert show["key_unused"] is True and show["bound_at"] is None
    assert show["status"] == "VALID"
    assert [(x["id"], x["status"]) for x in show["accounts"]] == [
        (acct, "deactivated")]
    assert sql(stack, "SELECT expires_at > now() + interval '364 days' AND "
               "key_expires_at < now() + interval '3 days' FROM acme_account "
               "WHERE kid = '%s'" % kid) == "t"
    # the old key binds nothing; the new one binds a new account
    assert bind(stack, kid, key, uniq("thumb")) is None
    again = bind(stack, kid, new, uniq("thumb"))
    assert again is not None and again != acct
    d2 = ctl.json("acme-account", "regenerate-key", kid)
    assert d2["deactivated_accounts"] == [again]
    assert HMAC_RE.match(d2["hmac_key"]) and d2["hmac_key"] != new
    assert [a for _, a in audit(stack, "acme_account", kid)] == \
        ["create", "regenerate-key", "regenerate-key"]
    ctl.ok("acme-account", "suspend", kid)
    before = snapshot(stack)
    ctl.fails("acme-account", "regenerate-key", kid, want="it is SUSPENDED")
    assert snapshot(stack) == before


# ----------------------------------------------------------------- domains

def test_domains(stack, ctl):
    org, xa = ready_external_account(ctl)
    kid = ctl.json("acme-account", "create", "--external-account", xa)["kid"]
    d = ctl.json("domain", "add", "--acme-account", kid, "--name",
                 "Shop.Example.ORG")
    assert d == {"acme_account": kid, "name": "shop.example.org",
                 "organization": org, "status": "PENDING", "added": True}
    f = fields(ctl.ok("domain", "add", "--acme-account", kid, "--name",
                      "api.example.org", "--validated"))
    assert f["status"] == "VALID" and f["added"] == "true"
    again = ctl.json("domain", "add", "--acme-account", kid, "--name",
                     "shop.example.org")
    assert again["added"] is False and again["status"] == "PENDING"
    other = ready_org(ctl)
    x = ctl.json("domain", "add", "--acme-account", kid, "--name",
                 "other.example", "--org", other)
    assert x["organization"] == other
    v = ctl.json("domain", "validate", "--org", org, "shop.example.org")
    assert (v["from"], v["status"]) == ("PENDING", "VALID")
    lst = ctl.json("domain", "list", "--acme-account", kid)
    assert [(x["name"], x["status"]) for x in lst] == [
        ("api.example.org", "VALID"), ("other.example", "PENDING"),
        ("shop.example.org", "VALID")]
    assert lst[2]["validated_at"] is not None
    by_org = ctl.json("domain", "list", "--org", org)
    assert [x["name"] for x in by_org] == ["api.example.org",
                                           "shop.example.org"]
    assert "shop.example.org" in ctl.ok("domain", "list", "--org", org)
    r = fields(ctl.ok("domain", "revoke", "--org", org, "api.example.org"))
    assert r["status"] == "REVOKED"
    rm = ctl.json("domain", "remove", "--acme-account", kid, "--name",
                  "other.example")
    assert rm["removed"] is True
    assert [x["name"] for x in ctl.json("domain", "list", "--acme-account",
                                        kid)] == ["api.example.org",
                                                  "shop.example.org"]
    assert [x["name"] for x in ctl.json("domain", "list", "--org", other)] \
        == ["other.example"]
    assert [a for _, a in audit(stack, "acme_account", kid)] == [
        "create", "add-domain", "add-domain", "add-domain", "remove-domain"]
    dom = sql(stack, "SELECT id FROM domain WHERE organization_id = %d AND "
              "name = 'api.example.org'" % org)
    assert [a for _, a in audit(stack, "domain", dom)] == ["create", "revoke"]
    # the policy sees the statuses
    problems = sql(stack, "SELECT string_agg(code || ' ' || identifier, ',' "
                   "ORDER BY identifier) FROM order_policy((SELECT id FROM "
                   "acme_account WHERE kid = '%s'), '{www.shop.example.org,"
                   "api.example.org,www.nowhere.example}', NULL)" % kid)
    assert problems == ("UNAUTHORIZED_DOMAIN api.example.org,"
                        "DOMAIN_NOT_FOUND www.nowhere.example")
    before = snapshot(stack)
    ctl.fails("domain", "add", "--acme-account", kid, "--name",
              "api.example.org", want="is REVOKED")
    ctl.fails("domain", "validate", "--org", org, "api.example.org",
              want="it is REVOKED")
    ctl.fails("domain", "validate", "--org", org, "shop.example.org",
              want="it is VALID")
    ctl.fails("domain", "validate", "--org", org, "nosuch.example.org",
              want="has no domain nosuch.example.org")
    ctl.fails("domain", "remove", "--acme-account", kid, "--name",
              "other.example", want="not in the domain list")
    ctl.fails("domain", "add", "--acme-account", kid, "--name", "x_y.example",
              want="not a valid domain name")
    ctl.fails("domain", "add", "--acme-account", kid, "--name",
              "*.example.org", want="wildcard")
    ctl.fails("domain", "add", "--acme-account", kid, "--name",
              "a.example.org", "--org", 999999999, want="no organization")
    ctl.fails("domain", "add", "--acme-account", str(uuid.uuid4()), "--name",
              "a.example.org", want="no ACME account")
    ctl.fails("domain", "list", "--org", 999999999, want="no organization")
    assert snapshot(stack) == before


def test_rgs_wildcard_domain(stack, ctl):
    _, xa = ready_external_account(ctl)
    kid = ctl.json("acme-account", "create", "--external-account", xa,
                   "--profile", "RGS")["kid"]
    d = ctl.json("domain", "add", "--acme-account", kid, "--name",
                 "*.rgs.example", "--validated")
    assert d["name"] == "*.rgs.example" and d["status"] == "VALID"


# ------------------------------------------------------------------ credit

def test_credit_ledger_invariant(stack, ctl):
    org = ready_org(ctl)
    f = fields(ctl.ok("credit", "add", "--org", org, "--amount", 100,
                      "--reason", "purchase order 42"))
    assert f["balance"] == "100" and f["reason"] == "purchase order 42"
    for amount, balance in ((25, 125), (-30, 95), (-95, 0), (10, 10)):
        d = ctl.json("credit", "add", "--org", org, "--amount", amount)
        assert d["delta"] == amount and d["balance"] == balance
    before = snapshot(stack)
    ctl.fails("credit", "add", "--org", org, "--amount", -11,
              want="balance of 10: a debit of 11 would take it below zero")
    ctl.fails("credit", "add", "--org", org, "--amount", 0,
              want="must not be zero")
    ctl.fails("credit", "add", "--org", org, "--amount", "ten",
              want="not an integer")
    ctl.fails("credit", "add", "--org", org, "--amount", "99999999999",
              want="not an integer")
    ctl.fails("credit", "add", "--org", 999999999, "--amount", 5,
              want="no organization")
    ctl.fails("credit", "ledger", "--org", 999999999, want="no organization")
    assert snapshot(stack) == before
    # the database refuses it too, whoever asks
    with pytest.raises(stackmod.StackError):
        sql(stack, "INSERT INTO credit_ledger (organization_id, delta, "
            "balance_after, reason, actor) VALUES (%d, -11, 0, 'x', 'y')"
            % org)
    ledger = ctl.json("credit", "ledger", "--org", org)
    assert ledger["balance"] == 10 and ledger["ledger_sum"] == 10
    assert [x["delta"] for x in ledger["entries"]] == [100, 25, -30, -95, 10]
    assert [x["balance_after"] for x in ledger["entries"]] == [
        100, 125, 95, 0, 10]
    assert all(x["actor"] == "pytest" for x in ledger["entries"])
    assert sql(stack, "SELECT g.credit_balance = (SELECT sum(delta) FROM "
               "credit_ledger WHERE organization_id = g.id) FROM "
               "organization g WHERE g.id = %d" % org) == "t"
    assert sql(stack, "SELECT count(*) FROM organization g WHERE "
               "g.credit_balance <> coalesce((SELECT sum(delta) FROM "
               "credit_ledger l WHERE l.organization_id = g.id), 0)") == "0"
    text = ctl.ok("credit", "ledger", "--org", org)
    assert "balance: 10" in text and "purchase order 42" in text
    assert [a for _, a in audit(stack, "organization", org)].count(
        "credit") == 5


# ------------------------------------------------------------ certificates

def test_certificates(stack, ctl):
    _, xa = ready_external_account(ctl)
    d = ctl.json("acme-account", "create", "--external-account", xa,
                 "--domain", "cert.example")
    acct = bind(stack, d["kid"], d["hmac_key"], uniq("thumb"))
    order, cert = uniq("ord"), uniq("crt")
    serial = uuid.uuid4().hex
    org = ctl.json("acme-account", "show", d["kid"])["organization"]
    # a row as the worker writes it: the order's reserved serial, and the
    # certificate's debit (after a credit), so the suite's invariants hold
    sql(stack, "INSERT INTO orders (id, account_id, status, identifiers, "
        "names, expires_at, serial) VALUES ('%s', %d, 'valid', '[]', "
        "'{www.cert.example}', now() + interval '1 day', '%s')" % (
            order, acct, serial))
    sql(stack, "INSERT INTO credit_ledger (organization_id, delta, "
        "balance_after, reason, actor) VALUES (%s, 1, 0, 'test', 'test')"
        % org)
    sql(stack, "INSERT INTO credit_ledger (organization_id, delta, "
        "balance_after, reason, order_id, actor) VALUES (%s, -1, 0, "
        "'certificate', '%s', 'test')" % (org, order))
    sql(stack, "INSERT INTO certificate (id, order_id, account_id, serial, "
        "names, not_before, not_after, der, pem_chain) VALUES ('%s', '%s', "
        "%d, '%s', '{www.cert.example}', now(), now() + interval '90 days', "
        "'\\x00', '')" % (cert, order, acct, serial))
    for args in (("--org", org), ("--acme-account", d["kid"])):
        lst = ctl.json("certificate", "list", *args)
        assert [(x["id"], x["serial"], x["revoked"]) for x in lst] == [
            (cert, serial, False)]
    assert any(x["id"] == cert for x in ctl.json("certificate", "list"))
    assert serial in ctl.ok("certificate", "list", "--org", org)
    by_id = ctl.json("certificate", "show", cert)
    assert by_id["serial"] == serial and by_id["order"] == order
    assert by_id["names"] == ["www.cert.example"]
    assert by_id["acme_account"] == d["kid"] and by_id["organization"] == org
    assert by_id["revoked"] is False and by_id["revoked_at"] is None
    assert ctl.json("certificate", "show", serial.upper())["id"] == cert
    sql(stack, "UPDATE certificate SET revoked_at = now(), "
        "revocation_reason = 1 WHERE id = '%s'" % cert)
    f = fields(ctl.ok("certificate", "show", serial))
    assert f["revoked"] == "true" and f["revocation_reason"] == "1"
    assert f["names"] == "www.cert.example"
    before = snapshot(stack)
    ctl.fails("certificate", "show", "nosuch", want="no certificate")
    ctl.fails("certificate", "list", "--org", 999999999,
              want="no organization")
    ctl.fails("certificate", "list", "--acme-account", str(uuid.uuid4()),
              want="no ACME account")
    assert snapshot(stack) == before


# ------------------------------------------------------------------- audit

def test_audit_actor(stack, ctl):
    org = ctl.json("organization", "create", "--name", uniq(), "--country",
                   "FR", "--actor", "alice")["id"]
    ctl.ok("--actor", "bob", "organization", "validate", org)
    ctl.ok("organization", "suspend", org, env={"SUDO_USER": "carol"})
    ctl.ok("organization", "reinstate", org,
           env={"SUDO_USER": "", "USER": "dave"})
    ctl.ok("organization", "expire", org, env={"USER": ""})
    assert audit(stack, "organization", org) == [
        ("alice", "create"), ("bob", "validate"), ("carol", "suspend"),
        ("dave", "reinstate"), ("operator", "expire")]
    detail = json.loads(sql(stack, "SELECT detail FROM audit_log WHERE "
                            "object_type = 'organization' AND object_id = "
                            "'%d' AND action = 'suspend'" % org))
    assert detail == {"from": "VALID", "to": "SUSPENDED"}


def test_reads_write_no_audit(stack, ctl):
    org = ready_org(ctl)
    before = snapshot(stack)
    ctl.ok("organization", "list")
    ctl.ok("organization", "show", org)
    ctl.ok("document", "list", "--org", org)
    ctl.ok("external-account", "list")
    ctl.ok("credit", "ledger", "--org", org)
    ctl.ok("domain", "list", "--org", org)
    ctl.ok("certificate", "list")
    assert snapshot(stack) == before


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "UPDATE credit_ledger SET delta = 1000000",
    "DELETE FROM credit_ledger",
])
def test_audit_and_ledger_are_append_only(stack, ctl, statement):
    org = ready_org(ctl)
    ctl.ok("credit", "add", "--org", org, "--amount", 5)
    before = snapshot(stack)
    with pytest.raises(stackmod.StackError) as e:
        sql(stack, statement)
    assert "append-only" in str(e.value)
    assert snapshot(stack) == before
