-- 007_notifications: e-mail to the contact of external accounts (the
-- customer's administrator account: external_account.email, in its
-- language), through an outbox.
--
-- Four kinds of message, each a digest per external account made by the
-- daily run: certificates issued, documents still missing, documents
-- about to expire, certificates about to expire without a renewal.
-- The daily run is elected through the database (notification_run,
-- UNIQUE (job, period)) and writes its messages (outbox) and the items
-- they announce (notification_notice) in the transaction that records
-- the run, so each item is announced once whichever worker runs it. The
-- workers then deliver the outbox over SMTP, claiming one message at a
-- time with FOR UPDATE SKIP LOCKED under a lease.

CREATE TABLE notification_run (
	id		bigserial PRIMARY KEY,
	job		text NOT NULL CHECK (job IN ('daily', 'manual')),
	period		text NOT NULL,
	actor		text NOT NULL,
	started_at	timestamptz NOT NULL DEFAULT now(),
	messages	integer NOT NULL DEFAULT 0,
	UNIQUE (job, period)
);
COMMENT ON TABLE notification_run IS
    'Runs of the notification digests. job daily: the scheduled run, one per '
    'period (the UTC date), elected by this UNIQUE constraint among all '
    'workers; job manual: acmectl notify run-daily, each with a period of '
    'its own. messages: how many the run queued.';

CREATE TABLE outbox (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('certificates_issued',
			    'missing_documents', 'expiring_documents',
			    'expiring_certificates')),
	external_account_id bigint REFERENCES external_account(id),
	recipient	text NOT NULL CHECK (recipient ~ '^[^@\s<>]+@[^@\s<>]+$'),
	language	text NOT NULL CHECK (language IN ('en', 'fr')),
	subject		text NOT NULL,
	body		text NOT NULL,
	data		jsonb NOT NULL DEFAULT '{}',
	message_token	uuid NOT NULL DEFAULT gen_random_uuid(),
	dedup_key	text UNIQUE,
	run_id		bigint REFERENCES notification_run(id),
	resent_from	bigint REFERENCES outbox(id),
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'sent', 'failed')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	lease_until	timestamptz,
	last_error	text,
	sent_at		timestamptz,
	CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_account ON outbox (external_account_id, kind, created_at);
COMMENT ON TABLE outbox IS
    'Every e-mail the service sends: written in the transaction of the run '
    'that causes it, delivered by a worker over SMTP. pending: waiting for '
    'its next attempt (next_attempt_at; attempts so far; last_error); sent: '
    'the SMTP server accepted it (sent_at); failed: refused for good or out '
    'of attempts (acmectl outbox resend puts it back).';
COMMENT ON COLUMN outbox.data IS
    'What the templates were given to make subject and body.';
COMMENT ON COLUMN outbox.message_token IS
    'Left part of the Message-ID, the same for every attempt.';
COMMENT ON COLUMN outbox.dedup_key IS
    'kind:external account:period of a run''s message: one per run and '
    'recipient and kind; NULL for a resent copy.';
COMMENT ON COLUMN outbox.lease_until IS
    'Set while a worker delivers the message; another worker takes it over '
    'only once the lease is past.';

CREATE TABLE notification_notice (
	kind		text NOT NULL CHECK (kind IN ('certificate_issued',
			    'document_expiring', 'certificate_expiring')),
	object_id	text NOT NULL,
	stage		integer NOT NULL,
	external_account_id bigint NOT NULL REFERENCES external_account(id),
	run_id		bigint REFERENCES notification_run(id),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (kind, object_id, stage, external_account_id)
);
COMMENT ON TABLE notification_notice IS
    'Items already announced to an external account, so that each is '
    'announced once: a certificate issued (stage 0), a document or a '
    'certificate reaching a warning lead time (stage: the lead time in '
    'days). run_id NULL: recorded when this migration ran. Each run '
    'drops the notices that can no longer matter (the item is past its '
    'window or its expiry).';

