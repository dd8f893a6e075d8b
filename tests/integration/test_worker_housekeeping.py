"""acme-worker's housekeeping purges what the web site leaves behind
(web_housekeeping, sql/010_web.sql): sessions past their lifetime or idle
longer than web_session_idle, one-time tokens expired or used more than a
day ago, and sign-in failures older than a day; the live ones stay.

Rows are written by hand, then the worker is restarted: it runs its
housekeeping when it starts (and every housekeeping_interval).
"""

import os
import re
import time
import uuid

WEB_SESSION_IDLE_DEFAULT = 3600     # common/config.c


def web_session_idle(stack):
    """The stack's web_session_idle (the default when it sets none)."""
    with open(stack.conf) as f:
        m = re.search(r"^\s*web_session_idle\s*=\s*(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else WEB_SESSION_IDLE_DEFAULT


def sql(stack, query):
    return stack.psql(query).strip()


def test_worker_start_purges_ended_web_rows(stack):
    stack.mint_eab()        # an external account of the demo organization
    xa = int(sql(stack, "SELECT min(id) FROM external_account"))
    tag = uuid.uuid4().hex[:12]
    idle = web_session_idle(stack)
    # (label, expires_at, last_seen_at, purged?)
    sessions = [
        ("ended", "now() - interval '1 minute'", "now()", True),
        ("live", "now() + interval '1 day'", "now()", False),
    ]
    if idle + 600 < 86400:
        # idle longer than web_session_idle, but less than the function's
        # default (a day): purged only if the configured value is used
        sessions.append(("idle", "now() + interval '1 day'",
                         "now() - make_interval(secs => %d)" % (idle + 600),
                         True))
    for label, expires, seen, _ in sessions:
        sql(stack, "INSERT INTO web_session (token_hash, kind, "
            "external_account_id, csrf, expires_at, last_seen_at) VALUES "
            "(sha256('%s-%s'::bytea), 'customer', %d, 'csrf-%s', %s, %s)"
            % (tag, label, xa, tag, expires, seen))
    # (label, expires_at, used_at, purged?)
    tokens = [
        ("expired", "now() - interval '2 days'", "NULL", True),
        ("used", "now() + interval '1 hour'",
         "now() - interval '2 days'", True),
        ("live", "now() + interval '1 hour'", "NULL", False),
    ]
    for label, expires, used, _ in tokens:
        sql(stack, "INSERT INTO web_token (token_hash, purpose, "
            "external_account_id, expires_at, used_at) VALUES "
            "(sha256('%s-token-%s'::bytea), 'reset', %d, %s, %s)"
            % (tag, label, xa, expires, used))
    failures = [("old", "now() - interval '2 days'", True),
                ("recent", "now()", False)]
    for label, at, _ in failures:
        sql(stack, "INSERT INTO web_login_failure (subject, at) VALUES "
            "('hk-%s-%s', %s)" % (tag, label, at))

    def left():
        s = sql(stack, "SELECT string_agg(l, ',' ORDER BY l) FROM ("
                "SELECT 'session-' || x.l AS l FROM web_session s, "
                "unnest(ARRAY[%s]) x(l) WHERE s.token_hash = "
                "sha256(('%s-' || x.l)::bytea) "
                "UNION ALL SELECT 'token-' || x.l FROM web_token t, "
                "unnest(ARRAY[%s]) x(l) WHERE t.token_hash = "
                "sha256(('%s-token-' || x.l)::bytea) "
                "UNION ALL SELECT 'failure-' || split_part(subject, '-', 3) "
                "FROM web_login_failure WHERE subject LIKE 'hk-%s-%%') q"
                % (",".join("'%s'" % x[0] for x in sessions), tag,
                   ",".join("'%s'" % x[0] for x in tokens), tag, tag))
        return set(s.split(",")) if s else set()

    every = {"session-" + x[0] for x in sessions} | \
        {"token-" + x[0] for x in tokens} | \
        {"failure-" + x[0] for x in failures}
    kept = {"session-" + x[0] for x in sessions if not x[3]} | \
        {"token-" + x[0] for x in tokens if not x[3]} | \
        {"failure-" + x[0] for x in failures if not x[2]}
    assert left() == every, "the rows written by hand: got %s, want %s" % (
        sorted(left()), sorted(every))

    with open(stack.log("acme-worker"), "rb") as f:
        offset = f.seek(0, os.SEEK_END)
    stack.restart_worker()
    deadline = time.monotonic() + 30
    while left() != kept and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left() == kept, "after the worker's start: got %s, want %s" % (
        sorted(left()), sorted(kept))
    with open(stack.log("acme-worker"), "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    assert "sql: SELECT web_housekeeping(" in text, text[-3000:]
    sql(stack, "DELETE FROM web_session WHERE csrf = 'csrf-%s'" % tag)
    sql(stack, "DELETE FROM web_token WHERE external_account_id = %d AND "
        "token_hash = sha256('%s-token-live'::bytea)" % (xa, tag))
    sql(stack, "DELETE FROM web_login_failure WHERE subject LIKE 'hk-%s-%%'"
        % tag)
