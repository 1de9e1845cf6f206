/*-------------------------------------------------------------------------
 * sqllex.c
 *	  A small SQL script lexer shared by the smig extension and client.
 *
 * It splits a script into statements the way psql does: ';' ends a
 * statement except inside comments (-- and nested block comments),
 * literals ('...', E'...', U&'...', "...", $tag$...$tag$), parentheses,
 * and the BEGIN ... END body of CREATE FUNCTION/PROCEDURE (psqlscan.l's
 * begin_depth rule).  A backslash outside literals starts a psql
 * meta-command, which runs to the end of its line.
 *
 * Plain C, no allocation: every result is an offset into the caller's
 * buffer, which need not be NUL-terminated.
 *-------------------------------------------------------------------------
 */
#include "sqllex.h"

#include <string.h>

/*---- characters ------------------------------------------------------------*/

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int
is_ident_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static int
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitive: is buf[0..len) the lowercase word w? */
static int
word_is(const char *buf, size_t len, const char *w)
{
	size_t		i;

	if (strlen(w) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower((unsigned char) buf[i]) != w[i])
			return 0;
	return 1;
}

/* Consume one byte, counting lines (CRLF, CR and LF each end one). */
static void
advance(SqlLexer *lx)
{
	char		c = lx->buf[lx->pos++];

	if (c == '\n' || (c == '\r' && !(lx->pos < lx->len && lx->buf[lx->pos] == '\n')))
		lx->line++;
}

static int
at(const SqlLexer *lx, size_t off, char c)
{
	return lx->pos + off < lx->len && lx->buf[lx->pos + off] == c;
}

/*---- comments and literals --------------------------------------------------*/

static void
skip_line_comment(SqlLexer *lx)
{
	while (lx->pos < lx->len && lx->buf[lx->pos] != '\n' && lx->buf[lx->pos] != '\r')
		advance(lx);
}

static int
fail(SqlLexer *lx, const char *msg, int line)
{
	lx->error = msg;
	lx->error_line = line;
	lx->pos = lx->len;
	return -1;
}

/* At "/ *": skip a (nested) block comment. */
static int
skip_block_comment(SqlLexer *lx)
{
	int			line = lx->line;
	int			depth = 0;

	while (lx->pos < lx->len)
	{
		if (at(lx, 0, '/') && at(lx, 1, '*'))
		{
			depth++;
			advance(lx);
		}
		else if (at(lx, 0, '*') && at(lx, 1, '/'))
		{
			depth--;
			advance(lx);
			if (depth == 0)
			{
				advance(lx);
				return 1;
			}
		}
		advance(lx);
	}
	return fail(lx, "unterminated /* comment", line);
}

/* At a quote char q: skip to the closing one ("" or '' doubles it). */
static int
skip_quoted(SqlLexer *lx, char q, int backslash_escapes, const char *msg)
{
	int			line = lx->line;

	advance(lx);				/* the opening quote */
	while (lx->pos < lx->len)
	{
		char		c = lx->buf[lx->pos];

		if (backslash_escapes && c == '\\' && lx->pos + 1 < lx->len)
		{
			advance(lx);
			advance(lx);
			continue;
		}
		advance(lx);
		if (c == q)
		{
			if (at(lx, 0, q))
			{
				advance(lx);
				continue;
			}
			return 1;
		}
	}
	return fail(lx, msg, line);
}

/*
 * At '$': if a dollar quote opens here ($$ or $tag$), skip the whole
 * literal and return 1; return 0 (consuming nothing) when it is not a
 * dollar quote, e.g. a parameter $1.
 */
