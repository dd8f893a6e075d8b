-- 008_views: read-only views for DBAs and reporting (issuance per
-- organization and day, certificates expiring soon, revocations, the
-- credit ledger and balances, validation history, issuance latency), the
-- finalization time of orders that the latency needs, and the one
-- function acme-fcgi's /metrics reads the service-wide figures from.
--
-- Every view joins a certificate or an order to its organization the
-- same way: account -> acme_account -> external account -> organization
-- (acme_account_organization). Times are timestamptz; days are UTC days.

ALTER TABLE orders ADD COLUMN finalized_at timestamptz;
COMMENT ON COLUMN orders.finalized_at IS
    'When the client finalized the order (ready to processing), set by the '
    'trigger orders_finalized_at; NULL for orders finalized before 008.';

-- Records when an order enters processing, whichever function moved it.
CREATE FUNCTION orders_finalized_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.finalized_at := now();
	RETURN NEW;
END $$;
CREATE TRIGGER orders_finalized_at BEFORE UPDATE OF status ON orders
	FOR EACH ROW WHEN (NEW.status = 'processing' AND
	    OLD.status IS DISTINCT FROM 'processing')
	EXECUTE FUNCTION orders_finalized_at();

-- The organization, external account and ACME account of an RFC 8555
-- account (the path every view below takes).
CREATE VIEW account_owner AS
	SELECT a.id AS account_id, e.id AS acme_account_id, e.kid,
	    e.profile, x.id AS external_account_id, x.email,
	    g.id AS organization_id, g.name AS organization
	FROM account a
	JOIN acme_account e ON e.id = a.acme_account_id
	LEFT JOIN external_account x ON x.id = e.external_account_id
	LEFT JOIN organization g ON g.id = x.organization_id;
COMMENT ON VIEW account_owner IS
    'Who owns an RFC 8555 account: its ACME account (kid, profile), '
    'external account (e-mail) and organization.';

CREATE VIEW issuance_per_organization_day AS
	SELECT (c.created_at AT TIME ZONE 'UTC')::date AS day,
	    o.organization_id, o.organization, o.profile,
	    count(*) AS certificates,
	    count(*) FILTER (WHERE c.revoked_at IS NOT NULL) AS revoked_since,
	    count(*) FILTER (WHERE r.replaces IS NOT NULL) AS renewals
	FROM certificate c
	JOIN account_owner o ON o.account_id = c.account_id
	JOIN orders r ON r.id = c.order_id
	GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW issuance_per_organization_day IS
    'Certificates issued per UTC day, organization and profile; '
    'revoked_since: how many of them are revoked now; renewals: issued by '
    'an order that replaces an earlier certificate (RFC 9773).';

CREATE VIEW certificate_expiring AS
	SELECT c.id AS certificate_id, c.serial, c.names, c.not_after,
	    floor(extract(epoch FROM c.not_after - now()) / 86400)::integer
		AS days_left,
	    o.organization_id, o.organization, o.email, o.kid,
	    (SELECT n.id FROM orders r JOIN certificate n ON n.order_id = r.id
		WHERE r.replaces = c.id) AS replaced_by
	FROM certificate c
	JOIN account_owner o ON o.account_id = c.account_id
	WHERE c.revoked_at IS NULL AND c.not_after > now()
	    AND c.not_after <= now() + interval '30 days';
COMMENT ON VIEW certificate_expiring IS
    'Unrevoked certificates expiring within 30 days (days_left: whole days '
    'left); replaced_by: the certificate of an order that replaces it, '
    'NULL if not renewed through RFC 9773 replaces.';

CREATE VIEW certificate_revocation AS
	SELECT c.id AS certificate_id, c.serial, c.names, c.not_after,
	    c.revoked_at, c.revocation_reason,
	    CASE c.revocation_reason
		WHEN 0 THEN 'unspecified'
		WHEN 1 THEN 'keyCompromise'
		WHEN 3 THEN 'affiliationChanged'
		WHEN 4 THEN 'superseded'
		WHEN 5 THEN 'cessationOfOperation'
		WHEN 9 THEN 'privilegeWithdrawn'
		ELSE 'reason ' || c.revocation_reason
	    END AS reason, c.revoked_by,
	    o.organization_id, o.organization, o.kid
	FROM certificate c
	JOIN account_owner o ON o.account_id = c.account_id
	WHERE c.revoked_at IS NOT NULL;
