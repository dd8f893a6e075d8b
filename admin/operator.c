/*
 * operator.c - acmectl operator ...: the people who sign in to the back
 * office (acme-web's office area) with a name or e-mail address, a
 * password and their TLS client certificate.
 *
 *	operator create NAME --email E --cert FILE.pem [--password-file F]
 *	operator list
 *	operator disable|enable NAME
 *	operator set-password NAME [--password-file F]
 *	operator set-cert NAME --cert FILE.pem
 *
 * The certificate is registered as the SHA-256 of its DER (what acme-web
 * compares with the one the browser presents). The password is read from
 * the first line of F ("-": standard input), or else made here and
 * printed once; only its scrypt hash (web_scrypt_log_n) is stored. Each
 * change is one call of a web_operator_* function of sql/010_web.sql
 * (through common/websession.c), audited with the actor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "config.h"
#include "ctl.h"
#include "jsonutil.h"
#include "office.h"
#include "passwd.h"
#include "websession.h"

#define CERT_FILE_MAX	(1 << 20)

/* Reads a whole file (at most max bytes; "-" is standard input). Returns
 * its bytes NUL-terminated (caller frees) with *len, or NULL after
 * printing why. */
static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t n = 0;
	int rc = 0;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		ctl_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(max + 2);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		ctl_error("%s: %s", path, strerror(errno));
	else if (n > max)
		ctl_error("%s: larger than %zu bytes", path, max);
	else
		rc = 1;
	if (f != stdin)
		fclose(f);
	if (!rc) {
		OPENSSL_cleanse(buf, max + 2);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Returns the fingerprint of the certificate in a PEM file (caller
 * frees), or NULL after printing why. */
static char *
cert_fingerprint(const char *path)
{
	char *pem, *fp = NULL;
	size_t len;

	if ((pem = read_file(path, CERT_FILE_MAX, &len)) == NULL)
		return NULL;
	if ((fp = office_cert_sha256_pem(pem, len)) == NULL)
		ctl_error("%s: no PEM certificate in this file", path);
	free(pem);
	return fp;
}

/* Returns the password of the first line of a file, or a new random one
 * with *made set when path is NULL (caller cleanses and frees), or NULL
 * after printing why. */
static char *
password_get(const char *path, int *made)
{
	char *buf;
	size_t len;

	*made = 0;
	if (path == NULL) {
		*made = 1;
		return random_token();
	}
	if ((buf = read_file(path, PASSWD_MAX_BYTES + 2, &len)) == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!passwd_acceptable(buf)) {
		ctl_error("%s: the password (the first line) must have at "
		    "least %d characters and at most %d bytes of printable "
		    "UTF-8", path, PASSWD_MIN_CHARS, PASSWD_MAX_BYTES);
		OPENSSL_cleanse(buf, len);
		free(buf);
		return NULL;
	}
	return buf;
}

/* Returns the scrypt hash of a password (caller frees), or NULL after
 * printing why. */
static char *
password_hash(const char *password)
{
	char *hash;

	if ((hash = passwd_hash(password, (int)cfg_int(CFG_WEB_SCRYPT_LOG_N)))
	    == NULL)
		ctl_error("cannot hash the password (web_scrypt_log_n %ld)",
		    cfg_int(CFG_WEB_SCRYPT_LOG_N));
	return hash;
}

static int
connect_db(struct ctl *c)
{
	if (!db_connect(&c->db, cfg_str(CFG_DATABASE))) {
		ctl_error("cannot connect to the database");
		return 0;
	}
	return 1;
}

/* Prints the result of a web_operator_* call (a JSON text, NULL if the
 * database failed), with the password made for the operator if any.
 * Returns 1, or 0 after printing the refusal. */
static int
operator_result(const struct ctl *c, char *text, const char *made,
    enum view view)
{
	json_object *doc = NULL;
	const char *refused;
	int rc = 0;

	if (text == NULL) {
		ctl_error("the database failed: nothing was changed");
		goto out;
	}
	if ((doc = json_parse_strict(text, strlen(text))) == NULL) {
		ctl_error("unexpected result from the database");
		goto out;
	}
	if (json_object_is_type(doc, json_type_object) &&
	    (refused = json_get_str(doc, "refused")) != NULL) {
		ctl_error("%s", refused);
		goto out;
	}
	if (made != NULL)
		json_object_object_add(doc, "password",
		    json_object_new_string(made));
	output(c, doc, view);
	rc = 1;
out:
	json_object_put(doc);
	free(text);
	return rc;
}

int
cmd_operator_create(struct ctl *c, const struct command *cmd, char **vals)
{
	char *fp = NULL, *pw = NULL, *hash = NULL;
	int made = 0, rc = 0;

	(void)cmd;
	if ((fp = cert_fingerprint(vals[2])) == NULL ||
	    (pw = password_get(vals[3], &made)) == NULL ||
	    (hash = password_hash(pw)) == NULL || !connect_db(c))
		goto out;
	rc = operator_result(c, websession_operator_create(&c->db, c->actor,
	    vals[0], vals[1], hash, fp), made ? pw : NULL, VIEW_FIELDS);
out:
	if (pw != NULL) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	free(hash);
	free(fp);
	return rc;
}

int
cmd_operator_list(struct ctl *c, const struct command *cmd, char **vals)
{
	(void)cmd;
	(void)vals;
	if (!connect_db(c))
		return 0;
	return operator_result(c, websession_operator_list(&c->db), NULL,
	    VIEW_TABLE);
}

int
cmd_operator_status(struct ctl *c, const struct command *cmd, char **vals)
{
	(void)cmd;
	if (!connect_db(c))
		return 0;
	return operator_result(c, websession_operator_set_status(&c->db,
	    c->actor, vals[0], strcmp(vals[1], "disable") == 0 ? "DISABLED" :
	    "ACTIVE"), NULL, VIEW_FIELDS);
}

int
cmd_operator_set_password(struct ctl *c, const struct command *cmd,
    char **vals)
{
	char *pw = NULL, *hash = NULL;
	int made = 0, rc = 0;

	(void)cmd;
	if ((pw = password_get(vals[1], &made)) == NULL ||
	    (hash = password_hash(pw)) == NULL || !connect_db(c))
		goto out;
	rc = operator_result(c, websession_operator_set_password(&c->db,
	    c->actor, vals[0], hash), made ? pw : NULL, VIEW_FIELDS);
out:
	if (pw != NULL) {
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
	}
	free(hash);
	return rc;
}

int
cmd_operator_set_cert(struct ctl *c, const struct command *cmd, char **vals)
{
	char *fp = NULL;
	int rc = 0;

	(void)cmd;
	if ((fp = cert_fingerprint(vals[1])) == NULL || !connect_db(c))
		goto out;
	rc = operator_result(c, websession_operator_set_cert(&c->db, c->actor,
	    vals[0], fp), NULL, VIEW_FIELDS);
out:
	free(fp);
	return rc;
}
