/*
 * smtp.h - a small SMTP client (RFC 5321) for the worker's e-mail: one
 * message per session, EHLO, STARTTLS (RFC 3207) through OpenSSL with the
 * server's certificate verified, AUTH PLAIN or LOGIN (RFC 4954), MAIL
 * FROM, RCPT TO, DATA, QUIT, every read and write under a timeout and the
 * whole session under a deadline.
 *
 * What the server sends is untrusted: the reply parser and the EHLO
 * parser are separate functions, unit tested on their own. So are the
 * encoders of the message (RFC 5322 headers with RFC 2047 encoded-words,
 * quoted-printable bodies, dot-stuffing).
 */
#ifndef ACME_SMTP_H
#define ACME_SMTP_H

#include <stddef.h>
#include <time.h>

#define SMTP_LINE_MAX		1000	/* a reply line, CRLF included
					 * (RFC 5321 4.5.3.1.5 says 512) */
#define SMTP_REPLY_LINES	100	/* lines of one reply */
#define SMTP_REPLY_MAX		16384	/* bytes of one reply */

/* One reply: its code and the text of each line (code and separator
 * removed). */
struct smtp_reply {
	int	 code;
	size_t	 nlines;
	char	*lines[SMTP_REPLY_LINES];
};

/*
 * Parses the reply at the start of buf[0..len): lines "ddd-text" ending
 * with "ddd text" (or "ddd"), each ending with CRLF (a bare LF is
 * accepted), every line with the same code, the code's first digit 2 to
 * 5 and second 0 to 5. Returns the number of bytes of the reply (> 0)
 * with r filled (free with smtp_reply_clear), 0 when buf holds only the
 * beginning of a reply that may still be valid, -1 when it is malformed
 * or over the limits (r is then empty).
 */
long	 smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r);
void	 smtp_reply_clear(struct smtp_reply *);

/* Extensions a server announces in its reply to EHLO. */
#define SMTP_EXT_STARTTLS	0x01
#define SMTP_EXT_AUTH_PLAIN	0x02
#define SMTP_EXT_AUTH_LOGIN	0x04
#define SMTP_EXT_8BITMIME	0x08

/* Returns the SMTP_EXT_* flags of an EHLO reply (its lines after the
 * first; keywords in any case). */
unsigned smtp_ehlo_parse(const struct smtp_reply *);

/* Returns 1 if s may go in MAIL FROM:<s> or RCPT TO:<s>: "local@domain",
 * printable ASCII without spaces, '<', '>', '(', ')', ',', ';', '\\' or
 * '"', one '@', at most 254 bytes. */
int	 smtp_address_ok(const char *s);

/*
 * Splits a From setting, "addr" or "Display Name <addr>", into its
 * address and display name (NULL if none); both allocated, owned by the
 * caller. Returns 1, or 0 if the address is not smtp_address_ok.
 */
int	 smtp_from_parse(const char *from, char **addr, char **display);

/*
 * Returns the header line "Name: value" folded to lines of at most 78
 * characters, without the final CRLF: the value as it is when it is
 * printable ASCII, else as RFC 2047 encoded-words (UTF-8, base64), never
 * splitting a character. Control characters become spaces and bytes that
 * are not UTF-8 become '?', so the result is one header whatever the
 * value holds. Caller frees.
 */
char	*smtp_header(const char *name, const char *value);

/* Returns text (LF or CRLF line ends) as quoted-printable (RFC 2045
 * section 6.7): lines of at most 76 characters, CRLF line ends. */
char	*smtp_qp_encode(const char *text);

/*
 * Returns text ready to follow DATA: CRLF line ends (a bare CR becomes a
 * space), a '.' doubled at the start of every line (RFC 5321 4.5.2), a
 * final CRLF if missing, then the terminating ".\r\n". Caller frees.
 */
char	*smtp_dot_stuff(const char *text);

/*
 * Returns a plain-text message (RFC 5322): Date (date), From (from, as
 * smtp_from_parse reads it), To, Subject, Message-ID <msgid_left@domain
 * of from>, MIME-Version, Content-Type text/plain; charset=UTF-8,
 * Content-Transfer-Encoding 7bit when the body is ASCII with short lines,
 * else quoted-printable, Auto-Submitted (RFC 3834); CRLF line ends, not
 * dot-stuffed. NULL if from or to is not a usable address. Caller frees.
 */
char	*smtp_message(const char *from, const char *to, const char *subject,
	    const char *body, time_t date, const char *msgid_left);

struct smtp_server {
	const char	*host;
	int		 port;
	int		 starttls;	/* required: no STARTTLS, no mail */
	const char	*ca_file;	/* NULL or "": the system's */
	const char	*user;		/* NULL or "": no AUTH */
	const char	*password;
	const char	*helo;		/* our name in EHLO */
	int		 timeout;	/* seconds for each read or write */
	time_t		 deadline;	/* end of the whole session */
};

struct smtp_error {
	int	 permanent;	/* the server refused this message (5xx to
				 * RCPT TO or after the data), or the
				 * address is unusable: retrying is futile */
	int	 transport;	/* the server could not be reached or
				 * talked to: not this message's fault */
	char	 text[512];
};

/*
 * Sends message (as smtp_message makes it) from the envelope sender from
 * to the recipient to. Returns 1 once the server has accepted it (250
 * after the data), else 0 with err set. Credentials are sent only over
 * TLS.
 */
int	 smtp_send(const struct smtp_server *, const char *from,
	    const char *to, const char *message, struct smtp_error *err);

#endif