COMMENT ON VIEW certificate_revocation IS
    'Revoked certificates with their RFC 5280 reason (code and name) and '
    'who revoked them (the client''s account, an operator, a cascade); '
    'revocation_publication says what OCSP and the CRL publish of them.';

CREATE VIEW credit_balance AS
	SELECT g.id AS organization_id, g.name AS organization, g.status,
	    g.credit_balance AS balance,
	    coalesce(l.total, 0) AS ledger_sum,
	    g.credit_balance = coalesce(l.total, 0) AS consistent,
	    coalesce(l.debits, 0) AS certificates_debited,
	    l.last_movement_at
	FROM organization g
	LEFT JOIN (SELECT organization_id, sum(delta) AS total,
		count(*) FILTER (WHERE delta < 0 AND order_id IS NOT NULL)
		    AS debits,
		max(created_at) AS last_movement_at
	    FROM credit_ledger GROUP BY organization_id) l
	    ON l.organization_id = g.id;
COMMENT ON VIEW credit_balance IS
    'Each organization''s credit balance next to the sum of its ledger '
    '(consistent is always true: a trigger keeps them equal).';

CREATE VIEW credit_ledger_detail AS
	SELECT l.id, l.created_at, l.organization_id, g.name AS organization,
	    l.delta, l.balance_after, l.reason, l.actor, l.order_id,
	    c.id AS certificate_id, c.serial
	FROM credit_ledger l
	JOIN organization g ON g.id = l.organization_id
	LEFT JOIN certificate c ON c.order_id = l.order_id;
COMMENT ON VIEW credit_ledger_detail IS
    'The credit ledger with organization names, and for a debit the '
    'certificate it paid for.';

CREATE VIEW validation_history AS
	SELECT c.id AS challenge_id, c.type, c.status, a.identifier,
	    a.wildcard, c.validated_at, c.attempts,
	    c.error->>'type' AS error_type, c.error->>'detail' AS error_detail,
	    a.created_at AS authorization_created_at, a.id AS authorization_id,
	    o.account_id, o.organization_id, o.organization, o.kid
	FROM challenge c
	JOIN authorization_ a ON a.id = c.authorization_id
	JOIN account_owner o ON o.account_id = a.account_id
	WHERE c.status IN ('valid', 'invalid');
COMMENT ON VIEW validation_history IS
    'Every challenge validated or failed: what was checked, how (http-01, '
    'dns-01), how many attempts, and the problem when it failed '
    '(validated_at is set for valid ones only).';

CREATE VIEW issuance_latency AS
	SELECT r.id AS order_id, c.id AS certificate_id, r.finalized_at,
	    c.created_at AS issued_at,
	    extract(epoch FROM c.created_at - r.finalized_at)::float8
		AS seconds
	FROM orders r JOIN certificate c ON c.order_id = r.id
	WHERE r.finalized_at IS NOT NULL;
COMMENT ON VIEW issuance_latency IS
    'Seconds from finalize (the order enters processing) to the '
    'certificate (the order becomes valid).';

-- The catalogue refusals recorded in audit_log (by acme-fcgi: detail.code;
-- by acme-worker at issuance: detail.error.code), counted for /metrics.
CREATE INDEX audit_log_refusal_code ON audit_log
	((coalesce(detail->>'code', detail->'error'->>'code')))
	WHERE action = 'refuse';

