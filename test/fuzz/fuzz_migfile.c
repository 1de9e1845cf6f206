/*-------------------------------------------------------------------------
 * fuzz_migfile.c
 *	  libFuzzer harness: a migration file's text as the client and
 *	  load_dir() take it apart: sections (sqllex_split_sections), the
 *	  directives of its up part (sqllex_next_directive), the statements of
 *	  each part lexed from its first line (sqllex_init_at, sqllex_line_at)
 *	  and the checksum walk (cksumnorm, schemes 1 and 2).
 *
 * Checks: section bounds inside the text and in order; directive spans
 * inside the up part, names non-empty, every call moving forward; each
 * part's statements inside the part; the checksum chunks, concatenated,
 * equal a plain reference normalisation (BOM dropped, CRLF and CR made
 * LF, under scheme 2 trailing blanks dropped first).
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>

#include "cksumnorm.h"
#include "fuzz.h"
#include "sqllex.h"

static void
lex_part(const char *text, size_t len, size_t start, size_t end)
{
	SqlLexer	lx;
	SqlStmt		st;
	int			first = sqllex_line_at(text, len, start);

	FUZZ_CHECK(first >= 1);
	sqllex_init_at(&lx, text + start, end - start, first);
	while (sqllex_next(&lx, &st) == SQLLEX_OK)
	{
		FUZZ_CHECK(st.end <= end - start && st.start < st.end);
		FUZZ_CHECK(st.line >= first);
	}
}

static void
directives(const char *buf, size_t len)
{
	size_t		pos = 0,
				prev = 0;
	const char *name,
			   *arg;
	size_t		name_len,
				arg_len;
	int			line;
	int			n = 0;

	while (sqllex_next_directive(buf, len, &pos, &name, &name_len, &arg,
								 &arg_len, &line))
	{
		FUZZ_CHECK(pos > prev && pos <= len);
		FUZZ_CHECK(name_len > 0 && name >= buf && name + name_len <= buf + len);
		FUZZ_CHECK(arg_len == 0 || (arg >= name + name_len && arg + arg_len <= buf + len));
		FUZZ_CHECK(line >= 1);
		prev = pos;
		FUZZ_CHECK(++n <= (int) len);
	}
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The normalised text, the slow and obvious way. */
static char *
reference(const char *buf, size_t len, int scheme, size_t *out_len)
{
	char	   *r = malloc(len + 1);
	size_t		i = 0,
				n = 0;

	if (r == NULL)
		abort();
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	if (scheme >= 2)
		while (len > i && blank(buf[len - 1]))
			len--;
	for (; i < len; i++)
	{
		if (buf[i] == '\r')
		{
			r[n++] = '\n';
			if (i + 1 < len && buf[i + 1] == '\n')
				i++;
		}
		else
			r[n++] = buf[i];
	}
	*out_len = n;
	return r;
}

static void
checksum_walk(const char *buf, size_t len, int scheme)
{
	ChecksumNorm cn;
	const char *chunk;
	size_t		chunk_len;
	size_t		want_len,
				n = 0;
	char	   *want = reference(buf, len, scheme, &want_len);
	char	   *got = malloc(2 * len + 1);

	if (got == NULL)
		abort();
	cksumnorm_init(&cn, buf, len, scheme);
	while (cksumnorm_next(&cn, &chunk, &chunk_len))
	{
		FUZZ_CHECK(chunk_len > 0);
		FUZZ_CHECK(n + chunk_len <= 2 * len);
		memcpy(got + n, chunk, chunk_len);
		n += chunk_len;
	}
	FUZZ_CHECK(n == want_len && memcmp(got, want, n) == 0);
	free(got);
	free(want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = fuzz_copy(data, size, 0);
	size_t		us,
				ue,
				ds,
				de;
	const char *err = NULL;
	int			line = 0;
	int			sections;

	sections = sqllex_split_sections(text, size, &us, &ue, &ds, &de, &err, &line);
	FUZZ_CHECK(sections >= -1 && sections <= 1);
	if (sections < 0)
		FUZZ_CHECK(err != NULL && line >= 1);
	else
	{
		FUZZ_CHECK(us <= ue && ue <= size && ds <= de && de <= size);
		if (sections > 0)
			FUZZ_CHECK(ue <= ds);
		lex_part(text, size, us, ue);
		directives(text + us, ue - us);
		if (sections > 0)
			lex_part(text, size, ds, de);
	}
	checksum_walk(text, size, 1);
	checksum_walk(text, size, 2);
	free(text);
	return 0;
}
