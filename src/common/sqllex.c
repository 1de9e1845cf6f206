/*-------------------------------------------------------------------------
 * sqllex.c
 *	  A small SQL script lexer shared by the smig extension and client.
 *
 * It splits a script into statements the way psql does (psqlscan.l of
 * PostgreSQL 15): ';' ends a statement except inside comments ("--" and
 * nested block comments), literals ('...', E'...', U&'...', B'...',
 * X'...', N'...', "...", $tag$...$tag$), parentheses, and the BEGIN ... END
 * body of CREATE [OR REPLACE] FUNCTION/PROCEDURE.  Strings are lexed as
 * with standard_conforming_strings on: a backslash escapes only in E''.
 * A backslash outside literals and comments starts a psql meta-command,
 * which runs to the end of its line.
 *
 * Everything here is built on one tokenizer, scan_token(), so that
 * statements, directives and section markers agree on what is a comment
 * or a literal.
 *
 * Plain C, no allocation: every result is an offset into the caller's
 * buffer, which need not be NUL-terminated (a NUL byte is an ordinary
 * character).
 *-------------------------------------------------------------------------
 */
#include "sqllex.h"

#include <stdbool.h>
#include <string.h>

/* What scan_token() found. */
typedef enum TokKind
{
	TOK_WORD,					/* identifier or keyword */
	TOK_OPEN,					/* ( */
	TOK_CLOSE,					/* ) */
	TOK_SEMI,					/* ; */
	TOK_COMMENT,				/* -- or block comment */
	TOK_META,					/* backslash command, to the end of its line */
	TOK_OTHER,					/* literal, number, parameter, operator, ... */
	TOK_ERROR					/* unterminated literal or comment */
} TokKind;

/* Section markers, as returned by section_marker() */
#define MARKER_NONE		0
#define MARKER_UP		1
#define MARKER_DOWN		2
#define MARKER_BAD		3		/* a marker followed by other text */

/*---- characters -------------------------------------------------------*/

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

static bool
is_newline(unsigned char c)
{
	return c == '\n' || c == '\r';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* [A-Za-z_\x80-\xff]: may start an identifier or a dollar-quote tag */
static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '_' || c >= 0x80;
}

