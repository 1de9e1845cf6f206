/*-------------------------------------------------------------------------
 * fuzz_lexer.c
 *	  libFuzzer harness: the SQL script lexer (sqllex_next,
 *	  sqllex_no_transaction, sqllex_password_prefix, sqllex_line_at) on
 *	  arbitrary bytes.
 *
 * Checks: statements come in order, inside the buffer, never empty, with
 * line numbers that never go down and equal sqllex_line_at() of their
 * start; every call moves forward (the loop ends); after an error the
 * lexer keeps returning it; the same text lexed from line 10 reports
 * every line 9 higher.
 *-------------------------------------------------------------------------
 */
#include "fuzz.h"
#include "sqllex.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = fuzz_copy(data, size, 0);
	SqlLexer	lx,
				lx10;
	SqlStmt		st,
				st10;
	SqlLexStatus rc,
				rc10;
	size_t		prev_end = 0;
	int			prev_line = 1;
	int			n = 0;

	sqllex_init(&lx, buf, size);
	sqllex_init_at(&lx10, buf, size, 10);
	for (;;)
	{
		rc = sqllex_next(&lx, &st);
		rc10 = sqllex_next(&lx10, &st10);
		FUZZ_CHECK(rc == rc10);
		if (rc != SQLLEX_OK)
			break;
		FUZZ_CHECK(st.start >= prev_end && st.start < st.end && st.end <= size);
		FUZZ_CHECK(st.line >= prev_line);
		FUZZ_CHECK(st.line == sqllex_line_at(buf, size, st.start));
		FUZZ_CHECK(st10.start == st.start && st10.end == st.end &&
				   st10.kind == st.kind && st10.line == st.line + 9);
		FUZZ_CHECK(st.kind >= SQL_STMT_PLAIN && st.kind <= SQL_STMT_COPY_STDIO);
		(void) sqllex_no_transaction(buf + st.start, st.end - st.start);
		/* what an echo may show of it: a prefix of the statement */
		FUZZ_CHECK(sqllex_password_prefix(buf + st.start, st.end - st.start) <= st.end - st.start);
		prev_end = st.end;
		prev_line = st.line;
		FUZZ_CHECK(++n <= (int) size);
	}
	if (rc == SQLLEX_ERROR)
	{
		FUZZ_CHECK(lx.error != NULL && lx.error_line >= 1);
		FUZZ_CHECK(lx10.error_line == lx.error_line + 9);
		FUZZ_CHECK(sqllex_next(&lx, &st) == SQLLEX_ERROR);
	}
	else
		FUZZ_CHECK(rc == SQLLEX_END && sqllex_next(&lx, &st) == SQLLEX_END);
	(void) sqllex_no_transaction(buf, size);
	free(buf);
	return 0;
}
