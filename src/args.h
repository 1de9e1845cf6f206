/*-------------------------------------------------------------------------
 * args.h
 *	  Checks of the arguments of smig's SQL functions, shared by modules.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_ARGS_H
#define SMIG_ARGS_H

#include "fmgr.h"

/*
 * Raise 22004 "<argname> must not be null" when argument argno is NULL.
 * smig's functions are CALLED ON NULL INPUT so that a NULL is an error
 * rather than a silent NULL result.
 */
extern void args_require(FunctionCallInfo fcinfo, int argno,
						 const char *argname);

/*
 * Refuse (22023) a migration name that is blank (empty or only spaces) or
 * holds a control character (a byte below 0x20, or 0x7F), and (22021) one
 * that is not valid text in the database encoding; the name is shown
 * escaped.  version names the migration, or is NULL for the name of
 * a baseline set with smig.baseline().
 */
extern void args_check_name(const char *name, const char *version);

/* The same for the name of a repeatable migration, its identity. */
extern void args_check_repeatable_name(const char *name);

/*
 * s for a message: control characters as C escapes (\n, \t, \x01) and
 * backslashes doubled, and in a text that is not valid in the database
 * encoding (a file name) every byte above 0x7F too; clipped to maxlen bytes
 * on a character boundary, with "..." after a clipped text.
 */
extern char *args_escape(const char *s, int maxlen);

/*
 * May this call commit?  Only a procedure run by a top-level CALL (or a
 * top-level DO block) outside a transaction block: a non-atomic call.
 */
extern bool args_call_may_commit(FunctionCallInfo fcinfo);

#endif							/* SMIG_ARGS_H */
