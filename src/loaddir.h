/*-------------------------------------------------------------------------
 * loaddir.h
 *	  smig.load_dir: a server directory of migration files into the
 *	  registry, with a stat cache so that an unchanged directory opens no
 *	  file.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_LOADDIR_H
#define SMIG_LOADDIR_H

/* Define the GUC smig.load_dir_cache (from _PG_init). */
extern void loaddir_init(void);

#endif							/* SMIG_LOADDIR_H */
