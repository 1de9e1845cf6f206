/*-------------------------------------------------------------------------
 * fuzz.h
 *	  What the libFuzzer harnesses of test/fuzz share: a check that aborts
 *	  (libFuzzer then saves the input as crash-*), and a copy of the input
 *	  in a buffer of exactly its size, so that AddressSanitizer sees any
 *	  read past its end.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_FUZZ_H
#define SMIG_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* data[0..size) in a new buffer of size bytes (plus a NUL when nul). */
static inline char *
fuzz_copy(const uint8_t *data, size_t size, int nul)
{
	char	   *buf = malloc(size + (nul ? 1 : 0) + (size == 0 && !nul));

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	if (nul)
		buf[size] = '\0';
	return buf;
}

#endif							/* SMIG_FUZZ_H */
