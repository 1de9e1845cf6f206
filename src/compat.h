/*-------------------------------------------------------------------------
 * compat.h
 *	  Every PG_VERSION_NUM difference smig cares about, in one place.
 *	  Rule: no "#if PG_VERSION_NUM" inside a function body elsewhere.
 *
 * smig is built and tested on PostgreSQL 15 only (the one server these
 * machines have), so it claims no other version (README, META.json).  It
 * uses 15's InitMaterializedSRF, MarkGUCPrefixReserved,
 * pg_cryptohash_error and AT_REWRITE_ACCESS_METHOD, and 15's event
 * trigger coverage.  A port adds its shims here, with a build and a test
 * run to back it.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_COMPAT_H
#define SMIG_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "smig needs PostgreSQL 15 (it is built and tested on 15 only)"
#endif

#endif							/* SMIG_COMPAT_H */