-- Service-wide figures for acme-fcgi's /metrics (Prometheus), computed at
-- scrape time: one row per sample, metric name, label set as written in
-- the exposition format ('' for none), value. Counters only grow (rows are
-- never deleted); gauges are the state now.
CREATE FUNCTION metrics_sample()
RETURNS TABLE (metric text, labels text, value float8)
LANGUAGE sql STABLE AS $$
	WITH h AS (SELECT count(*) FILTER (WHERE seconds <= 0.5) AS b1,
	    count(*) FILTER (WHERE seconds <= 1) AS b2,
	    count(*) FILTER (WHERE seconds <= 2) AS b3,
	    count(*) FILTER (WHERE seconds <= 5) AS b4,
	    count(*) FILTER (WHERE seconds <= 10) AS b5,
	    count(*) FILTER (WHERE seconds <= 30) AS b6,
	    count(*) FILTER (WHERE seconds <= 60) AS b7,
	    count(*) FILTER (WHERE seconds <= 120) AS b8,
	    count(*) FILTER (WHERE seconds <= 300) AS b9,
	    count(*) FILTER (WHERE seconds <= 600) AS b10,
	    count(*) AS n, coalesce(sum(seconds), 0) AS total
	    FROM issuance_latency)
	SELECT 'acme_jobs_pending', 'kind="challenge"', count(*)::float8
	    FROM challenge WHERE status = 'processing'
	UNION ALL
	SELECT 'acme_jobs_pending', 'kind="order"', count(*)::float8
	    FROM orders WHERE status = 'processing'
	UNION ALL
	SELECT 'acme_jobs_unclaimed', 'kind="challenge"', count(*)::float8
	    FROM challenge WHERE status = 'processing'
	    AND (lease_until IS NULL OR lease_until < now())
	UNION ALL
	SELECT 'acme_jobs_unclaimed', 'kind="order"', count(*)::float8
	    FROM orders WHERE status = 'processing'
	    AND (lease_until IS NULL OR lease_until < now())
	UNION ALL
	(SELECT 'acme_validations_total',
	    format('type="%s",result="%s"', t.type, s.status),
	    coalesce(g.n, 0)::float8
	    FROM (VALUES ('http-01'), ('dns-01')) t(type)
	    CROSS JOIN (VALUES ('valid'), ('invalid')) s(status)
	    LEFT JOIN (SELECT c.type, c.status, count(*) AS n FROM challenge c
		WHERE c.status IN ('valid', 'invalid') GROUP BY 1, 2) g
		ON g.type = t.type AND g.status = s.status
	    ORDER BY 2)
	UNION ALL
	SELECT 'acme_certificates_issued_total', '', count(*)::float8
	    FROM certificate
	UNION ALL
	SELECT 'acme_certificates_revoked_total', '', count(*)::float8
	    FROM certificate WHERE revoked_at IS NOT NULL
	UNION ALL
	(SELECT 'acme_refusals_total', format('code="%s"', k.code),
	    k.n::float8
	    FROM (SELECT coalesce(detail->>'code', detail->'error'->>'code')
		AS code, count(*) AS n
		FROM audit_log WHERE action = 'refuse'
		GROUP BY 1) k
	    WHERE k.code ~ '^[A-Z_]+$' ORDER BY 2)
	UNION ALL
	SELECT 'acme_credit_refusals_total', '', count(*)::float8
	    FROM audit_log WHERE action = 'refuse'
	    AND coalesce(detail->>'code', detail->'error'->>'code') =
		'OUT_OF_CREDIT'
	UNION ALL
	(SELECT 'acme_issuance_seconds_bucket', format('le="%s"', b.le),
	    b.n::float8
	    FROM h, LATERAL (VALUES (1, '0.5', h.b1), (2, '1', h.b2),
		(3, '2', h.b3), (4, '5', h.b4), (5, '10', h.b5),
		(6, '30', h.b6), (7, '60', h.b7), (8, '120', h.b8),
		(9, '300', h.b9), (10, '600', h.b10), (11, '+Inf', h.n))
		b(i, le, n)
	    ORDER BY b.i)
	UNION ALL
	SELECT 'acme_issuance_seconds_sum', '', h.total::float8 FROM h
	UNION ALL
	SELECT 'acme_issuance_seconds_count', '', h.n::float8 FROM h
$$;
COMMENT ON FUNCTION metrics_sample() IS
    'Service-wide samples of acme-fcgi''s /metrics: jobs waiting for a '
    'worker, validations, certificates, refusals, issuance latency.';