static int
skip_dollar_quote(SqlLexer *lx)
{
	size_t		tag_start = lx->pos;
	size_t		p = lx->pos + 1;
	size_t		tag_len;
	int			line = lx->line;

	if (p < lx->len && is_ident_start((unsigned char) lx->buf[p]))
	{
		p++;
		while (p < lx->len && (is_ident_start((unsigned char) lx->buf[p]) ||
							   is_digit((unsigned char) lx->buf[p])))
			p++;
	}
	if (p >= lx->len || lx->buf[p] != '$')
		return 0;
	tag_len = p + 1 - tag_start;	/* includes both '$' */

	while (lx->pos < tag_start + tag_len)
		advance(lx);
	while (lx->pos < lx->len)
	{
		if (lx->buf[lx->pos] == '$' && lx->pos + tag_len <= lx->len &&
			memcmp(lx->buf + lx->pos, lx->buf + tag_start, tag_len) == 0)
		{
			size_t		end = lx->pos + tag_len;

			while (lx->pos < end)
				advance(lx);
			return 1;
		}
		advance(lx);
	}
	return fail(lx, "unterminated dollar-quoted string", line);
}

/*
 * If a comment or literal starts at the current position, skip it and
 * return 1; return 0 if none starts here, -1 when it is unterminated.
 * A string prefix (E, U&, B, X, N) must already be consumed: the caller
 * passes backslash_escapes for E''.
 */
static int
skip_special(SqlLexer *lx)
{
	if (lx->pos >= lx->len)
		return 0;
	switch (lx->buf[lx->pos])
	{
		case '-':
			if (!at(lx, 1, '-'))
				return 0;
			skip_line_comment(lx);
			return 1;
		case '/':
			if (!at(lx, 1, '*'))
				return 0;
			return skip_block_comment(lx);
		case '\'':
			return skip_quoted(lx, '\'', 0, "unterminated quoted string");
		case '"':
			return skip_quoted(lx, '"', 0, "unterminated quoted identifier");
		case '$':
			return skip_dollar_quote(lx);
		default:
			return 0;
	}
}

/* Skip white space and comments; -1 on an unterminated comment. */
static int
skip_blank(SqlLexer *lx)
{
	while (lx->pos < lx->len)
	{
		if (is_space((unsigned char) lx->buf[lx->pos]))
			advance(lx);
		else if ((at(lx, 0, '-') && at(lx, 1, '-')) || (at(lx, 0, '/') && at(lx, 1, '*')))
		{
			if (skip_special(lx) < 0)
				return -1;
		}
		else
			break;
	}
	return 0;
}

/*---- statements ---------------------------------------------------------------*/

void
sqllex_init(SqlLexer *lx, const char *buf, size_t len)
{
	lx->buf = buf;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->error = NULL;
	lx->error_line = 0;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		lx->pos = 3;
}

/* What the first two words say about a statement. */
static SqlStmtKind
classify(const char *buf, size_t w1, size_t l1, size_t w2, size_t l2)
{
	const char *a = buf + w1;
	const char *b = buf + w2;

	if (l1 == 0)
		return SQL_STMT_PLAIN;
	if (word_is(a, l1, "begin"))
		return SQL_STMT_BEGIN;
	if (word_is(a, l1, "start"))
		return word_is(b, l2, "transaction") ? SQL_STMT_BEGIN : SQL_STMT_PLAIN;
	if (word_is(a, l1, "commit"))
		return word_is(b, l2, "prepared") ? SQL_STMT_TXN_OTHER : SQL_STMT_COMMIT;
	if (word_is(a, l1, "end"))
		return SQL_STMT_COMMIT;
	if (word_is(a, l1, "rollback") || word_is(a, l1, "abort") ||
		word_is(a, l1, "savepoint") || word_is(a, l1, "release"))
		return SQL_STMT_TXN_OTHER;
	if (word_is(a, l1, "prepare"))
		return word_is(b, l2, "transaction") ? SQL_STMT_TXN_OTHER : SQL_STMT_PLAIN;
	return SQL_STMT_PLAIN;
}

