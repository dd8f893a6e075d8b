# Build of acme-fcgi, acme-worker, acme-web and acmectl over libacme.a
# (common/).

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
DATADIR	?= $(PREFIX)/share/acme
SYSCONFDIR ?= /etc/acme
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wwrite-strings -Wpointer-arith -Wformat=2 \
	  -Werror=implicit-function-declaration
HARDEN	= -fstack-protector-strong -D_FORTIFY_SOURCE=2
PKGS	= json-c libpq openssl libpsl libidn2
ALL_CFLAGS = $(CFLAGS) $(WARN) $(HARDEN) -std=gnu11 -D_GNU_SOURCE -Icommon \
	  $(shell pkg-config --cflags $(PKGS))
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lresolv -pthread
BUILD	?= build

COMMON_SRC = $(wildcard common/*.c)
FCGI_SRC   = $(wildcard fcgi/*.c)
WORKER_SRC = $(wildcard worker/*.c)
ADMIN_SRC  = $(wildcard admin/*.c) $(BUILD)/admin/migrations.c
WEB_SRC    = $(wildcard web/*.c)
UNIT_SRC   = $(wildcard tests/unit/test_*.c)

COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ   = $(FCGI_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ = $(WORKER_SRC:%.c=$(BUILD)/%.o)
ADMIN_OBJ  = $(patsubst $(BUILD)/%,%,$(ADMIN_SRC))
ADMIN_OBJ := $(ADMIN_OBJ:%.c=$(BUILD)/%.o)
WEB_OBJ    = $(WEB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/web/site_css.o
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# the web core the unit test links (not the pages, not main)
WEB_CORE_OBJ = $(addprefix $(BUILD)/web/,request.o response.o layout.o \
	session.o site_css.o)
# worker modules the unit tests link (everything but main)
WORKER_LIB_OBJ = $(filter-out $(BUILD)/worker/main.o,$(WORKER_OBJ))

PROGS = $(BUILD)/acme-fcgi $(BUILD)/acme-worker $(BUILD)/acmectl \
	$(BUILD)/acme-web

all: $(PROGS) $(UNIT_BIN)

$(BUILD)/%.o: %.c $(wildcard common/*.h fcgi/*.h worker/*.h admin/*.h web/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# sql itself: removing a migration changes the directory, no file in it
$(BUILD)/admin/migrations.c: sql $(sort $(wildcard sql/*.sql)) admin/embed-sql.sh
	@mkdir -p $(dir $@)
	sh admin/embed-sql.sh $(sort $(wildcard sql/*.sql)) > $@

$(BUILD)/admin/migrations.o: $(BUILD)/admin/migrations.c
	$(CC) $(ALL_CFLAGS) -Iadmin -c -o $@ $<

$(BUILD)/libacme.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/acme-fcgi: $(FCGI_OBJ) $(BUILD)/libacme.a
	$(CC) $(LDFLAGS) -o $@ $^ -lfcgi $(LDLIBS)

$(BUILD)/acme-worker: $(WORKER_OBJ) $(BUILD)/libacme.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/acmectl: $(ADMIN_OBJ) $(BUILD)/libacme.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# acme-web carries its one stylesheet (web/site.css) as a C string.
$(BUILD)/web/site_css.c: web/site.css
	@mkdir -p $(dir $@)
	{ echo '/* generated from web/site.css: do not edit */'; \
	  echo '#include "web-internal.h"'; \
	  echo 'const char web_site_css[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' \
	    -e 's/$$/\\n"/' web/site.css; \
	  echo ';'; } > $@

