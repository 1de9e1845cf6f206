/*-------------------------------------------------------------------------
 * schema.c
 *	  The schema fingerprint recorded with every action.
 *
 * The snapshot itself is SQL (smig.snapshot(), smig._record_schema() in
 * the install script): catalog queries are clearer there than in C.  This
 * module calls it once per action, never per migration and never on the
 * no-op path, as the extension owner (smig.schema_snapshot is written by
 * smig alone).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "ownersql.h"
#include "schema.h"

char *
schema_record(void)
{
	char	   *fingerprint;

	owner_exec("SELECT smig._record_schema()", 0, NULL, NULL, NULL, SPI_OK_SELECT);
	fingerprint = spi_text(0, 1);
	if (fingerprint == NULL)
		elog(ERROR, "smig._record_schema() returned NULL");
	return fingerprint;
}