SqlLexStatus
sqllex_next(SqlLexer *lx, SqlStmt *out)
{
	size_t		last_end;
	int			paren = 0;
	int			begin_depth = 0;
	int			ntokens = 0;
	int			nwords = 0;
	char		initials[4] = {0, 0, 0, 0};	/* of the first words */
	size_t		w1 = 0,
				l1 = 0,
				w2 = 0,
				l2 = 0;

	/* skip blanks, comments and empty statements */
	for (;;)
	{
		if (skip_blank(lx) < 0)
			return SQLLEX_ERROR;
		if (lx->pos < lx->len && lx->buf[lx->pos] == ';')
			advance(lx);
		else
			break;
	}
	if (lx->pos >= lx->len)
		return SQLLEX_END;

	out->start = lx->pos;
	out->line = lx->line;

	/* a psql meta-command: to the end of the line */
	if (lx->buf[lx->pos] == '\\')
	{
		while (lx->pos < lx->len && lx->buf[lx->pos] != '\n' && lx->buf[lx->pos] != '\r')
			lx->pos++;
		out->end = lx->pos;
		out->kind = SQL_STMT_META;
		return SQLLEX_OK;
	}

	last_end = lx->pos;
	while (lx->pos < lx->len)
	{
		unsigned char c = (unsigned char) lx->buf[lx->pos];
		size_t		tok = lx->pos;
		int			is_word = 0;
		int			r;

		if (is_space(c))
		{
			advance(lx);
			continue;
		}
		if ((c == '-' && at(lx, 1, '-')) || (c == '/' && at(lx, 1, '*')))
		{
			if (skip_special(lx) < 0)
				return SQLLEX_ERROR;
			continue;
		}
		if (c == ';' && paren == 0 && begin_depth == 0)
		{
			advance(lx);
			break;
		}
		if (c == '\\')
			break;				/* a meta-command ends the statement */

		if (c == '\'' || c == '"')
		{
			if (skip_special(lx) < 0)
				return SQLLEX_ERROR;
		}
		else if (c == '$')
		{
			if ((r = skip_dollar_quote(lx)) < 0)
				return SQLLEX_ERROR;
			if (r == 0)
			{
				advance(lx);	/* $1, or a lone $ */
				while (lx->pos < lx->len && is_digit((unsigned char) lx->buf[lx->pos]))
					advance(lx);
			}
		}
		else if (is_ident_start(c) || is_digit(c))
		{
			size_t		len;

			while (lx->pos < lx->len && is_ident_cont((unsigned char) lx->buf[lx->pos]))
				advance(lx);
			len = lx->pos - tok;

			/* string prefixes: E'', U&'', B'', X'', N'' */
			if (len == 1 && at(lx, 0, '\''))
			{
				if (skip_quoted(lx, '\'', lower(c) == 'e', "unterminated quoted string") < 0)
					return SQLLEX_ERROR;
			}
			else if (len == 1 && lower(c) == 'u' && at(lx, 0, '&') &&
					 (at(lx, 1, '\'') || at(lx, 1, '"')))
			{
				advance(lx);
				if (skip_special(lx) < 0)
					return SQLLEX_ERROR;
			}
			else if (!is_digit(c))
			{
				is_word = 1;
				if (nwords < 4)
					initials[nwords] = (char) lower(c);
				if (nwords == 0 && ntokens == 0)
				{
					w1 = tok;
					l1 = len;
				}
				else if (nwords == 1 && ntokens == 1)
				{
					w2 = tok;
					l2 = len;
				}
				/* psql's rule for BEGIN ATOMIC bodies */
				if (word_is(lx->buf + tok, len, "begin") ||
					word_is(lx->buf + tok, len, "case"))
				{
					if (nwords > 1 && initials[0] == 'c' &&
						(initials[1] == 'f' || initials[1] == 'p' ||
						 (initials[1] == 'o' && initials[2] == 'r' &&
						  (initials[3] == 'f' || initials[3] == 'p'))))
						begin_depth++;
				}
				else if (word_is(lx->buf + tok, len, "end") && begin_depth > 0)
					begin_depth--;
				nwords++;
			}
		}
		else
		{
			if (c == '(')
				paren++;
			else if (c == ')' && paren > 0)
				paren--;
			advance(lx);
		}
		(void) is_word;
		ntokens++;
		last_end = lx->pos;
	}

	out->end = last_end;
	out->kind = classify(lx->buf, w1, l1, w2, l2);
	return SQLLEX_OK;
}