-- Certificates issued in the week before this migration count as
-- announced: the first run lists only those issued after it.
INSERT INTO notification_notice (kind, object_id, stage, external_account_id)
	SELECT 'certificate_issued', c.id, 0, e.external_account_id
	FROM certificate c JOIN account a ON a.id = c.account_id
	JOIN acme_account e ON e.id = a.acme_account_id
	WHERE c.created_at > now() - interval '7 days'
	AND e.external_account_id IS NOT NULL;
CREATE INDEX certificate_created ON certificate (created_at);
CREATE INDEX certificate_expiry ON certificate (not_after)
	WHERE revoked_at IS NULL;

CREATE TABLE notification_label (
	language	text NOT NULL CHECK (language IN ('en', 'fr')),
	name		text NOT NULL,
	label		text NOT NULL,
	PRIMARY KEY (language, name)
);
COMMENT ON TABLE notification_label IS
    'Words the messages use for document kinds and document states, per '
    'language; operators may reword them.';
INSERT INTO notification_label VALUES
	('en', 'ORGANIZATION_PROOF',
	    'proof of the organization''s existence (e.g. K-bis extract)'),
	('en', 'REQUEST_FORM', 'signed certificate request form'),
	('en', 'MANAGER_AUTHORIZATION',
	    'authorization of the certificate manager'),
	('en', 'DOMAIN_AUTHORIZATION', 'domain name authorization'),
	('en', 'state:MISSING', 'not received'),
	('en', 'state:PENDING', 'received, being checked'),
	('en', 'state:REJECTED', 'rejected: please send a new one'),
	('en', 'state:EXPIRED', 'expired: please send a new one'),
	('fr', 'ORGANIZATION_PROOF',
	    'justificatif d''existence de l''organisation (extrait K-bis...)'),
	('fr', 'REQUEST_FORM', 'formulaire de demande de certificat signé'),
	('fr', 'MANAGER_AUTHORIZATION',
	    'autorisation du gestionnaire de certificats'),
	('fr', 'DOMAIN_AUTHORIZATION', 'autorisation du nom de domaine'),
	('fr', 'state:MISSING', 'non reçu'),
	('fr', 'state:PENDING', 'reçu, en cours de vérification'),
	('fr', 'state:REJECTED', 'refusé : merci d''en envoyer un nouveau'),
	('fr', 'state:EXPIRED', 'expiré : merci d''en envoyer un nouveau');

-- The label of a name in a language (the name itself if none).
CREATE FUNCTION notification_label_of(p_language text, p_name text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT label FROM notification_label
	    WHERE language = p_language AND name = p_name), p_name)
$$;

-- A date as the messages show it: "2026-03-15 06:00 UTC" in English,
-- "15/03/2026 06:00 UTC" in French.
CREATE FUNCTION notification_date(p_t timestamptz, p_language text)
RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p_t AT TIME ZONE 'UTC', CASE p_language
	    WHEN 'fr' THEN 'DD/MM/YYYY HH24:MI "UTC"'
	    ELSE 'YYYY-MM-DD HH24:MI "UTC"' END)
$$;

