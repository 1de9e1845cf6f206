/*-------------------------------------------------------------------------
 * smig.h
 *	  Settings shared across smig's modules (defined in smig.c).
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_H
#define SMIG_H

/* smig.out_of_order: apply pending versions lower than the current one */
extern bool smig_out_of_order;

#endif							/* SMIG_H */