/*---- directives and sections ---------------------------------------------------*/

/* Line number of offset pos. */
static int
line_at(const char *buf, size_t pos)
{
	SqlLexer	lx;

	sqllex_init(&lx, buf, pos);
	lx.pos = 0;
	while (lx.pos < pos)
		advance(&lx);
	return lx.line;
}

/* End of the line that starts at or contains pos (before CR/LF). */
static size_t
line_end(const char *buf, size_t len, size_t pos)
{
	while (pos < len && buf[pos] != '\n' && buf[pos] != '\r')
		pos++;
	return pos;
}

/*
 * Is the "--" comment at buf[pos] of the form "-- <prefix>:<word>"?
 * Sets *word and *word_len to the word, *rest to what follows it.
 */
static int
comment_tag(const char *buf, size_t len, size_t pos, const char *prefix,
			size_t *word, size_t *word_len, size_t *rest)
{
	size_t		end = line_end(buf, len, pos);
	size_t		plen = strlen(prefix);
	size_t		p = pos + 2;

	while (p < end && (buf[p] == ' ' || buf[p] == '\t'))
		p++;
	if (end - p < plen + 1 || memcmp(buf + p, prefix, plen) != 0 || buf[p + plen] != ':')
		return 0;
	p += plen + 1;
	*word = p;
	while (p < end && ((buf[p] >= 'a' && buf[p] <= 'z') || is_digit((unsigned char) buf[p]) || buf[p] == '-'))
		p++;
	*word_len = p - *word;
	*rest = p;
	return *word_len > 0;
}

/* Is the "--" comment at pos a section marker?  1 = up, 2 = down. */
static int
section_marker(const char *buf, size_t len, size_t pos)
{
	size_t		end = line_end(buf, len, pos);
	size_t		w,
				wl,
				rest;
	int			kind;

	if (!comment_tag(buf, len, pos, "smig", &w, &wl, &rest) &&
		!comment_tag(buf, len, pos, "migrate", &w, &wl, &rest))
		return 0;
	if (word_is(buf + w, wl, "up"))
		kind = 1;
	else if (word_is(buf + w, wl, "down"))
		kind = 2;
	else
		return 0;
	while (rest < end && is_space((unsigned char) buf[rest]))
		rest++;
	return rest == end ? kind : 0;
}

int
sqllex_next_directive(const char *buf, size_t len, size_t *pos,
					  const char **name, size_t *name_len,
					  const char **arg, size_t *arg_len, int *line)
{
	SqlLexer	lx;

	sqllex_init(&lx, buf, len);
	if (*pos > lx.pos)
		lx.pos = *pos;

	while (lx.pos < len)
	{
		unsigned char c = (unsigned char) buf[lx.pos];

		if (is_space(c))
			lx.pos++;
		else if (c == '/' && lx.pos + 1 < len && buf[lx.pos + 1] == '*')
		{
			if (skip_block_comment(&lx) < 0)
				break;
		}
		else if (c == '-' && lx.pos + 1 < len && buf[lx.pos + 1] == '-')
		{
			size_t		start = lx.pos;
			size_t		end = line_end(buf, len, start);
			size_t		w,
						wl,
						rest;

			lx.pos = end;
			if (section_marker(buf, len, start) ||
				!comment_tag(buf, len, start, "smig", &w, &wl, &rest))
				continue;
			while (rest < end && (buf[rest] == ' ' || buf[rest] == '\t'))
				rest++;
			*name = buf + w;
			*name_len = wl;
			*arg = buf + rest;
			*arg_len = end - rest;
			while (*arg_len > 0 && is_space((unsigned char) (*arg)[*arg_len - 1]))
				(*arg_len)--;
			*line = line_at(buf, start);
			*pos = end;
			return 1;
		}
		else
			break;
	}
	*pos = len;
	return 0;
}