-- Whole days left until p_t (rounded up).
CREATE FUNCTION notification_days_left(p_t timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT greatest(0, ceil(extract(epoch FROM p_t - now()) / 86400))::integer
$$;

-- Returns true if mail may go to this address: one the outbox takes (a
-- message it would refuse would fail the whole run), and not of the
-- reserved .invalid domain (RFC 2606) that accounts made before external
-- accounts had addresses carry.
CREATE FUNCTION notification_address_ok(p_email text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_email ~ '^[^@\s<>]+@[^@\s<>]+$'
	    AND p_email !~* '(@|\.)invalid$'
$$;

-- Starts a run of the digests and elects it: p_job 'daily' is the
-- scheduled run of the current UTC date, due from p_hour (UTC) on, once
-- per date among all workers; 'manual' is an extra run now. Runs are
-- serialized by an advisory lock, which p_wait false only tries (a worker
-- never waits for another's run). Returns the run's id and period, or no
-- row when nothing is to run (not due, already run, or another run in
-- progress). The caller keeps the transaction open until notify_enqueue.
CREATE FUNCTION notification_run_start(p_job text, p_actor text,
    p_hour integer, p_wait boolean)
RETURNS TABLE (run_id bigint, run_period text)
LANGUAGE plpgsql AS $$
DECLARE
	v_period text;
BEGIN
	IF p_wait THEN
		PERFORM pg_advisory_xact_lock(hashtext('acme notification run'));
	ELSIF NOT pg_try_advisory_xact_lock(hashtext('acme notification run'))
	THEN
		RETURN;
	END IF;
	IF p_job = 'daily' THEN
		IF p_hour IS NULL OR p_hour < 0 OR
		    extract(hour FROM now() AT TIME ZONE 'UTC') < p_hour THEN
			RETURN;
		END IF;
		v_period := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD');
	ELSE
		v_period := rfc3339(now()) || ' ' ||
		    left(gen_random_uuid()::text, 8);
	END IF;
	INSERT INTO notification_run (job, period, actor)
	    VALUES (p_job, v_period, p_actor)
	    ON CONFLICT (job, period) DO NOTHING
	    RETURNING id, period INTO run_id, run_period;
	IF FOUND THEN
		RETURN NEXT;
	END IF;
END $$;

-- The digests of run p_run: one row per external account and kind with
-- the data its template needs, the items announced recorded in
-- notification_notice (so that the next run leaves them out). Lead times
-- in days: p_doc_days for documents, p_cert_days for certificates (empty:
-- no such warning); p_missing_days: days between two reminders of the
-- missing documents.
CREATE FUNCTION notify_collect(p_run bigint, p_doc_days integer[],
    p_cert_days integer[], p_missing_days integer)
RETURNS TABLE (r_account bigint, r_email text, r_language text,
    r_kind text, r_data jsonb)
LANGUAGE plpgsql AS $$
BEGIN
	-- Notices that can no longer matter: a certificate issued over a
	-- week ago is never a candidate again; an object announced at a lead
	-- time of at most N days has expired N days later.
	DELETE FROM notification_notice n
	    WHERE (n.kind = 'certificate_issued'
		AND n.created_at < now() - interval '8 days')
	    OR (n.kind <> 'certificate_issued' AND n.created_at < now() -
		make_interval(days => n.stage + 1));

	-- Certificates issued since the last run (at most a week back), to
	-- the external account of the ACME account that ordered them.
	RETURN QUERY
	WITH cand AS (
		SELECT c.id, x.id AS xa
		FROM certificate c JOIN account a ON a.id = c.account_id
		JOIN acme_account e ON e.id = a.acme_account_id
		JOIN external_account x ON x.id = e.external_account_id
		WHERE c.created_at > now() - interval '7 days'
		AND x.status NOT IN ('REVOKED', 'DEACTIVATED')
		AND notification_address_ok(x.email)
		AND NOT EXISTS (SELECT 1 FROM notification_notice n
		    WHERE n.kind = 'certificate_issued' AND n.object_id = c.id
		    AND n.stage = 0 AND n.external_account_id = x.id)
	), fresh AS (
		INSERT INTO notification_notice (kind, object_id, stage,
		    external_account_id, run_id)
		SELECT 'certificate_issued', cand.id, 0, cand.xa, p_run
		FROM cand
		ON CONFLICT DO NOTHING
		RETURNING object_id, external_account_id
	)
	SELECT x.id, x.email, x.language, 'certificates_issued'::text,
	    jsonb_build_object('organization', g.name, 'email', x.email,
		'count', count(*), 'items', jsonb_agg(jsonb_build_object(
		'serial', c.serial,
		'names', array_to_string(c.names, ', '),
		'not_before', notification_date(c.not_before, x.language),
		'not_after', notification_date(c.not_after, x.language),
		'issued', notification_date(c.created_at, x.language),
		'acme_account', e.kid::text)
		ORDER BY c.created_at, c.id))
	FROM fresh f JOIN certificate c ON c.id = f.object_id
	JOIN account a ON a.id = c.account_id
	JOIN acme_account e ON e.id = a.acme_account_id
	JOIN external_account x ON x.id = f.external_account_id
	JOIN organization g ON g.id = x.organization_id
	GROUP BY x.id, x.email, x.language, g.name;

	-- Documents still needed (a VALID, unexpired ORGANIZATION_PROOF and
	-- REQUEST_FORM), to the pending or valid external accounts of the
	-- organization, again every p_missing_days while they are missing.
	RETURN QUERY
	WITH need AS (
		SELECT x.id AS xa, k.kind,
		    (SELECT CASE WHEN d.status = 'VALID' THEN 'EXPIRED'
			ELSE d.status END
			FROM document d WHERE d.organization_id = x.organization_id
			AND d.kind = k.kind ORDER BY d.id DESC LIMIT 1) AS state
		FROM external_account x
		JOIN organization g ON g.id = x.organization_id
		CROSS JOIN (VALUES ('ORGANIZATION_PROOF'), ('REQUEST_FORM'))
		    AS k(kind)
		WHERE x.status IN ('PENDING', 'VALID')
		AND g.status IN ('PENDING', 'VALID')
		AND notification_address_ok(x.email)
		AND NOT EXISTS (SELECT 1 FROM document d
		    WHERE d.organization_id = x.organization_id
		    AND d.kind = k.kind AND d.status = 'VALID'
		    AND (d.expires_at IS NULL OR d.expires_at > now()))
		AND NOT EXISTS (SELECT 1 FROM outbox o
		    WHERE o.external_account_id = x.id
		    AND o.kind = 'missing_documents'
		    AND o.created_at > now() -
			make_interval(days => p_missing_days))
	)
	SELECT x.id, x.email, x.language, 'missing_documents'::text,
	    jsonb_build_object('organization', g.name, 'email', x.email,
		'account_status', x.status, 'count', count(*),
		'items', jsonb_agg(jsonb_build_object(
		'kind', n.kind,
		'label', notification_label_of(x.language, n.kind),
		'state', notification_label_of(x.language,
		    'state:' || coalesce(n.state, 'MISSING')))
		ORDER BY n.kind))
	FROM need n JOIN external_account x ON x.id = n.xa
	JOIN organization g ON g.id = x.organization_id
	GROUP BY x.id, x.email, x.language, x.status, g.name;

	-- Documents of the organization reaching a lead time before their
	-- expiry, unless a VALID document of the same kind (and domain)
	-- outlives them; each lead time announced once.
	RETURN QUERY
	WITH cand AS (
		SELECT d.id, x.id AS xa,
		    (SELECT min(t) FROM unnest(p_doc_days) AS t
			WHERE d.expires_at <= now() + make_interval(days => t))
			AS stage
		FROM document d
		JOIN external_account x ON x.organization_id = d.organization_id
		WHERE d.status = 'VALID' AND d.expires_at > now()
		AND d.expires_at <= now() + make_interval(days =>
		    (SELECT max(t) FROM unnest(p_doc_days) AS t))
		AND x.status NOT IN ('REVOKED', 'DEACTIVATED')
		AND notification_address_ok(x.email)
		AND NOT EXISTS (SELECT 1 FROM document r
		    WHERE r.organization_id = d.organization_id
		    AND r.kind = d.kind AND r.id <> d.id AND r.status = 'VALID'
		    AND r.domain IS NOT DISTINCT FROM d.domain
		    AND (r.expires_at IS NULL OR r.expires_at > d.expires_at))
	), fresh AS (
		-- (a lead time already announced conflicts and is left out)
		INSERT INTO notification_notice (kind, object_id, stage,
		    external_account_id, run_id)
		SELECT 'document_expiring', cand.id::text, cand.stage, cand.xa,
		    p_run
		FROM cand WHERE cand.stage IS NOT NULL
		ON CONFLICT DO NOTHING
		RETURNING object_id, external_account_id
	)
	SELECT x.id, x.email, x.language, 'expiring_documents'::text,
	    jsonb_build_object('organization', g.name, 'email', x.email,
		'count', count(*), 'items', jsonb_agg(jsonb_build_object(
		'id', d.id, 'kind', d.kind,
		'label', notification_label_of(x.language, d.kind),
		'reference', d.reference, 'domain', d.domain,
		'expires', notification_date(d.expires_at, x.language),
		'days_left', notification_days_left(d.expires_at))
		ORDER BY d.expires_at, d.id))
	FROM fresh f JOIN document d ON d.id = f.object_id::bigint
	JOIN external_account x ON x.id = f.external_account_id
	JOIN organization g ON g.id = x.organization_id
	GROUP BY x.id, x.email, x.language, g.name;

	-- Certificates reaching a lead time before their expiry that are
	-- neither revoked nor renewed: no valid order replaces them (RFC
	-- 9773) and no newer certificate of the same organization covers
	-- all their names. To the external account of their ACME account.
	RETURN QUERY
	WITH cand AS (
		SELECT c.id, x.id AS xa,
		    (SELECT min(t) FROM unnest(p_cert_days) AS t
			WHERE c.not_after <= now() + make_interval(days => t))
			AS stage
		FROM certificate c JOIN account a ON a.id = c.account_id
		JOIN acme_account e ON e.id = a.acme_account_id
		JOIN external_account x ON x.id = e.external_account_id
		WHERE c.revoked_at IS NULL AND c.not_after > now()
		AND c.not_after <= now() + make_interval(days =>
		    (SELECT max(t) FROM unnest(p_cert_days) AS t))
		AND x.status NOT IN ('REVOKED', 'DEACTIVATED')
		AND notification_address_ok(x.email)
		AND NOT EXISTS (SELECT 1 FROM orders o
		    WHERE o.replaces = c.id AND o.status = 'valid')
		AND NOT EXISTS (SELECT 1 FROM certificate n
		    JOIN account na ON na.id = n.account_id
		    JOIN acme_account ne ON ne.id = na.acme_account_id
		    JOIN external_account nx ON nx.id = ne.external_account_id
		    WHERE n.id <> c.id AND n.revoked_at IS NULL
		    AND n.not_after > c.not_after AND n.names @> c.names
		    AND nx.organization_id = x.organization_id)
	), fresh AS (
		INSERT INTO notification_notice (kind, object_id, stage,
		    external_account_id, run_id)
		SELECT 'certificate_expiring', cand.id, cand.stage, cand.xa,
		    p_run
		FROM cand WHERE cand.stage IS NOT NULL
		ON CONFLICT DO NOTHING
		RETURNING object_id, external_account_id
	)
	SELECT x.id, x.email, x.language, 'expiring_certificates'::text,
	    jsonb_build_object('organization', g.name, 'email', x.email,
		'count', count(*), 'items', jsonb_agg(jsonb_build_object(
		'serial', c.serial,
		'names', array_to_string(c.names, ', '),
		'not_after', notification_date(c.not_after, x.language),
		'days_left', notification_days_left(c.not_after),
		'acme_account', e.kid::text)
		ORDER BY c.not_after, c.id))
	FROM fresh f JOIN certificate c ON c.id = f.object_id
	JOIN account a ON a.id = c.account_id
	JOIN acme_account e ON e.id = a.acme_account_id
	JOIN external_account x ON x.id = f.external_account_id
	JOIN organization g ON g.id = x.organization_id
	GROUP BY x.id, x.email, x.language, g.name;
END $$;

-- Queues the messages of run p_run (a JSON array of {kind, account,
-- recipient, language, subject, body, data}), records how many on the
-- run, audits it and wakes the workers. Returns the number queued.
CREATE FUNCTION notify_enqueue(p_run bigint, p_messages jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	r notification_run;
	n integer;
BEGIN
	SELECT * INTO r FROM notification_run WHERE id = p_run;
	INSERT INTO outbox (kind, external_account_id, recipient, language,
	    subject, body, data, dedup_key, run_id)
	    SELECT m.kind, m.account, m.recipient, m.language, m.subject,
	    m.body, coalesce(m.data, '{}'),
	    m.kind || ':' || m.account || ':' || r.period, p_run
	    FROM jsonb_to_recordset(p_messages) AS m(kind text, account bigint,
		recipient text, language text, subject text, body text,
		data jsonb)
	    ON CONFLICT (dedup_key) DO NOTHING;
	GET DIAGNOSTICS n = ROW_COUNT;
	UPDATE notification_run SET messages = n WHERE id = p_run;
	PERFORM audit(r.actor, 'notify', 'notification_run', p_run::text,
	    jsonb_build_object('job', r.job, 'period', r.period,
	    'messages', n));
	IF n > 0 THEN
		PERFORM pg_notify('acme_work', 'outbox');
	END IF;
	RETURN n;
END $$;

-- Records the outcome of delivery attempt p_attempt of a message (compare
-- and set: nothing changes if the message was claimed again since):
-- p_error NULL, sent; else failed for good when p_retry is NULL, or
-- pending again p_retry seconds later. Returns false if nothing changed.
CREATE FUNCTION outbox_finish(p_id bigint, p_attempt integer, p_error text,
    p_retry integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE outbox SET
	    status = CASE WHEN p_error IS NULL THEN 'sent'
		WHEN p_retry IS NULL THEN 'failed' ELSE 'pending' END,
	    sent_at = CASE WHEN p_error IS NULL THEN now() END,
	    last_error = coalesce(p_error, last_error),
	    next_attempt_at = CASE WHEN p_error IS NOT NULL AND
		p_retry IS NOT NULL THEN now() + make_interval(secs => p_retry)
		ELSE next_attempt_at END,
	    lease_until = NULL
	    WHERE id = p_id AND attempts = p_attempt AND status = 'pending';
	RETURN FOUND;
END $$;

-- For DBAs: the outbox by kind and status.
CREATE VIEW outbox_summary AS
	SELECT kind, status, count(*) AS messages,
	    min(created_at) AS oldest, max(attempts) AS max_attempts,
	    min(next_attempt_at) FILTER (WHERE status = 'pending')
		AS next_attempt_at
	FROM outbox GROUP BY kind, status;
COMMENT ON VIEW outbox_summary IS
    'Messages per kind and status, the oldest, the most attempts, and the '
    'next attempt due.';

-- ----------------------------------------------------- operator commands

-- A message as the outbox commands show it; p_full adds the body and the
-- bookkeeping (outbox show).
CREATE FUNCTION op_outbox_json(o outbox, p_full boolean DEFAULT false)
RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN NOT p_full THEN json_build_object('id', o.id,
	    'kind', o.kind, 'recipient', o.recipient, 'language', o.language,
	    'status', o.status, 'attempts', o.attempts,
	    'created_at', rfc3339(o.created_at),
	    'next_attempt_at', CASE WHEN o.status = 'pending'
		THEN rfc3339(o.next_attempt_at) END,
	    'sent_at', rfc3339(o.sent_at), 'last_error', o.last_error,
	    'subject', o.subject)
	ELSE json_build_object('id', o.id, 'kind', o.kind,
	    'recipient', o.recipient, 'language', o.language,
	    'external_account', o.external_account_id, 'status', o.status,
	    'attempts', o.attempts, 'created_at', rfc3339(o.created_at),
	    'next_attempt_at', CASE WHEN o.status = 'pending'
		THEN rfc3339(o.next_attempt_at) END,
	    'sent_at', rfc3339(o.sent_at), 'last_error', o.last_error,
	    'run', o.run_id, 'dedup_key', o.dedup_key,
	    'resent_from', o.resent_from, 'message_id', o.message_token,
	    'subject', o.subject, 'body', o.body) END
$$;

-- The newest p_limit messages, of one status at most (p_pending, p_sent,
-- p_failed) and of one kind if p_kind.
CREATE FUNCTION op_outbox_list(p_pending boolean, p_sent boolean,
    p_failed boolean, p_kind text, p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_status text;
BEGIN
	IF p_kind IS NOT NULL AND p_kind NOT IN ('certificates_issued',
	    'missing_documents', 'expiring_documents', 'expiring_certificates')
	THEN
		PERFORM op_refuse('invalid', format('%s is not a kind of message '
		    '(certificates_issued, missing_documents, expiring_documents, '
		    'expiring_certificates)', p_kind));
	END IF;
	IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
		PERFORM op_refuse('invalid', format(
		    '%s: the limit must be 1 to 10000', p_limit));
	END IF;
	v_status := CASE WHEN p_pending THEN 'pending' WHEN p_sent THEN 'sent'
	    WHEN p_failed THEN 'failed' END;
	RETURN (SELECT coalesce(json_agg(op_outbox_json(o) ORDER BY o.id DESC),
	    '[]') FROM (SELECT * FROM outbox
		WHERE (v_status IS NULL OR status = v_status)
		AND (p_kind IS NULL OR kind = p_kind)
		ORDER BY id DESC LIMIT p_limit) AS o);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

CREATE FUNCTION op_need_outbox(p_id bigint) RETURNS outbox
LANGUAGE plpgsql STABLE AS $$
DECLARE
	o outbox;
BEGIN
	SELECT * INTO o FROM outbox WHERE id = p_id;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no message %s', p_id));
	END IF;
	RETURN o;
END $$;

CREATE FUNCTION op_outbox_show(p_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
	o outbox;
BEGIN
	o := op_need_outbox(p_id);
	RETURN op_outbox_json(o, true);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;

-- Sends a message again: a failed one is put back in the queue (attempts
-- start again), a sent one is copied into a new message (same recipient,
-- subject and body); a pending one is refused (it is still to be sent).
-- Audited; wakes the workers.
CREATE FUNCTION op_outbox_resend(p_actor text, p_id bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	o outbox;
	v_new outbox;
BEGIN
	SELECT * INTO o FROM outbox WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM op_refuse('not_found', format('no message %s', p_id));
	END IF;
	IF o.status = 'pending' THEN
		PERFORM op_refuse('conflict', format('message %s is still '
		    'waiting to be sent (attempt %s, next at %s)', p_id,
		    o.attempts + 1, rfc3339(o.next_attempt_at)));
	END IF;
	IF o.status = 'failed' THEN
		UPDATE outbox SET status = 'pending', attempts = 0,
		    next_attempt_at = now(), lease_until = NULL
		    WHERE id = o.id AND status = 'failed' RETURNING * INTO v_new;
		PERFORM audit(p_actor, 'resend', 'outbox', o.id::text,
		    jsonb_build_object('reset', true, 'attempts', o.attempts,
		    'last_error', o.last_error));
	ELSE
		INSERT INTO outbox (kind, external_account_id, recipient,
		    language, subject, body, data, run_id, resent_from)
		    VALUES (o.kind, o.external_account_id, o.recipient,
		    o.language, o.subject, o.body, o.data, o.run_id, o.id)
		    RETURNING * INTO v_new;
		PERFORM audit(p_actor, 'resend', 'outbox', o.id::text,
		    jsonb_build_object('copy', v_new.id));
	END IF;
	PERFORM pg_notify('acme_work', 'outbox');
	RETURN op_outbox_json(v_new, true);
EXCEPTION WHEN SQLSTATE 'AC400' OR SQLSTATE 'AC404' OR SQLSTATE 'AC409' THEN
	RETURN op_refusal(SQLSTATE, SQLERRM);
END $$;
