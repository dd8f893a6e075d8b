/*
 * fuzz_csr.c - the checks of a finalize CSR (common/csr.c) on arbitrary
 * DER: an accepted request names exactly the order's names.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "x509.h"

FUZZ_TARGET(csr)(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "example.org", "www.example.org" };
	static const int sizes[] = { 2048, 3072 };
	struct csr_info info;
	struct problem p;
	size_t i;

	memset(&p, 0, sizeof(p));
	if (csr_check(data, size, names, 2, sizes, 2, NULL, &info, &p)) {
		if (info.nnames != 2 || info.pkey == NULL)
			abort();
		for (i = 0; i < info.nnames; i++)
			if (strcasecmp(info.names[i], names[0]) != 0 &&
			    strcasecmp(info.names[i], names[1]) != 0)
				abort();
		csr_info_free(&info);
	} else if (p.type == PT_NONE)
		abort();
	problem_clear(&p);
	return 0;
}
