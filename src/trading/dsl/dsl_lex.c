/* Tokenizer for the strategy files (seed-trading-spec §2.1, widened as the
 * issue asks: 1e5 and .5 are numbers, strings take the usual escapes). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

static bool	is_delim(int ch);
static bool	is_sym_start(int ch);
static bool	is_sym_char(int ch);
static void	advance(struct dsl_lexer *lx, size_t k);
static int	lex_string(struct dsl_lexer *lx, struct errctx *ec);
static int	lex_number(struct dsl_lexer *lx, struct errctx *ec);

void
dsl_lexer_init(struct dsl_lexer *lx, const char *name, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->name = name;
	lx->text = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
}

void
dsl_lexer_fini(struct dsl_lexer *lx)
{
	free(lx->buf);
	lx->buf = NULL;
}

int
dsl_lexer_error(const struct dsl_lexer *lx, struct errctx *ec, int code, size_t off,
    uint32_t line, uint32_t col, const char *fmt, ...)
{
	char msg[256], near[40];
	va_list ap;
	size_t i, k = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (off == SIZE_MAX || off >= lx->len)
		return errctx_set(ec, code, "%s:%u:%u: %s", lx->name, line, col, msg);
	/* A short, single-line, printable excerpt is enough to find the spot. */
	for (i = off; i < lx->len && k < 24 && lx->text[i] != '\n'; i++)
		near[k++] = isprint((unsigned char)lx->text[i]) ? lx->text[i] : '?';
	near[k] = '\0';
	return errctx_set(ec, code, "%s:%u:%u: %s near '%s'", lx->name, line, col, msg, near);
}

static bool
is_delim(int ch)
{
	return ch == 0 || isspace(ch) || strchr("()[]{}\";,", ch) != NULL;
}

static bool
is_sym_start(int ch)
{
	return isalpha(ch) || (ch != 0 && strchr("_><=!?+*/-.&$%", ch) != NULL);
}

static bool
is_sym_char(int ch)
{
	return isalnum(ch) || (ch != 0 && strchr("_><=!?+*/-.&$%:'#", ch) != NULL);
}

static void
advance(struct dsl_lexer *lx, size_t k)
{
	while (k-- > 0 && lx->pos < lx->len) {
		if (lx->text[lx->pos] == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->pos++;
	}
}

static int
lex_string(struct dsl_lexer *lx, struct errctx *ec)
{
	size_t i = lx->pos + 1, k = 0, open = lx->pos;

	for (;;) {
		char ch;

		if (i >= lx->len)
			return dsl_lexer_error(lx, ec, -EBADMSG, open, lx->tline, lx->tcol,
			    "unterminated string");
		ch = lx->text[i++];
		if (ch == '"')
			break;
		/* A NUL would cut the string short wherever it is used as a C string
		 * (an empty or duplicated ticker): refuse it. */
		if (ch == '\0')
			return dsl_lexer_error(lx, ec, -EBADMSG, i - 1, lx->tline, lx->tcol,
			    "NUL byte inside a string");
		if (ch == '\\') {
			if (i >= lx->len)
				continue;	/* reported as unterminated above */
			ch = lx->text[i++];
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			default: break;	/* \" \\ and anything else: the character itself */
			}
		}
		if (k + 1 >= lx->bufcap) {
			lx->bufcap = lx->bufcap ? 2 * lx->bufcap : 256;
			lx->buf = xreallocarray(lx->buf, lx->bufcap, 1);
		}
		lx->buf[k++] = ch;
	}
	if (lx->buf == NULL) {
		lx->bufcap = 256;
		lx->buf = xmalloc(lx->bufcap);
	}
	lx->buf[k] = '\0';
	lx->tok = DSL_T_STRING;
	lx->start = lx->buf;
	lx->tlen = k;
	advance(lx, i - lx->pos);
	return 0;
}

static int
lex_number(struct dsl_lexer *lx, struct errctx *ec)
{
	const char *s = lx->text + lx->pos;
	size_t i = 0, n = lx->len - lx->pos;
	bool digits = false;
	char tmp[64];

	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < n && isdigit((unsigned char)s[i])) {
		i++;
		digits = true;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && isdigit((unsigned char)s[i])) {
			i++;
			digits = true;
		}
	}
	if (digits && i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < n && isdigit((unsigned char)s[j])) {
			while (j < n && isdigit((unsigned char)s[j]))
				j++;
			i = j;
		}
	}
	if (!digits || (i < n && !is_delim((unsigned char)s[i])) || i >= sizeof(tmp))
		return dsl_lexer_error(lx, ec, -EBADMSG, lx->pos, lx->tline, lx->tcol,
		    "malformed number");
	memcpy(tmp, s, i);
	tmp[i] = '\0';
	lx->num = strtod(tmp, NULL);
	if (!isfinite(lx->num))
		return dsl_lexer_error(lx, ec, -EBADMSG, lx->pos, lx->tline, lx->tcol,
		    "number out of range");
	lx->tok = DSL_T_NUMBER;
	lx->start = s;
	lx->tlen = i;
	advance(lx, i);
	return 0;
}

