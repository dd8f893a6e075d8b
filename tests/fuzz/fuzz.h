/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz share.
 *
 * Each fuzz_NAME.c defines its entry point with FUZZ_TARGET(NAME). Built
 * by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined) the entry
 * point is LLVMFuzzerTestOneInput; included by the unit test
 * tests/unit/test_hostile_corpus.c with FUZZ_REPLAY defined, it is
 * fuzz_NAME(), which that test runs on every file of
 * tests/fuzz/corpus/NAME/ (the seeds and every crash found, kept as
 * regression inputs).
 *
 * An entry point returns 0; it calls abort() when an invariant of the
 * code under test breaks (libFuzzer and the sanitizers report the rest).
 */
#ifndef ACME_FUZZ_H
#define ACME_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name)						\
	int fuzz_##name(const uint8_t *, size_t);			\
	int fuzz_##name
#else
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
#define FUZZ_TARGET(name)	int LLVMFuzzerTestOneInput
#endif

/* fake_dns.c: the answers dns_query() gives, taken from a fuzz input
 * made of messages each preceded by its length (2 bytes, big-endian);
 * once they are used up, every query times out. */
void	 fake_dns_set(const uint8_t *, size_t);

#endif
