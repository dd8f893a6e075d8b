-- 002_account_model: the CA's account model above RFC 8555 accounts:
-- profiles, organizations with documents and a credit ledger, external
-- (customer) accounts, ACME accounts with a profile, an expiry and a domain
-- list, and an append-only audit log. Policy lives in SQL functions so that
-- acme-fcgi and acme-worker apply the same rules in one round trip.

CREATE TABLE profile (
	name		text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,32}$'),
	description	text NOT NULL,
	wildcard	boolean NOT NULL DEFAULT false,
	exact_names	boolean NOT NULL DEFAULT false,
	validity_days	integer NOT NULL DEFAULT 199
			CHECK (validity_days BETWEEN 1 AND 199),
	key_sizes	integer[] NOT NULL DEFAULT '{2048,3072}',
	subject_fields	text[] NOT NULL DEFAULT '{C,ST,L,O,CN}',
	cost		integer NOT NULL DEFAULT 1 CHECK (cost >= 0)
);
COMMENT ON TABLE profile IS
    'Certificate profiles. wildcard: only wildcard names (and no wildcard '
    'otherwise); exact_names: every FQDN must be in the domain list (RGS), '
    'else a listed domain also authorizes its subdomains. cost: credits '
    'debited per certificate.';
INSERT INTO profile (name, description, wildcard, exact_names) VALUES
	('OV', 'Organization validated TLS server certificate', false, false),
	('OV_WILDCARD', 'Organization validated wildcard certificate',
	    true, false),
	('RGS', 'Organization validated certificate, RGS rules: every FQDN '
	    'listed', false, true);

ALTER TABLE organization
	ADD COLUMN credit_balance integer NOT NULL DEFAULT 0
	    CHECK (credit_balance >= 0),
	ALTER COLUMN status SET DEFAULT 'PENDING';
COMMENT ON COLUMN organization.credit_balance IS
    'Always the sum of credit_ledger.delta (maintained by its trigger only).';

