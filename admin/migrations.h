/* migrations.h - the schema migrations embedded from sql/. */
#ifndef ACME_MIGRATIONS_H
#define ACME_MIGRATIONS_H

struct migration {
	unsigned	 version;
	const char	*name;
	const char	*sql;
};

extern const struct migration migrations[];
extern const unsigned nmigrations;

#endif
