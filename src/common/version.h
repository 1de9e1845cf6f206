/*-------------------------------------------------------------------------
 * version.h
 *	  Migration versions: validation and an order-preserving sort key.
 *
 * A version is one or more groups of ASCII digits separated by '.' or '_'
 * ("1", "001", "1.2.10", "2026_11_22_1200").  Versions compare group by
 * group as unbounded integers: leading zeros do not count ("001" = "1"),
 * a missing group counts as zero ("1" = "1.0"), and the separator does not
 * matter ("1.2" = "1_2").  Digit strings are compared, never parsed, so a
 * group may be arbitrarily long.  Plain C, shared with the client.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_VERSION_H
#define SMIG_VERSION_H

#include <stdbool.h>
#include <stddef.h>

/* Longest version accepted, in bytes. */
#define SMIG_VERSION_MAXLEN 200

/* Room a sort key needs for a version of len bytes, with its NUL. */
#define SMIG_VERSION_KEYSIZE(len) (2 * (len) + 16)

/* Is v[0..len) a valid version? */
extern bool version_is_valid(const char *v, size_t len);

/*
 * Write the NUL-terminated sort key of v[0..len) into key (which has room
 * for SMIG_VERSION_KEYSIZE(len) bytes).  Two versions are equal exactly
 * when their keys are, and order as their keys do under strcmp.  Returns
 * false, writing nothing, when v is not a valid version.
 */
extern bool version_sort_key(const char *v, size_t len, char *key);

#endif							/* SMIG_VERSION_H */
