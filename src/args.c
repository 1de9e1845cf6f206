/*-------------------------------------------------------------------------
 * args.c
 *	  Checks of the arguments of smig's SQL functions, shared by modules.
 *
 * A NULL argument is an error, never a silent NULL result: a deploy
 * script that passes an unset variable must stop, not report success.
 * Names end up in NOTICEs, status listings and the history, so a name
 * that cannot be seen (blank) or that breaks a line (control characters)
 * is refused where migrations are named: register, load_dir, baseline,
 * register_repeatable.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "args.h"

void
args_require(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

char *
args_escape(const char *name, int maxlen)
{
	StringInfoData buf;
	int			len = (int) strlen(name);
	/* text that is not valid in the encoding (a file name) is shown bytewise */
	bool		valid = pg_verifymbstr(name, len, true);
	int			clip = valid ? pg_mbcliplen(name, len, maxlen) : Min(len, maxlen);
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < clip; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (!valid && c >= 0x80)
			appendStringInfo(&buf, "\\x%02X", c);
		else if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c == '\r')
			appendStringInfoString(&buf, "\\r");
		else if (c == '\t')
			appendStringInfoString(&buf, "\\t");
		else if (c == '\\')
			appendStringInfoString(&buf, "\\\\");
		else if (c < 0x20 || c == 0x7F)
			appendStringInfo(&buf, "\\x%02X", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if (clip < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * Is name neither blank (empty or only spaces) nor holding a control
 * character?  *control says whether it holds one.
 */
static bool
name_is_valid(const char *name, bool *control)
{
	const char *p;
	bool		blank = true;

	*control = false;
	for (p = name; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c < 0x20 || c == 0x7F)
			*control = true;
		else if (c != ' ')
			blank = false;
	}
	return !blank && !*control;
}

/*
 * A name from a file name (load_dir) need not be valid text; stored, it
 * would make smig's tables, the append-only history too, fail to restore
 * from pg_dump and to convert to other client encodings.
 */
static void
require_text(const char *name, const char *version, bool repeatable)
{
	if (!pg_verifymbstr(name, (int) strlen(name), true))
		ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 repeatable
			 ? errmsg("invalid name \"%s\" for a repeatable migration",
					  args_escape(name, 60))
			 : version != NULL
			 ? errmsg("invalid name \"%s\" for migration \"%s\"",
					  args_escape(name, 60), version)
			 : errmsg("invalid baseline name \"%s\"", args_escape(name, 60)),
			 errdetail("A name must be valid text in encoding \"%s\".",
					   GetDatabaseEncodingName())));
}

void
args_check_name(const char *name, const char *version)
{
	bool		control;

	require_text(name, version, false);
	if (name_is_valid(name, &control))
		return;

	if (version != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid name \"%s\" for migration \"%s\"",
						args_escape(name, 60), version),
				 control
				 ? errdetail("A migration name must not contain control characters such as line breaks or tabs.")
				 : errdetail("A migration name must not be empty or only spaces.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid baseline name \"%s\"", args_escape(name, 60)),
			 control
			 ? errdetail("A baseline name must not contain control characters such as line breaks or tabs.")
			 : errdetail("A baseline name must not be empty or only spaces.")));
}

void
args_check_repeatable_name(const char *name)
{
	bool		control;

	require_text(name, NULL, true);
	if (name_is_valid(name, &control))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid name \"%s\" for a repeatable migration",
					args_escape(name, 60)),
			 control
			 ? errdetail("A migration name must not contain control characters such as line breaks or tabs.")
			 : errdetail("A migration name must not be empty or only spaces.")));
}

bool
args_call_may_commit(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
}