CREATE TABLE credit_ledger (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organization(id),
	delta		integer NOT NULL CHECK (delta <> 0),
	balance_after	integer NOT NULL CHECK (balance_after >= 0),
	reason		text NOT NULL,
	order_id	text REFERENCES orders(id),
	actor		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_ledger_org ON credit_ledger (organization_id, id);
CREATE UNIQUE INDEX credit_ledger_one_debit_per_order ON credit_ledger
	(order_id) WHERE delta < 0 AND order_id IS NOT NULL;
COMMENT ON TABLE credit_ledger IS
    'Append-only: every credit and debit. Inserting a row moves the '
    'organization''s balance; a debit beyond the balance fails (23514).';

CREATE FUNCTION credit_ledger_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE organization SET credit_balance = credit_balance + NEW.delta
	    WHERE id = NEW.organization_id
	    RETURNING credit_balance INTO NEW.balance_after;
	IF NOT FOUND THEN
		RAISE foreign_key_violation USING MESSAGE = 'no such organization';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER credit_ledger_apply BEFORE INSERT ON credit_ledger
	FOR EACH ROW EXECUTE FUNCTION credit_ledger_apply();

CREATE FUNCTION append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
	    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE
	ON credit_ledger FOR EACH ROW EXECUTE FUNCTION append_only();

CREATE TABLE document (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organization(id),
	kind		text NOT NULL CHECK (kind IN ('ORGANIZATION_PROOF',
			    'REQUEST_FORM', 'MANAGER_AUTHORIZATION',
			    'DOMAIN_AUTHORIZATION')),
	status		text NOT NULL DEFAULT 'PENDING'
			CHECK (status IN ('PENDING', 'VALID', 'EXPIRED',
			    'REJECTED')),
	reference	text NOT NULL DEFAULT '',
	domain		text,
	expires_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	decided_at	timestamptz,
	decided_by	text
);
CREATE INDEX document_org ON document (organization_id, kind, status);
COMMENT ON TABLE document IS
    'Proofs checked by operators. An organization needs a VALID, unexpired '
    'ORGANIZATION_PROOF and REQUEST_FORM to get certificates.';

CREATE TABLE external_account (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organization(id),
	email		text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
	language	text NOT NULL DEFAULT 'en'
			CHECK (language IN ('en', 'fr')),
	status		text NOT NULL DEFAULT 'PENDING'
			CHECK (status IN ('PENDING', 'VALID', 'SUSPENDED',
			    'EXPIRED', 'REVOKED', 'DEACTIVATED')),
	expires_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE external_account IS
    'The customer''s account on the CA''s web site (certificate manager); '
    'activated by an operator once the organization''s documents are '
    'checked.';

-- ACME accounts move under external accounts.
ALTER TABLE acme_account
	ADD COLUMN external_account_id bigint REFERENCES external_account(id),
	ADD COLUMN profile text NOT NULL DEFAULT 'OV' REFERENCES profile(name),
	ADD COLUMN expires_at timestamptz;
INSERT INTO external_account (organization_id, email, status)
	SELECT DISTINCT organization_id, 'unknown@invalid', 'VALID'
	FROM acme_account;
UPDATE acme_account e SET external_account_id = x.id
	FROM external_account x WHERE x.organization_id = e.organization_id;
ALTER TABLE acme_account DROP COLUMN organization_id;
COMMENT ON COLUMN acme_account.expires_at IS
    'End of the ACME account''s validity; regenerating its key renews it.';
COMMENT ON COLUMN acme_account.key_expires_at IS
    'The HMAC key must be used (bound) before this instant.';

-- After a key regeneration the ACME account is bound again: only one
-- valid RFC 8555 account per ACME account and per key.
ALTER TABLE account DROP CONSTRAINT account_acme_account_id_key;
ALTER TABLE account DROP CONSTRAINT account_thumbprint_key;
CREATE UNIQUE INDEX account_one_valid_per_acme_account
	ON account (acme_account_id) WHERE status = 'valid';
CREATE UNIQUE INDEX account_one_valid_per_key
	ON account (thumbprint) WHERE status = 'valid';
CREATE INDEX account_thumbprint ON account (thumbprint);

CREATE TABLE domain (
	id		bigserial PRIMARY KEY,
	organization_id	bigint NOT NULL REFERENCES organization(id),
	name		text NOT NULL CHECK (name ~ '^(\*\.)?[a-z0-9.-]+$'),
	status		text NOT NULL DEFAULT 'PENDING'
			CHECK (status IN ('PENDING', 'VALID', 'REVOKED')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	validated_at	timestamptz,
	UNIQUE (organization_id, name)
);
COMMENT ON TABLE domain IS
    'Domain names an organization is known to control; VALID once an '
    'operator has checked its domain authorization.';

CREATE TABLE acme_account_domain (
	acme_account_id	bigint NOT NULL REFERENCES acme_account(id),
	domain_id	bigint NOT NULL REFERENCES domain(id),
	PRIMARY KEY (acme_account_id, domain_id)
);
COMMENT ON TABLE acme_account_domain IS
    'The domain list of an ACME account.';

CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	object_type	text NOT NULL,
	object_id	text,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION append_only();
COMMENT ON TABLE audit_log IS
    'Append-only record of every operator action, issuance and refusal.';

CREATE FUNCTION audit(p_actor text, p_action text, p_type text, p_id text,
    p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
	INSERT INTO audit_log (actor, action, object_type, object_id, detail)
	    VALUES (p_actor, p_action, p_type, p_id, coalesce(p_detail, '{}'))
$$;

-- The organization of an ACME account (through its external account).
CREATE VIEW acme_account_organization AS
	SELECT e.id AS acme_account_id, x.id AS external_account_id,
	    g.id AS organization_id
	FROM acme_account e
	LEFT JOIN external_account x ON x.id = e.external_account_id
	LEFT JOIN organization g ON g.id = x.organization_id;

-- Returns the catalogue code that forbids using an ACME account now, or
-- NULL: its own status and validity, its external account's, its
-- organization's, and the organization's documents, in that order.
CREATE FUNCTION acme_account_problem(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
	    WHEN e.status = 'DEACTIVATED' THEN 'DEACTIVATED_ACCOUNT'
	    WHEN e.status = 'REVOKED' THEN 'REVOKED_ACCOUNT'
	    WHEN e.status = 'SUSPENDED' THEN 'SUSPENDED_ACCOUNT'
	    WHEN e.status = 'EXPIRED' OR e.expires_at <= now()
		THEN 'EXPIRED_ACCOUNT'
	    WHEN x.id IS NULL THEN 'EXTERNAL_ACCOUNT_NOT_FOUND'
	    WHEN x.status = 'DEACTIVATED' THEN 'DEACTIVATED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'REVOKED' THEN 'REVOKED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'SUSPENDED' THEN 'SUSPENDED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'EXPIRED' OR x.expires_at <= now()
		THEN 'EXPIRED_EXTERNAL_ACCOUNT'
	    WHEN x.status = 'PENDING' OR e.status = 'PENDING'
		THEN 'PENDING_EXTERNAL_ACCOUNT'
	    WHEN g.status <> 'VALID' THEN 'ORGANIZATION_IS_NOT_VALID'
	    WHEN NOT EXISTS (SELECT 1 FROM document d
		WHERE d.organization_id = g.id AND d.kind = 'ORGANIZATION_PROOF'
		AND d.status = 'VALID'
		AND (d.expires_at IS NULL OR d.expires_at > now()))
		THEN 'NO_VALID_ORGANIZATION_DOCUMENT_FOUND'
	    WHEN NOT EXISTS (SELECT 1 FROM document d
		WHERE d.organization_id = g.id AND d.kind = 'REQUEST_FORM'
		AND d.status = 'VALID'
		AND (d.expires_at IS NULL OR d.expires_at > now()))
		THEN 'NO_DOCUMENT_FORM_FOUND'
	    END
	FROM acme_account e
	LEFT JOIN external_account x ON x.id = e.external_account_id
	LEFT JOIN organization g ON g.id = x.organization_id
	WHERE e.id = p_id
$$;

-- Returns the policy problems of an order for names (lower-case, "*."
-- kept) under an ACME account: one row per problem, (code, identifier),
-- identifier NULL when the problem is not about one name. No row: the
-- order is allowed. p_profile is the profile the client asked for (NULL:
-- the account's own).
CREATE FUNCTION order_policy(p_acme bigint, p_names text[], p_profile text)
RETURNS TABLE (code text, identifier text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_profile profile%ROWTYPE;
	v_org bigint;
	v_balance integer;
	v_name text;
	v_base text;
	v_wild boolean;
	v_dom record;
	v_orgs bigint[] := '{}';
	v_acct_problem text;
BEGIN
	v_acct_problem := acme_account_problem(p_acme);
	IF v_acct_problem IS NOT NULL THEN
		code := v_acct_problem;
		identifier := NULL;
		RETURN NEXT;
		RETURN;
	END IF;
	SELECT p.* INTO v_profile FROM profile p
	    JOIN acme_account e ON e.profile = p.name WHERE e.id = p_acme;
	IF p_profile IS NOT NULL AND p_profile <> v_profile.name THEN
		code := 'INVALID_PROFILE';
		identifier := NULL;
		RETURN NEXT;
		RETURN;
	END IF;
	FOREACH v_name IN ARRAY p_names LOOP
		v_wild := v_name LIKE '*.%';
		v_base := CASE WHEN v_wild THEN substr(v_name, 3) ELSE v_name END;
		IF v_profile.wildcard AND NOT v_wild THEN
			code := 'INVALID_DOMAIN_FOR_WILDCARD_PROFILE';
			identifier := v_name;
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF NOT v_profile.wildcard AND v_wild THEN
			code := 'INVALID_PROFILE_FOR_WILDCARD';
			identifier := v_name;
			RETURN NEXT;
			CONTINUE;
		END IF;
		SELECT d.* INTO v_dom FROM acme_account_domain ad
		    JOIN domain d ON d.id = ad.domain_id
		    WHERE ad.acme_account_id = p_acme AND
		    CASE WHEN v_profile.exact_names THEN d.name = v_name
		    ELSE d.name = v_base OR v_base LIKE '%.' || d.name END
		    ORDER BY d.status = 'VALID' DESC, length(d.name) DESC
		    LIMIT 1;
		IF NOT FOUND THEN
			code := 'DOMAIN_NOT_FOUND';
			identifier := v_name;
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF v_dom.status <> 'VALID' THEN
			code := 'UNAUTHORIZED_DOMAIN';
			identifier := v_name;
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF NOT v_dom.organization_id = ANY (v_orgs) THEN
			v_orgs := v_orgs || v_dom.organization_id;
		END IF;
	END LOOP;
	IF array_length(v_orgs, 1) > 1 THEN
		code := 'NOT_SAME_ORGANIZATION';
		identifier := NULL;
		RETURN NEXT;
	END IF;
	SELECT g.id, g.credit_balance INTO v_org, v_balance
	    FROM acme_account_organization ao
	    JOIN organization g ON g.id = ao.organization_id
	    WHERE ao.acme_account_id = p_acme;
	IF v_balance < v_profile.cost THEN
		code := 'OUT_OF_CREDIT';
		identifier := NULL;
		RETURN NEXT;
	END IF;
END $$;

-- Issuance now debits the credit in the same transaction. Returns
-- 'issued', 'lost' (the order was no longer processing) or
-- 'OUT_OF_CREDIT' (nothing written).
DROP FUNCTION order_issue(text, text, text, timestamptz, timestamptz, bytea,
    text);
CREATE FUNCTION order_issue(p_order text, p_cert text, p_serial text,
    p_not_before timestamptz, p_not_after timestamptz, p_der bytea,
    p_pem_chain text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_org bigint;
	v_cost integer;
	v_acme bigint;
BEGIN
	-- One block: a debit beyond the balance undoes all of it.
	BEGIN
		UPDATE orders SET status = 'valid', lease_until = NULL,
		    updated_at = now()
		    WHERE id = p_order AND status = 'processing';
		IF NOT FOUND THEN
			RETURN 'lost';
		END IF;
		SELECT ao.organization_id, p.cost, e.id
		    INTO v_org, v_cost, v_acme
		    FROM orders o JOIN account a ON a.id = o.account_id
		    JOIN acme_account e ON e.id = a.acme_account_id
		    JOIN profile p ON p.name = e.profile
		    JOIN acme_account_organization ao
			ON ao.acme_account_id = e.id
		    WHERE o.id = p_order;
		IF v_cost > 0 THEN
			INSERT INTO credit_ledger (organization_id, delta,
			    balance_after, reason, order_id, actor)
			    VALUES (v_org, -v_cost, 0, 'certificate', p_order,
			    'acme-worker');
		END IF;
		INSERT INTO certificate (id, order_id, account_id, serial,
		    names, not_before, not_after, der, pem_chain)
		    SELECT p_cert, id, account_id, p_serial, names,
		    p_not_before, p_not_after, p_der, p_pem_chain
		    FROM orders WHERE id = p_order;
		PERFORM audit('acme-worker', 'issue', 'certificate', p_cert,
		    jsonb_build_object('order', p_order, 'serial', p_serial,
		    'acme_account', v_acme, 'cost', v_cost));
	EXCEPTION WHEN check_violation THEN
		RETURN 'OUT_OF_CREDIT';
	END;
	RETURN 'issued';
END $$;

-- Expires documents past their date; an external account whose
-- organization lost a required document goes back to PENDING. Returns
-- the number of documents expired.
CREATE FUNCTION documents_expire() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	WITH e AS (UPDATE document SET status = 'EXPIRED', decided_at = now(),
	    decided_by = 'acme-worker'
	    WHERE status = 'VALID' AND expires_at <= now()
	    RETURNING id, organization_id, kind)
	SELECT count(*) INTO n FROM e;
	IF n > 0 THEN
		UPDATE external_account x SET status = 'PENDING'
		    WHERE x.status = 'VALID' AND (
		    NOT EXISTS (SELECT 1 FROM document d
			WHERE d.organization_id = x.organization_id
			AND d.kind = 'ORGANIZATION_PROOF' AND d.status = 'VALID')
		    OR NOT EXISTS (SELECT 1 FROM document d
			WHERE d.organization_id = x.organization_id
			AND d.kind = 'REQUEST_FORM' AND d.status = 'VALID'));
		PERFORM audit('acme-worker', 'expire', 'document', NULL,
		    jsonb_build_object('count', n));
	END IF;
	RETURN n;
END $$;

-- Deactivates an authorization at its client's request (RFC 8555
-- section 7.5.2); its pending or ready orders become invalid with
-- ACME_DEACTIVATED. Returns false if it was neither pending nor valid.
CREATE FUNCTION authorization_deactivate(p_id text, p_error jsonb)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE authorization_ SET status = 'deactivated'
	    WHERE id = p_id AND status IN ('pending', 'valid');
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE challenge SET status = 'invalid', lease_until = NULL
	    WHERE authorization_id = p_id AND status IN ('pending',
	    'processing');
	UPDATE orders SET status = 'invalid', error = p_error,
	    updated_at = now()
	    WHERE status IN ('pending', 'ready')
	    AND id IN (SELECT order_id FROM order_authorization
		WHERE authorization_id = p_id);
	RETURN true;
END $$;
