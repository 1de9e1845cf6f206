/*-------------------------------------------------------------------------
 * worker.h
 *	  No-transaction migrations: their statements run one by one, each a
 *	  top-level command in its own transaction, in a dynamic background
 *	  worker that the committing procedures (procedure.c) start and wait for.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_WORKER_H
#define SMIG_WORKER_H

#include "postgres.h"

#include "apply.h"

/*
 * Apply (up) or revert one no-transaction migration of a plan through the
 * background worker, and record it in history.  Called by a non-atomic
 * procedure, at the start of one of its transactions; it commits (SPI
 * connected, non-atomic).  Returns NULL when the migration is done and
 * recorded (the transaction then holds its history row), or the error
 * that stopped it, with the transaction clean for the failed attempt's
 * row: the statements before the failing one stay done.
 */
extern ErrorData *worker_run_step(bool up, const ApplyPlanItem *item);

/*
 * After worker_run_step() failed in a statement: "line <n>: <statement>",
 * for the failed attempt's history row; NULL otherwise.
 */
extern const char *worker_failed_statement(void);

/* The worker's entry point (bgw_function_name "smig_worker_main"). */
extern PGDLLEXPORT void smig_worker_main(Datum main_arg);

#endif							/* SMIG_WORKER_H */
