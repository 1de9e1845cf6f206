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
	int			clip = pg_mbcliplen(name, len, maxlen);
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < clip; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (c == '\n')
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

void
args_check_name(const char *name, const char *version)
{
	bool		control;

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
