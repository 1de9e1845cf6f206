/*-------------------------------------------------------------------------
 * schema.c
 *	  The schema fingerprint recorded with every action.
 *
 * The snapshot itself is SQL (smig.snapshot(), smig._record_schema() in
 * the install script): catalog queries are clearer there than in C.  This
 * module calls it once per action, never per migration and never on the
 * no-op path, as the extension owner (smig.schema_snapshot is written by
 * smig alone), and hands the fingerprint to the action's last history row
 * through the default of smig.history.fingerprint, so that no writer of
 * history needs to know about it.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ownersql.h"
#include "schema.h"

bool		schema_fingerprint_deferred = false;

/* The staged fingerprint, valid only in the transaction that staged it. */
static char *staged_fingerprint = NULL;
static LocalTransactionId staged_lxid = InvalidLocalTransactionId;

void
schema_stage_fingerprint(void)
{
	char	   *fingerprint;

	owner_exec("SELECT smig._record_schema()", 0, NULL, NULL, NULL, SPI_OK_SELECT);
	fingerprint = spi_text(0, 1);
	if (fingerprint == NULL)
		elog(ERROR, "smig._record_schema() returned NULL");
	staged_fingerprint = MemoryContextStrdup(TopTransactionContext, fingerprint);
	staged_lxid = MyProc->lxid;
}

void
schema_stage_fingerprint_if_due(void)
{
	if (!schema_fingerprint_deferred)
		schema_stage_fingerprint();
}

/*
 * smig._staged_fingerprint(): the default of smig.history.fingerprint.
 * Returns the fingerprint staged in this transaction, once, or NULL.
 */
PG_FUNCTION_INFO_V1(smig_staged_fingerprint);
Datum
smig_staged_fingerprint(PG_FUNCTION_ARGS)
{
	char	   *fingerprint = NULL;

	if (staged_fingerprint != NULL && staged_lxid == MyProc->lxid)
		fingerprint = staged_fingerprint;
	staged_fingerprint = NULL;
	staged_lxid = InvalidLocalTransactionId;
	if (fingerprint == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(fingerprint));
}