$(BUILD)/web/site_css.o: $(BUILD)/web/site_css.c $(wildcard web/*.h)
	$(CC) $(ALL_CFLAGS) -Iweb -c -o $@ $<

$(BUILD)/acme-web: $(WEB_OBJ) $(BUILD)/libacme.a
	$(CC) $(LDFLAGS) -o $@ $^ -lfcgi $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(WORKER_LIB_OBJ) $(BUILD)/libacme.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iworker $(LDFLAGS) -o $@ \
	    $(filter tests/unit/%.c,$^) \
	    $(filter-out tests/unit/% tests/fuzz/%,$^) -lcmocka $(LDLIBS)

# the unit tests of the DNS layer, CAA and the validators share the mock
# dns_query() of tests/unit/mockdns.c, compiled in with the test (the
# rule puts the sources before libacme.a, whose dns_query() it replaces)
MOCKDNS_TESTS = $(addprefix $(BUILD)/tests/,test_dns test_caa \
	test_hostile_validate)
$(MOCKDNS_TESTS): tests/unit/mockdns.c tests/unit/mockdns.h

# the unit tests that make a CA on disk share tests/unit/certfiles.c
CERTFILES_TESTS = $(addprefix $(BUILD)/tests/,test_x509 test_ocsp \
	test_ca_keys)
$(CERTFILES_TESTS): tests/unit/certfiles.c tests/unit/certfiles.h

# the web's unit test links the web core (and replays its fuzz corpus)
$(BUILD)/tests/test_web: tests/unit/test_web.c $(WEB_CORE_OBJ) \
	    $(BUILD)/libacme.a $(wildcard tests/fuzz/fuzz_web_*.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iweb $(LDFLAGS) -o $@ \
	    $(filter-out tests/fuzz/%,$^) -lcmocka -lfcgi $(LDLIBS)

# the unit test replaying the fuzz corpus includes the fuzz targets
$(BUILD)/tests/test_hostile_corpus: $(wildcard tests/fuzz/*.c tests/fuzz/*.h)

# Tests: unit suites, then the integration suite against the real stack.
check:
	sh .ci/deps.sh
	$(MAKE) all
	sh tests/run.sh $(BUILD)

unit: all
	sh tests/run.sh $(BUILD) unit

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize:
	$(MAKE) BUILD=build-san \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" check

# --- fuzzing (tests/fuzz): begin ---
# libFuzzer targets built with clang, ASan and UBSan in build-fuzz, each
# run FUZZ_SECONDS on a scratch copy of its corpus (tests/fuzz/run.sh). A
# crash leaves its input in build-fuzz/crashes/: add it to
# tests/fuzz/corpus/TARGET/ and the unit suite (test_hostile_corpus)
# replays it from then on.
FUZZ_SECONDS ?= 20
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,\
	   $(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fake_dns.c tests/fuzz/fuzz.h \
	    $(WORKER_LIB_OBJ) $(BUILD)/libacme.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iworker -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    tests/fuzz/fake_dns.c $(WORKER_LIB_OBJ) $(BUILD)/libacme.a \
	    $(LDLIBS)

# the web's parsers (web/request.c)
$(BUILD)/fuzz/fuzz_web_%: tests/fuzz/fuzz_web_%.c tests/fuzz/fuzz.h \
	    $(BUILD)/web/request.o $(BUILD)/libacme.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iweb -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(BUILD)/web/request.o $(BUILD)/libacme.a -lfcgi $(LDLIBS)

fuzzers: $(FUZZ_BIN)

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    LDFLAGS="$(FUZZ_SAN)" fuzzers
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)
# --- fuzzing: end ---

deps:
	sh .ci/deps.sh

# Performance: the service side by side with Debian's Pebble (README,
# "Performance"). Not part of check. BENCH_SECONDS, BENCH_LEVELS,
# BENCH_CHILDREN and BENCH_WORKERS tune it.
BENCH_CFLAGS = -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE

bench:
	sh .ci/deps.sh
	sh tests/bench/deps.sh
	$(MAKE) all $(BUILD)/bench/acmebench $(BUILD)/bench/nullfcgi
	/usr/bin/python3 tests/bench/bench.py --build $(BUILD)

$(BUILD)/bench/acmebench: tests/bench/acmebench.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(shell pkg-config --cflags libcurl json-c openssl) \
	    -o $@ $< $(shell pkg-config --libs libcurl json-c openssl) -lpthread

$(BUILD)/bench/nullfcgi: tests/bench/nullfcgi.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< -lfcgi

run:
	sh .ci/deps.sh
	$(MAKE) all
	/usr/bin/python3 tests/stack.py start --build $(BUILD) --state $(CURDIR)/.state

stop:
	/usr/bin/python3 tests/stack.py stop --state $(CURDIR)/.state

install: $(PROGS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 nginx/acme-locations.conf nginx/acme-site.conf \
	    $(DESTDIR)$(DATADIR)/
	install -m 0644 acme.conf.sample $(DESTDIR)$(DATADIR)/acme.conf.sample
	# Apache snippets; systemd units and users (paths as installed)
	install -d $(DESTDIR)$(DATADIR)/apache $(DESTDIR)$(SYSTEMDDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 apache/acme-locations.conf apache/acme-site.conf \
	    $(DESTDIR)$(DATADIR)/apache/
	for f in admin/systemd/*.service admin/systemd/*.socket; do \
		sed -e 's|/usr/local/sbin|$(SBINDIR)|g' \
		    -e 's|/etc/acme|$(SYSCONFDIR)|g' "$$f" \
		    > $(DESTDIR)$(SYSTEMDDIR)/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$${f##*/} || exit 1; \
	done
	install -m 0644 admin/systemd/acme.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/acme.conf
	# e-mail templates (templates_dir); an operator's edits are kept
	for l in en fr; do \
		install -d $(DESTDIR)$(DATADIR)/templates/$$l; \
		for f in worker/templates/$$l/*.txt; do \
			t=$(DESTDIR)$(DATADIR)/templates/$$l/$${f##*/}; \
			if [ -e "$$t" ] && ! cmp -s "$$f" "$$t"; then \
				install -m 0644 "$$f" "$$t.dist"; \
			else \
				install -m 0644 "$$f" "$$t"; \
			fi; \
		done; \
	done

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check unit sanitize fuzz fuzzers deps bench run stop install clean
