/*-------------------------------------------------------------------------
 * versions.h
 *	  Migration versions in the server: validation with a proper error.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_VERSIONS_H
#define SMIG_VERSIONS_H

/* The sort key of version (palloc'd); ERROR 22023 when it is invalid. */
extern char *version_key_or_error(const char *version);

#endif							/* SMIG_VERSIONS_H */