int
dsl_lexer_next(struct dsl_lexer *lx, struct errctx *ec)
{
	int ch, nx;

	for (;;) {
		/* Blanks and newlines in a tight loop: the corpus is mostly
		 * indentation (3-Starburst.clj: 2.2 MB), and one call of
		 * isspace() and advance() per byte was most of the parse. */
		const char *t = lx->text;
		size_t pos = lx->pos, len = lx->len;
		uint32_t line = lx->line, col = lx->col;

		for (; pos < len; pos++) {
			uint64_t w;

			/* indentation runs: eight blanks at a time */
			while (len - pos >= sizeof(w) && (memcpy(&w, t + pos, sizeof(w)),
			    w == 0x2020202020202020ull)) {
				pos += sizeof(w);
				col += (uint32_t)sizeof(w);
			}
			if (pos >= len)
				break;
			if (t[pos] == ' ' || t[pos] == ',') {
				col++;
			} else if (t[pos] == '\n') {
				line++;
				col = 1;
			} else {
				break;
			}
		}
		lx->pos = pos;
		lx->line = line;
		lx->col = col;
		if (lx->pos >= lx->len) {
			lx->tok = DSL_T_EOF;
			lx->tline = lx->line;
			lx->tcol = lx->col;
			return 0;
		}
		ch = (unsigned char)lx->text[lx->pos];
		if (isspace(ch)) {
			advance(lx, 1);
		} else if (ch == ';') {
			while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
				advance(lx, 1);
		} else {
			break;
		}
	}
	lx->tline = lx->line;
	lx->tcol = lx->col;
	nx = lx->pos + 1 < lx->len ? (unsigned char)lx->text[lx->pos + 1] : 0;
	switch (ch) {
	case '(': lx->tok = DSL_T_LPAREN; break;
	case ')': lx->tok = DSL_T_RPAREN; break;
	case '[': lx->tok = DSL_T_LBRACK; break;
	case ']': lx->tok = DSL_T_RBRACK; break;
	case '{': lx->tok = DSL_T_LBRACE; break;
	case '}': lx->tok = DSL_T_RBRACE; break;
	case '"':
		return lex_string(lx, ec);
	default:
		goto word;
	}
	lx->start = lx->text + lx->pos;
	lx->tlen = 1;
	advance(lx, 1);
	return 0;
word:
	if (isdigit(ch) || (ch == '.' && isdigit(nx)) ||
	    ((ch == '-' || ch == '+') && (isdigit(nx) || (nx == '.' && lx->pos + 2 < lx->len &&
	    isdigit((unsigned char)lx->text[lx->pos + 2])))))
		return lex_number(lx, ec);
	if (ch == ':' || is_sym_start(ch)) {
		size_t i = lx->pos + 1;

		while (i < lx->len && is_sym_char((unsigned char)lx->text[i]))
			i++;
		if (ch == ':' && i == lx->pos + 1)
			return dsl_lexer_error(lx, ec, -EBADMSG, lx->pos, lx->tline, lx->tcol,
			    "empty keyword");
		if (i < lx->len && !is_delim((unsigned char)lx->text[i]))
			return dsl_lexer_error(lx, ec, -EBADMSG, i, lx->line, lx->col + (uint32_t)(i - lx->pos),
			    "unexpected character '%c'", isprint((unsigned char)lx->text[i]) ? lx->text[i] : '?');
		lx->tok = ch == ':' ? DSL_T_KEYWORD : DSL_T_SYMBOL;
		lx->start = lx->text + lx->pos + (ch == ':');
		lx->tlen = i - lx->pos - (ch == ':');
		advance(lx, i - lx->pos);
		return 0;
	}
	return dsl_lexer_error(lx, ec, -EBADMSG, lx->pos, lx->tline, lx->tcol,
	    "unexpected character '%c'", isprint(ch) ? ch : '?');
}