/* [A-Za-z0-9_$\x80-\xff]: may continue an identifier */
static bool
is_ident_cont(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static unsigned char
to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Case-insensitively, is s[0..len) the lower-case word w? */
static bool
word_is(const char *s, size_t len, const char *w)
{
	size_t		i;

	if (strlen(w) != len)
		return false;
	for (i = 0; i < len; i++)
		if (to_lower((unsigned char) s[i]) != (unsigned char) w[i])
			return false;
	return true;
}

/*---- the tokenizer ------------------------------------------------------*/

/* The byte off bytes ahead of the current position, or -1 past the end. */
static int
peek(const SqlLexer *lx, size_t off)
{
	if (lx->pos + off >= lx->len)
		return -1;
	return (unsigned char) lx->buf[lx->pos + off];
}

/*
 * Consume one byte, counting lines: "\r\n", a lone "\r" and a lone "\n"
 * each end one line.
 */
static void
advance(SqlLexer *lx)
{
	unsigned char c = (unsigned char) lx->buf[lx->pos++];

	if (c == '\n' || (c == '\r' && peek(lx, 0) != '\n'))
		lx->line++;
}

static void
skip_space(SqlLexer *lx)
{
	while (lx->pos < lx->len && is_space((unsigned char) lx->buf[lx->pos]))
		advance(lx);
}

/* Move to the end of the current line (before its "\r" or "\n"). */
static void
skip_to_eol(SqlLexer *lx)
{
	while (lx->pos < lx->len && !is_newline((unsigned char) lx->buf[lx->pos]))
		lx->pos++;
}

/* Record an error; the lexer stops there (see sqllex_next). */
static TokKind
fail(SqlLexer *lx, const char *msg, int line)
{
	lx->error = msg;
	lx->error_line = line;
	lx->pos = lx->len;
	return TOK_ERROR;
}

/* At a slash-star: skip a block comment, which may nest. */
static TokKind
skip_block_comment(SqlLexer *lx)
{
	int			line = lx->line;
	int			depth = 0;

	while (lx->pos < lx->len)
	{
		if (peek(lx, 0) == '/' && peek(lx, 1) == '*')
		{
			depth++;
			advance(lx);
			advance(lx);
		}
		else if (peek(lx, 0) == '*' && peek(lx, 1) == '/')
		{
			advance(lx);
			advance(lx);
			if (--depth == 0)
				return TOK_COMMENT;
		}
		else
			advance(lx);
	}
	return fail(lx, "unterminated /* comment", line);
}

/*
 * At the opening quote q (' or "): skip to the closing one.  A doubled
 * quote stands for itself; with backslash_escapes (E'' strings) a
 * backslash also escapes the next byte.  line is where the literal began
 * (its prefix may precede the quote).
 */
static TokKind
skip_quoted(SqlLexer *lx, bool backslash_escapes, int line)
{
	unsigned char q = (unsigned char) lx->buf[lx->pos];

	advance(lx);
	while (lx->pos < lx->len)
	{
		unsigned char c = (unsigned char) lx->buf[lx->pos];

		if (backslash_escapes && c == '\\' && lx->pos + 1 < lx->len)
		{
			advance(lx);
			advance(lx);
			continue;
		}
		advance(lx);
		if (c == q)
		{
			if (peek(lx, 0) != q)
				return TOK_OTHER;
			advance(lx);		/* a doubled quote */
		}
	}
	return fail(lx, q == '"' ? "unterminated quoted identifier"
				: "unterminated quoted string", line);
}

/*
 * At '$': a dollar-quoted string ($$...$$, $tag$...$tag$), a positional
 * parameter ($1) or a lone '$'.
 */
static TokKind
scan_dollar(SqlLexer *lx)
{
	size_t		open = lx->pos;
	size_t		p = lx->pos + 1;
	size_t		delim_len;
	int			line = lx->line;

	if (p < lx->len && is_digit((unsigned char) lx->buf[p]))
	{
		/* a parameter */
		advance(lx);
		while (lx->pos < lx->len && is_digit((unsigned char) lx->buf[lx->pos]))
			advance(lx);
		return TOK_OTHER;
	}
	if (p < lx->len && is_ident_start((unsigned char) lx->buf[p]))
	{
		p++;
		while (p < lx->len && (is_ident_start((unsigned char) lx->buf[p]) ||
							   is_digit((unsigned char) lx->buf[p])))
			p++;
	}
	if (p >= lx->len || lx->buf[p] != '$')
	{
		/* not a dollar quote: psql takes just the '$' */
		advance(lx);
		return TOK_OTHER;
	}

	/* the body ends at the first copy of the opening delimiter */
	delim_len = p + 1 - open;
	lx->pos = p + 1;			/* a delimiter holds no line break */
	while (lx->pos < lx->len)
	{
		if (lx->buf[lx->pos] == '$' && lx->len - lx->pos >= delim_len &&
			memcmp(lx->buf + lx->pos, lx->buf + open, delim_len) == 0)
		{
			lx->pos += delim_len;
			return TOK_OTHER;
		}
		advance(lx);
	}
	return fail(lx, "unterminated dollar-quoted string", line);
}

/*
 * At a letter: an identifier or keyword, or a literal with a prefix:
 * E'...' (backslash escapes), B'...', X'...', N'...', U&'...', U&"...".
 * Any other identifier followed by a quote is lexed as a word, as psql
 * does, and the literal is the next token.
 */
static TokKind
scan_word(SqlLexer *lx)
{
	unsigned char c = to_lower((unsigned char) lx->buf[lx->pos]);
	int			line = lx->line;

	if (peek(lx, 1) == '\'' &&
		(c == 'e' || c == 'b' || c == 'x' || c == 'n'))
	{
		advance(lx);
		return skip_quoted(lx, c == 'e', line);
	}
	if (c == 'u' && peek(lx, 1) == '&' &&
		(peek(lx, 2) == '\'' || peek(lx, 2) == '"'))
	{
		advance(lx);
		advance(lx);
		return skip_quoted(lx, false, line);
	}
	while (lx->pos < lx->len && is_ident_cont((unsigned char) lx->buf[lx->pos]))
		advance(lx);
	return TOK_WORD;
}

/*
 * Consume one token at the current position, which must be inside the
 * buffer and not white space.  On TOK_ERROR, lx->error says why.
 */
static TokKind
scan_token(SqlLexer *lx)
{
	unsigned char c = (unsigned char) lx->buf[lx->pos];

	switch (c)
	{
		case '-':
			if (peek(lx, 1) != '-')
				break;
			skip_to_eol(lx);
			return TOK_COMMENT;
		case '/':
			if (peek(lx, 1) != '*')
				break;
			return skip_block_comment(lx);
		case '\'':
		case '"':
			return skip_quoted(lx, false, lx->line);
		case '$':
			return scan_dollar(lx);
		case '\\':
			skip_to_eol(lx);
			return TOK_META;
		case '(':
			advance(lx);
			return TOK_OPEN;
		case ')':
			advance(lx);
			return TOK_CLOSE;
		case ';':
			advance(lx);
			return TOK_SEMI;
		default:
			break;
	}

	if (is_digit(c))
	{
		/*
		 * A number is just its digits, as in psql 15: "1$$x$$" is 1 and a
		 * dollar quote, "1e'x'" is 1 and an E'' string.  The rest of a
		 * decimal or real number lexes as harmless operators and words.
		 */
		while (lx->pos < lx->len && is_digit((unsigned char) lx->buf[lx->pos]))
			advance(lx);
		return TOK_OTHER;
	}
	if (is_ident_start(c))
		return scan_word(lx);

	advance(lx);				/* an operator or punctuation byte */
	return TOK_OTHER;
}

/*---- statements -----------------------------------------------------------*/

void
sqllex_init(SqlLexer *lx, const char *buf, size_t len)
{
	sqllex_init_at(lx, buf, len, 1);
}

void
sqllex_init_at(SqlLexer *lx, const char *buf, size_t len, int first_line)
{
	lx->buf = buf;
	lx->len = len;
	lx->pos = 0;
	lx->line = first_line;
	lx->error = NULL;
	lx->error_line = 0;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		lx->pos = 3;
}

/*
 * State of the statement being lexed, for psql's heuristic that keeps the
 * ';'s of a BEGIN ATOMIC body inside CREATE FUNCTION/PROCEDURE.
 */
typedef struct StmtState
{
	int			paren_depth;
	int			begin_depth;
	int			nwords;			/* identifiers so far (psql's identifier_count) */
	char		initials[4];	/* of create/or/replace/function/procedure
								 * among the first four identifiers */
	bool		is_copy;		/* the first token is the word COPY */
	bool		copy_stdio;		/* ... and FROM STDIN or TO STDOUT follows */
	int			copy_dir;		/* previous token, outside parentheses:
								 * 1 FROM, 2 TO, 0 anything else */
} StmtState;

/*
 * Track one identifier of the statement exactly as psqlscan.l does: once
 * the statement starts with CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN
 * opens a block, CASE opens one inside a block, and END closes one, all
 * outside parentheses only.
 */
static void
track_word(StmtState *st, const char *w, size_t len)
{
	const char *ini = st->initials;

	if (word_is(w, len, "create") || word_is(w, len, "function") ||
		word_is(w, len, "procedure") || word_is(w, len, "or") ||
		word_is(w, len, "replace"))
	{
		if (st->nwords < 4)
			st->initials[st->nwords] = (char) to_lower((unsigned char) w[0]);
	}
	st->nwords++;

	if (ini[0] == 'c' &&
		(ini[1] == 'f' || ini[1] == 'p' ||
		 (ini[1] == 'o' && ini[2] == 'r' && (ini[3] == 'f' || ini[3] == 'p'))) &&
		st->paren_depth == 0)
	{
		if (word_is(w, len, "begin"))
			st->begin_depth++;
		else if (word_is(w, len, "case"))
		{
			if (st->begin_depth >= 1)
				st->begin_depth++;
		}
		else if (word_is(w, len, "end"))
		{
			if (st->begin_depth > 0)
				st->begin_depth--;
		}
	}
}

/*
 * Track one token of a COPY statement: FROM STDIN or TO STDOUT outside
 * parentheses (inside them is the query of COPY (SELECT ...) TO, whose
 * FROM names a table) sends the data through the client connection.
 * Called for words only; every other token resets copy_dir.
 */
static void
track_copy(StmtState *st, int ntokens, const char *w, size_t len)
{
	int			dir = 0;

	if (ntokens == 0)
		st->is_copy = word_is(w, len, "copy");
	if (!st->is_copy || st->paren_depth > 0)
	{
		st->copy_dir = 0;
		return;
	}
	if ((st->copy_dir == 1 && word_is(w, len, "stdin")) ||
		(st->copy_dir == 2 && word_is(w, len, "stdout")))
		st->copy_stdio = true;
	if (word_is(w, len, "from"))
		dir = 1;
	else if (word_is(w, len, "to"))
		dir = 2;
	st->copy_dir = dir;
}

/*
 * Of a statement that may hold a password (CREATE or ALTER of a ROLE, USER,
 * USER MAPPING, GROUP, SERVER or SUBSCRIPTION; ALTER SYSTEM, whose
 * primary_conninfo may have one), the length of the part to
 * show: up to the end of its second word, comments before them included.
 * 0 for any other statement.  buf holds one statement, as sqllex_next()
 * returns them.
 */
size_t
sqllex_password_prefix(const char *buf, size_t len)
{
	static const char *const objects[] = {"role", "user", "group", "server",
	"subscription", "system"};
	SqlLexer	lx;
	const char *w[2];
	size_t		l[2];
	int			n = 0;
	size_t		i;

	sqllex_init(&lx, buf, len);
	while (n < 2)
	{
		size_t		start;
		TokKind		kind;

		skip_space(&lx);
		if (lx.pos >= lx.len)
			return 0;
		start = lx.pos;
		kind = scan_token(&lx);
		if (kind == TOK_COMMENT)
			continue;
		if (kind != TOK_WORD)
			return 0;
		w[n] = buf + start;
		l[n] = lx.pos - start;
		n++;
	}
	if (!word_is(w[0], l[0], "create") && !word_is(w[0], l[0], "alter"))
		return 0;
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (word_is(w[1], l[1], objects[i]))
			return (size_t) (w[1] + l[1] - buf);
	return 0;
}

/* Kind of a statement whose first two tokens are words w1 and w2 (len 0 if not). */
static SqlStmtKind
classify(const char *w1, size_t l1, const char *w2, size_t l2)
{
	if (word_is(w1, l1, "begin"))
		return SQL_STMT_BEGIN;
	if (word_is(w1, l1, "start"))
		return word_is(w2, l2, "transaction") ? SQL_STMT_BEGIN : SQL_STMT_PLAIN;
	if (word_is(w1, l1, "commit"))
		return word_is(w2, l2, "prepared") ? SQL_STMT_TXN_OTHER : SQL_STMT_COMMIT;
	if (word_is(w1, l1, "end"))
		return SQL_STMT_COMMIT;
	if (word_is(w1, l1, "rollback") || word_is(w1, l1, "abort") ||
		word_is(w1, l1, "savepoint") || word_is(w1, l1, "release"))
		return SQL_STMT_TXN_OTHER;
	if (word_is(w1, l1, "prepare"))
		return word_is(w2, l2, "transaction") ? SQL_STMT_TXN_OTHER : SQL_STMT_PLAIN;
	return SQL_STMT_PLAIN;
}

/*
 * After an error every further call returns SQLLEX_ERROR again.  A
 * meta-command's span excludes trailing blanks; a statement in progress
 * when a backslash appears ends just before it.
 */
SqlLexStatus
sqllex_next(SqlLexer *lx, SqlStmt *out)
{
	StmtState	st;
	bool		have_stmt = false;
	int			ntokens = 0;
	size_t		last_end = 0;
	const char *w1 = NULL;
	const char *w2 = NULL;
	size_t		l1 = 0;
	size_t		l2 = 0;

	if (lx->error)
		return SQLLEX_ERROR;
	memset(&st, 0, sizeof(st));

	for (;;)
	{
		size_t		tok_start;
		int			tok_line;
		TokKind		kind;

		skip_space(lx);
		if (lx->pos >= lx->len)
			break;
		if (have_stmt && lx->buf[lx->pos] == '\\')
			break;				/* a meta-command ends the statement */

		tok_start = lx->pos;
		tok_line = lx->line;
		kind = scan_token(lx);
		if (kind == TOK_ERROR)
			return SQLLEX_ERROR;
		if (kind == TOK_COMMENT)
			continue;
		if (kind == TOK_SEMI && st.paren_depth == 0 && st.begin_depth == 0)
		{
			if (have_stmt)
				break;
			continue;			/* an empty statement */
		}

		if (!have_stmt)
		{
			have_stmt = true;
			out->start = tok_start;
			out->line = tok_line;
		}
		last_end = lx->pos;

		if (kind == TOK_META)
		{
			while (last_end > tok_start &&
				   is_space((unsigned char) lx->buf[last_end - 1]))
				last_end--;
			out->end = last_end;
			out->kind = SQL_STMT_META;
			return SQLLEX_OK;
		}
		if (kind == TOK_WORD)
		{
			if (ntokens == 0)
			{
				w1 = lx->buf + tok_start;
				l1 = lx->pos - tok_start;
			}
			else if (ntokens == 1)
			{
				w2 = lx->buf + tok_start;
				l2 = lx->pos - tok_start;
			}
			track_word(&st, lx->buf + tok_start, lx->pos - tok_start);
			track_copy(&st, ntokens, lx->buf + tok_start, lx->pos - tok_start);
		}
		else
			st.copy_dir = 0;
		if (kind == TOK_OPEN)
			st.paren_depth++;
		else if (kind == TOK_CLOSE && st.paren_depth > 0)
			st.paren_depth--;
		ntokens++;
	}

	if (!have_stmt)
		return SQLLEX_END;
	out->end = last_end;
	out->kind = st.copy_stdio ? SQL_STMT_COPY_STDIO : classify(w1, l1, w2, l2);
	return SQLLEX_OK;
}

/*---- directives and sections ---------------------------------------------*/

/*
 * 1-based line number of offset pos, by the rules of advance().  A "\r"
 * just before pos counts only if buf[pos] is not "\n": an offset between
 * the two halves of a CRLF is still on the line the CRLF ends.
 */
static int
line_at(const char *buf, size_t len, size_t pos)
{
	SqlLexer	lx;

	if (pos > len)
		pos = len;
	sqllex_init(&lx, buf, len);
	lx.pos = 0;
	while (lx.pos < pos)
		advance(&lx);
	return lx.line;
}

int
sqllex_line_at(const char *buf, size_t len, size_t pos)
{
	return line_at(buf, len, pos);
}

/*
 * Does the "--" comment c[0..len) (no line break) read "-- <prefix>:..."?
 * Blanks may follow the "--".  Returns the offset just past the ':', or 0.
 */
static size_t
comment_prefix(const char *c, size_t len, const char *prefix)
{
	size_t		plen = strlen(prefix);
	size_t		p = 2;

	while (p < len && (c[p] == ' ' || c[p] == '\t'))
		p++;
	if (len - p < plen + 1 || memcmp(c + p, prefix, plen) != 0 ||
		c[p + plen] != ':')
		return 0;
	return p + plen + 1;
}

/*
 * Is the "--" comment c[0..len) a section marker: "-- smig:up",
 * "-- smig:down", "-- migrate:up" or "-- migrate:down" and nothing but
 * blanks after it?  A marker word followed by blanks and other text is
 * MARKER_BAD.  *is_smig tells the two spellings apart.
 */
static int
section_marker(const char *c, size_t len, bool *is_smig)
{
	size_t		p;
	size_t		w;
	int			kind;

	*is_smig = true;
	if ((p = comment_prefix(c, len, "smig")) == 0)
	{
		*is_smig = false;
		if ((p = comment_prefix(c, len, "migrate")) == 0)
			return MARKER_NONE;
	}
	w = p;
	while (p < len && !is_space((unsigned char) c[p]))
		p++;
	if (p - w == 2 && memcmp(c + w, "up", 2) == 0)
		kind = MARKER_UP;
	else if (p - w == 4 && memcmp(c + w, "down", 4) == 0)
		kind = MARKER_DOWN;
	else
		return MARKER_NONE;
	while (p < len && is_space((unsigned char) c[p]))
		p++;
	return p == len ? kind : MARKER_BAD;
}

/*
 * Directive names are the run of non-blank bytes after "smig:", so that
 * a misspelt directive ("-- smig:lock_timeout 5s", "-- smig:No-Transaction")
 * is returned, for the caller to reject, rather than ignored.  The name
 * is never empty: "-- smig:" alone or "-- smig: text" is a plain comment.
 */
int
sqllex_next_directive(const char *buf, size_t len, size_t *pos,
					  const char **name, size_t *name_len,
					  const char **arg, size_t *arg_len,
					  int *line)
{
	SqlLexer	lx;

	sqllex_init(&lx, buf, len);
	if (*pos > lx.pos)
		lx.pos = *pos < len ? *pos : len;

	for (;;)
	{
		size_t		start;
		const char *c;
		size_t		clen;
		size_t		p;
		size_t		n;
		size_t		end;
		bool		is_smig;
		int			marker;

		skip_space(&lx);
		if (lx.pos >= len)
			break;
		if (peek(&lx, 0) == '/' && peek(&lx, 1) == '*')
		{
			if (skip_block_comment(&lx) == TOK_ERROR)
				break;
			continue;
		}
		if (!(peek(&lx, 0) == '-' && peek(&lx, 1) == '-'))
			break;				/* the first statement: no more directives */

		start = lx.pos;
		skip_to_eol(&lx);
		c = buf + start;
		clen = lx.pos - start;
		marker = section_marker(c, clen, &is_smig);
		if (marker == MARKER_UP || marker == MARKER_DOWN)
			continue;
		if ((p = comment_prefix(c, clen, "smig")) == 0)
			continue;
		n = p;
		while (n < clen && !is_space((unsigned char) c[n]))
			n++;
		if (n == p)
			continue;
		*name = c + p;
		*name_len = n - p;
		while (n < clen && is_space((unsigned char) c[n]))
			n++;
		end = clen;
		while (end > n && is_space((unsigned char) c[end - 1]))
			end--;
		*arg = c + n;
		*arg_len = end - n;
		*line = line_at(buf, len, start);
		*pos = lx.pos;
		return 1;
	}
	*pos = len;
	return 0;
}

/*
 * A marker line with text after the marker ("-- migrate:down
 * transaction:false") is refused rather than read as a comment, which
 * would silently run the down section as part of up.  With only a down
 * marker, the text before it is the up section.  On 0 the up span is the
 * whole script after any byte order mark.
 */
int
sqllex_split_sections(const char *buf, size_t len,
					  size_t *up_start, size_t *up_end,
					  size_t *down_start, size_t *down_end,
					  const char **error, int *error_line)
{
	SqlLexer	lx;
	bool		seen_up = false;
	bool		seen_down = false;
	bool		line_has_token = false; /* a token earlier on this line */
	size_t		line_start;
	bool		code_before_up = false;
	int			code_line = 0;

	sqllex_init(&lx, buf, len);
	line_start = lx.pos;
	*up_start = lx.pos;
	*up_end = len;
	*down_start = *down_end = len;
	*error = NULL;
	*error_line = 0;

	while (lx.pos < len)
	{
		unsigned char c = (unsigned char) buf[lx.pos];
		int			tok_line = lx.line;
		size_t		tok_start = lx.pos;
		TokKind		kind;

		if (is_newline(c))
		{
			advance(&lx);
			line_has_token = false;
			line_start = lx.pos;
			continue;
		}
		if (is_space(c))
		{
			advance(&lx);
			continue;
		}

		kind = scan_token(&lx);
		if (kind == TOK_ERROR)
			break;				/* left for sqllex_next to report */

		if (kind == TOK_COMMENT && !line_has_token && c == '-')
		{
			bool		is_smig;
			int			marker = section_marker(buf + tok_start,
												lx.pos - tok_start, &is_smig);
			size_t		next = lx.pos;	/* just past the line break */

			if (next < len && buf[next] == '\r')
				next++;
			if (next < len && buf[next] == '\n')
				next++;

			if (marker == MARKER_BAD)
			{
				*error = is_smig ? "unexpected text after a \"-- smig:\" section marker"
					: "unexpected text after a \"-- migrate:\" section marker";
				*error_line = tok_line;
				return -1;
			}
			if (marker == MARKER_UP)
			{
				if (seen_up)
				{
					*error = is_smig ? "duplicate \"-- smig:up\" marker"
						: "duplicate \"-- migrate:up\" marker";
					*error_line = tok_line;
					return -1;
				}
				if (seen_down)
				{
					*error = is_smig ? "\"-- smig:up\" marker after the down marker"
						: "\"-- migrate:up\" marker after the down marker";
					*error_line = tok_line;
					return -1;
				}
				if (code_before_up)
				{
					*error = is_smig ? "statements before the \"-- smig:up\" marker"
						: "statements before the \"-- migrate:up\" marker";
					*error_line = code_line;
					return -1;
				}
				seen_up = true;
				*up_start = next;
			}
			else if (marker == MARKER_DOWN)
			{
				if (seen_down)
				{
					*error = is_smig ? "duplicate \"-- smig:down\" marker"
						: "duplicate \"-- migrate:down\" marker";
					*error_line = tok_line;
					return -1;
				}
				seen_down = true;
				*up_end = line_start;
				*down_start = next;
				*down_end = len;
			}
		}
		if (kind != TOK_COMMENT && !seen_up && !seen_down && !code_before_up)
		{
			code_before_up = true;
			code_line = tok_line;
		}
		line_has_token = true;
	}

	return (seen_up || seen_down) ? 1 : 0;
}

/*---- statements that cannot run in a transaction ------------------------*/

/* At most this many leading tokens of a statement are looked at. */
#define NOTXN_MAX_TOKENS 48

typedef struct NoTxnToken
{
	const char *s;				/* a word, or NULL for any other token */
	size_t		len;
	char		punct;			/* '(' or ')' for parentheses, else 0 */
} NoTxnToken;

/*
 * Split the start of a statement into tokens: words, parentheses, and
 * "other" (quoted identifiers, literals, operators), skipping blanks and
 * comments.  Returns the number of tokens.
 */
static int
notxn_tokens(const char *buf, size_t len, NoTxnToken *tok)
{
	size_t		i = 0;
	int			n = 0;

	while (i < len && n < NOTXN_MAX_TOKENS)
	{
		unsigned char c = (unsigned char) buf[i];

		if (is_space(c))
			i++;
		else if (c == '-' && i + 1 < len && buf[i + 1] == '-')
		{
			while (i < len && !is_newline((unsigned char) buf[i]))
				i++;
		}
		else if (c == '/' && i + 1 < len && buf[i + 1] == '*')
		{
			int			depth = 0;

			do
			{
				if (i + 1 < len && buf[i] == '/' && buf[i + 1] == '*')
				{
					depth++;
					i += 2;
				}
				else if (i + 1 < len && buf[i] == '*' && buf[i + 1] == '/')
				{
					depth--;
					i += 2;
				}
				else
					i++;
			} while (depth > 0 && i < len);
		}
		else if (is_ident_start(c))
		{
			size_t		start = i;

			while (i < len && is_ident_cont((unsigned char) buf[i]))
				i++;
			tok[n].s = buf + start;
			tok[n].len = i - start;
			tok[n++].punct = 0;
		}
		else if (c == '"' || c == '\'')
		{
			/* a quoted name or a literal: one "other" token */
			i++;
			while (i < len && (unsigned char) buf[i] != c)
				i++;
			i++;
			tok[n].s = NULL;
			tok[n].len = 0;
			tok[n++].punct = 0;
		}
		else
		{
			tok[n].s = NULL;
			tok[n].len = 0;
			tok[n++].punct = (c == '(' || c == ')') ? (char) c : 0;
			i++;
		}
	}
	return n;
}

/* Is token k the word w (lower case)? */
static bool
notxn_word(const NoTxnToken *tok, int n, int k, const char *w)
{
	return k < n && tok[k].s != NULL && word_is(tok[k].s, tok[k].len, w);
}

/* Does the word w appear among tokens [from, n)? Returns its index or -1. */
static int
notxn_find(const NoTxnToken *tok, int n, int from, const char *w)
{
	int			k;

	for (k = from; k < n; k++)
		if (notxn_word(tok, n, k, w))
			return k;
	return -1;
}

const char *
sqllex_no_transaction(const char *buf, size_t len)
{
	NoTxnToken	tok[NOTXN_MAX_TOKENS];
	int			n = notxn_tokens(buf, len, tok);
	int			k;

	if (n == 0)
		return NULL;
	if (notxn_word(tok, n, 0, "create"))
	{
		k = notxn_word(tok, n, 1, "unique") ? 2 : 1;
		if (notxn_word(tok, n, k, "index") && notxn_word(tok, n, k + 1, "concurrently"))
			return "CREATE INDEX CONCURRENTLY";
		if (notxn_word(tok, n, 1, "database"))
			return "CREATE DATABASE";
		if (notxn_word(tok, n, 1, "tablespace"))
			return "CREATE TABLESPACE";
	}
	else if (notxn_word(tok, n, 0, "drop"))
	{
		if (notxn_word(tok, n, 1, "index") && notxn_word(tok, n, 2, "concurrently"))
			return "DROP INDEX CONCURRENTLY";
		if (notxn_word(tok, n, 1, "database"))
			return "DROP DATABASE";
		if (notxn_word(tok, n, 1, "tablespace"))
			return "DROP TABLESPACE";
	}
	else if (notxn_word(tok, n, 0, "reindex"))
	{
		bool		concurrently = false;

		k = 1;
		if (k < n && tok[k].punct == '(')
		{
			/* options: CONCURRENTLY, unless followed by false/off/0 */
			for (k++; k < n && tok[k].punct != ')'; k++)
				if (notxn_word(tok, n, k, "concurrently") &&
					!notxn_word(tok, n, k + 1, "false") &&
					!notxn_word(tok, n, k + 1, "off"))
					concurrently = true;
			k++;
		}
		if (notxn_word(tok, n, k, "schema") || notxn_word(tok, n, k, "database") ||
			notxn_word(tok, n, k, "system"))
			return notxn_word(tok, n, k, "schema") ? "REINDEX SCHEMA"
				: notxn_word(tok, n, k, "database") ? "REINDEX DATABASE"
				: "REINDEX SYSTEM";
		if (concurrently || notxn_word(tok, n, k + 1, "concurrently"))
			return "REINDEX CONCURRENTLY";
	}
	else if (notxn_word(tok, n, 0, "vacuum"))
		return "VACUUM";
	else if (notxn_word(tok, n, 0, "alter"))
	{
		if (notxn_word(tok, n, 1, "system"))
			return "ALTER SYSTEM";
		if (notxn_word(tok, n, 1, "table"))
		{
			k = notxn_find(tok, n, 2, "detach");
			if (k > 0 && notxn_word(tok, n, k + 1, "partition") &&
				notxn_find(tok, n, k + 2, "concurrently") > 0)
				return "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY";
		}
		if (notxn_word(tok, n, 1, "database"))
		{
			k = notxn_find(tok, n, 2, "set");
			if (k > 0 && notxn_word(tok, n, k + 1, "tablespace"))
				return "ALTER DATABASE ... SET TABLESPACE";
		}
	}
	else if (notxn_word(tok, n, 0, "cluster"))
	{
		/* CLUSTER without a table: every table of the database */
		for (k = 1; k < n; k++)
			if (!(notxn_word(tok, n, k, "verbose") || tok[k].punct))
				return NULL;
		return "CLUSTER";
	}
	else if (notxn_word(tok, n, 0, "discard") && notxn_word(tok, n, 1, "all"))
		return "DISCARD ALL";
	return NULL;
}