int
sqllex_split_sections(const char *buf, size_t len,
					  size_t *up_start, size_t *up_end,
					  size_t *down_start, size_t *down_end,
					  const char **error, int *error_line)
{
	SqlLexer	lx;
	int			seen_up = 0;
	int			seen_down = 0;
	int			line_has_code = 0;	/* non-blank text earlier on this line */
	int			code_before_up = 0;
	int			code_line = 0;
	size_t		body_start;

	sqllex_init(&lx, buf, len);
	body_start = lx.pos;
	*up_start = body_start;
	*up_end = len;
	*down_start = *down_end = len;

	while (lx.pos < len)
	{
		unsigned char c = (unsigned char) buf[lx.pos];

		if (c == '\n' || c == '\r')
		{
			line_has_code = 0;
			advance(&lx);
			continue;
		}
		if (is_space(c))
		{
			advance(&lx);
			continue;
		}
		if (c == '-' && lx.pos + 1 < len && buf[lx.pos + 1] == '-' && !line_has_code)
		{
			size_t		start = lx.pos;
			int			kind = section_marker(buf, len, start);
			size_t		next;

			skip_line_comment(&lx);
			if (kind == 0)
				continue;
			/* the section starts after the marker's line break */
			next = lx.pos;
			if (next < len && buf[next] == '\r')
				next++;
			if (next < len && buf[next] == '\n')
				next++;
			if (kind == 1)
			{
				if (seen_up || seen_down)
				{
					*error = seen_up ? "duplicate \"-- smig:up\" marker"
						: "\"-- smig:up\" marker after \"-- smig:down\"";
					*error_line = lx.line;
					return -1;
				}
				if (code_before_up)
				{
					*error = "statements before the \"-- smig:up\" marker";
					*error_line = code_line;
					return -1;
				}
				seen_up = 1;
				*up_start = next;
			}
			else
			{
				if (seen_down)
				{
					*error = "duplicate \"-- smig:down\" marker";
					*error_line = lx.line;
					return -1;
				}
				seen_down = 1;
				*up_end = start;
				*down_start = next;
				*down_end = len;
			}
			continue;
		}
		if (!seen_up && !seen_down && !code_before_up &&
			!((c == '-' && lx.pos + 1 < len && buf[lx.pos + 1] == '-') ||
			  (c == '/' && lx.pos + 1 < len && buf[lx.pos + 1] == '*')))
		{
			code_before_up = 1;
			code_line = lx.line;
		}
		line_has_code = 1;
		if (is_ident_start(c) || is_digit(c))
		{
			size_t		tok = lx.pos;

			while (lx.pos < len && is_ident_cont((unsigned char) buf[lx.pos]))
				advance(&lx);
			/* E'...' takes backslash escapes */
			if (lx.pos - tok == 1 && lower(c) == 'e' && at(&lx, 0, '\''))
			{
				if (skip_quoted(&lx, '\'', 1, "unterminated quoted string") < 0)
					break;
			}
			continue;
		}
		{
			int			r = skip_special(&lx);

			if (r < 0)
			{
				/* unterminated: leave it to the statement lexer to report */
				break;
			}
			if (r == 0)
				advance(&lx);
		}
	}

	if (!seen_up && !seen_down)
	{
		*up_start = body_start;
		*up_end = len;
		return 0;
	}
	/* "-- smig:down" without an up marker: the text before it is up */
	return 1;
}
