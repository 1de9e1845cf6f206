/*-------------------------------------------------------------------------
 * retry.h
 *	  Safety under load: a lock timeout and retries per statement, a
 *	  statement timeout, and their settings and per-migration overrides.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_RETRY_H
#define SMIG_RETRY_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* Define smig.lock_timeout, lock_retries, retry_backoff, statement_timeout. */
extern void retry_init(void);

/* How one migration's statements run: the settings, or its overrides. */
typedef struct RetryPolicy
{
	int			lock_timeout_ms;	/* lock_timeout while it runs; 0: none */
	int			lock_retries;	/* retries of a statement after a lock
								 * timeout; 0: none */
	int			backoff_ms;		/* first pause between attempts */
	int			statement_timeout_ms;	/* per statement attempt; 0: none */
} RetryPolicy;

/*
 * The policy of a migration: the smig.* settings, overridden by its
 * options' values (text as registered, NULL when absent).
 */
extern void retry_policy(RetryPolicy *policy, const char *lock_timeout,
						 const char *lock_retries,
						 const char *statement_timeout);

/* One statement's work, run by retry_statement (it may run it again). */
typedef void (*RetryStatementFn) (void *arg);

/*
 * Run fn(arg), the statement sql, under policy.  When it may wait for a
 * lock another session holds (see retry.c), it runs in a subtransaction:
 * if it fails with a lock timeout, the subtransaction is rolled back, a
 * NOTICE names the lock and its holders, and it runs again after the
 * backoff, up to policy->lock_retries times; then an error says the same.
 * Any other error propagates unchanged.  Every attempt is bounded by
 * policy->statement_timeout_ms.  The caller's SPI connection is used for
 * the holders' query, run as role report_as (the caller of the deploy).
 * The lock_timeout setting itself is the caller's to set (with
 * policy->lock_timeout_ms, in its own GUC nest level).
 */
extern void retry_statement(const RetryPolicy *policy, const char *sql,
							RetryStatementFn fn, void *arg, Oid report_as);

/*
 * retry_statement() with lock_timeout set to policy->lock_timeout_ms for
 * the statement alone (its own GUC nest level): for statements smig runs
 * outside a migration's runner (the batches of a backfill).
 */
extern void retry_statement_locked(const RetryPolicy *policy, const char *sql,
								   RetryStatementFn fn, void *arg, Oid report_as);

/*
 * For a statement that is transactions of its own (the background worker
 * of no-transaction migrations; call outside a transaction): fn(arg) runs
 * one attempt, starting and committing its transactions.  When it fails,
 * its transaction is aborted and cleanup(arg) (if not NULL) runs, outside
 * a transaction; a lock timeout is then retried as retry_statement()
 * retries it (NOTICE, backoff, the same error when the retries are used
 * up), with lock_timeout as the session has it.  policy's statement
 * timeout is not used: the session's statement_timeout bounds an attempt.
 */
extern void retry_top_level(const RetryPolicy *policy, RetryStatementFn fn,
							RetryStatementFn cleanup, void *arg,
							Oid report_as);

/*
 * Registration: the per-migration directives ("-- smig:lock-timeout",
 * "-- smig:lock-retries", "-- smig:statement-timeout") and options
 * ("lock_timeout", "lock_retries", "statement_timeout").
 * retry_directive returns false for a name that is not one of them;
 * otherwise it checks arg (an error names the migration) and
 * appends ", \"<option>\": <value>" to buf.  retry_option returns false
 * for a key that is not one of them; otherwise it checks the value.
 */
extern bool retry_directive(const char *name, const char *arg,
							const char *version, StringInfo buf);
extern bool retry_option(const char *key, const JsonbValue *value,
						 const char *version);

#endif							/* SMIG_RETRY_H */
