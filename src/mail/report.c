#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report.h"

static size_t	utf8_width(const char *s);
static void	text_rule(struct textbuf *b, char c, size_t n);
static void	group_thousands(const char *digits, char *out, size_t outlen);

static const char *const FOOTER_LINES[] = {
	"The Alchemiser Quantitative Trading Platform",
	"This report is for informational purposes only and does not constitute "
	    "investment advice.",
};

/* Styles are inline: most mail clients drop <style> blocks. */
#define CSS_BODY	"font-family:Arial,Helvetica,sans-serif;color:#222;max-width:760px;" \
			"margin:0 auto;"
#define CSS_TABLE	"border-collapse:collapse;width:100%;margin:8px 0 16px 0;font-size:14px;"
#define CSS_CELL	"border:1px solid #ccc;padding:4px 8px;text-align:left;"
#define CSS_HEAD	CSS_CELL "background:#eef2f7;"
/* A short cell without spaces (a date, an amount, a symbol) is one token:
 * never broken at its hyphens ("2026-" / "11-20" in a narrow column). */
#define CSS_NOWRAP	"white-space:nowrap;"
#define NOWRAP_MAX	24

void
report_clear(struct report *r)
{
	if (r == NULL)
		return;
	free(r->subject);
	free(r->text);
	free(r->html);
	*r = (struct report){ 0 };
}

/* Characters, not bytes, so UTF-8 symbols and names line up in text tables. */
static size_t
utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
text_rule(struct textbuf *b, char c, size_t n)
{
	while (n-- > 0)
		textbuf_append_char(b, c);
	textbuf_append_char(b, '\n');
}

void
report_doc_begin(struct report_doc *d, const char *title, const char *banner, const char *status,
    bool alert)
{
	*d = (struct report_doc){ 0 };
	textbuf_append(&d->text, "The Alchemiser\n");
	textbuf_printf(&d->text, "%s\n%s\n", banner, status);
	text_rule(&d->text, '=', 60);

	textbuf_append(&d->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	textbuf_append_html(&d->html, title);
	textbuf_append(&d->html, "</title></head>\n<body style=\"" CSS_BODY "\">\n");
	textbuf_printf(&d->html, "<div style=\"background:%s;color:#fff;padding:16px;\">\n"
	    "<h1 style=\"margin:0;font-size:20px;\">The Alchemiser</h1>\n"
	    "<div style=\"font-size:17px;margin-top:6px;\">", alert ? "#b00020" : "#1f3a5f");
	textbuf_append_html(&d->html, banner);
	textbuf_append(&d->html, "</div>\n<div style=\"font-size:13px;margin-top:4px;\">");
	textbuf_append_html(&d->html, status);
	textbuf_append(&d->html, "</div>\n</div>\n");
}

void
report_doc_section(struct report_doc *d, const char *heading)
{
	textbuf_printf(&d->text, "\n%s\n", heading);
	text_rule(&d->text, '-', utf8_width(heading));
	textbuf_append(&d->html, "<h2 style=\"font-size:16px;margin:18px 0 6px 0;\">");
	textbuf_append_html(&d->html, heading);
	textbuf_append(&d->html, "</h2>\n");
}

void
report_doc_para(struct report_doc *d, const char *text)
{
	const char *p;

	textbuf_printf(&d->text, "%s\n", text);
	textbuf_append(&d->html, "<p style=\"margin:6px 0;\">");
	for (p = text; *p != '\0'; ) {
		size_t n = strcspn(p, "\n"), indent = strspn(p, " ");
		char *line;

		/* HTML collapses spaces: keep an indented line indented (the
		 * error report's nested details), in every mail reader. */
		if (indent > n)
			indent = n;
		for (size_t i = 0; i < indent; i++)
			textbuf_append(&d->html, "&nbsp;");
		line = xstrndup(p + indent, n - indent);
		textbuf_append_html(&d->html, line);
		free(line);
		p += n;
		if (*p == '\n') {
			textbuf_append(&d->html, "<br>\n");
			p++;
		}
	}
	textbuf_append(&d->html, "</p>\n");
}

void
report_doc_kv_begin(struct report_doc *d)
{
	textbuf_append(&d->html, "<table style=\"" CSS_TABLE "\">\n");
}

void
report_doc_kv(struct report_doc *d, const char *key, const char *value)
{
	if (value == NULL)
		value = REPORT_NA;
	textbuf_printf(&d->text, "%s: %s\n", key, value);
	textbuf_append(&d->html, "<tr><th style=\"" CSS_HEAD "width:35%;\">");
	textbuf_append_html(&d->html, key);
	textbuf_append(&d->html, "</th><td style=\"" CSS_CELL "\">");
	textbuf_append_html(&d->html, value);
	textbuf_append(&d->html, "</td></tr>\n");
}

void
report_doc_kv_end(struct report_doc *d)
{
	textbuf_append(&d->html, "</table>\n");
}

void
report_doc_table_begin(struct report_doc *d, size_t ncols, const char *const *headers)
{
	size_t i;

	if (ncols == 0 || ncols > REPORT_TABLE_MAX_COLS)
		abort();	/* a caller bug, not input */
	d->ncols = ncols;
	d->nrows = 1;
	d->cells = xcalloc(ncols, sizeof(char *));
	for (i = 0; i < ncols; i++)
		d->cells[i] = xstrdup(headers[i]);
}

void
report_doc_table_row(struct report_doc *d, const char *const *cells)
{
	size_t i;

	d->cells = xreallocarray(d->cells, (d->nrows + 1) * d->ncols, sizeof(char *));
	for (i = 0; i < d->ncols; i++)
		d->cells[d->nrows * d->ncols + i] = xstrdup(cells[i] != NULL ? cells[i] : REPORT_NA);
	d->nrows++;
}

void
report_doc_table_end(struct report_doc *d)
{
	size_t width[REPORT_TABLE_MAX_COLS] = { 0 }, r, c, total = 0;

	for (r = 0; r < d->nrows; r++)
		for (c = 0; c < d->ncols; c++) {
			size_t w = utf8_width(d->cells[r * d->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	textbuf_append(&d->html, "<table style=\"" CSS_TABLE "\">\n");
	for (r = 0; r < d->nrows; r++) {
		textbuf_append(&d->html, "<tr>");
		for (c = 0; c < d->ncols; c++) {
			const char *cell = d->cells[r * d->ncols + c];
			size_t pad = width[c] - utf8_width(cell);

			textbuf_append(&d->text, "  ");
			textbuf_append(&d->text, cell);
			while (c + 1 < d->ncols && pad-- > 0)
				textbuf_append_char(&d->text, ' ');
			if (r == 0)
				textbuf_append(&d->html, "<th style=\"" CSS_HEAD "\">");
			else if (strchr(cell, ' ') == NULL && utf8_width(cell) <= NOWRAP_MAX)
				textbuf_append(&d->html, "<td style=\"" CSS_CELL CSS_NOWRAP "\">");
			else
				textbuf_append(&d->html, "<td style=\"" CSS_CELL "\">");
			textbuf_append_html(&d->html, cell);
			textbuf_append(&d->html, r == 0 ? "</th>" : "</td>");
		}
		textbuf_append(&d->html, "</tr>\n");
		textbuf_append_char(&d->text, '\n');
		if (r == 0) {
			for (c = 0, total = 0; c < d->ncols; c++)
				total += width[c] + 2;
			textbuf_append(&d->text, "  ");
			text_rule(&d->text, '-', total - 2);
		}
	}
	textbuf_append(&d->html, "</table>\n");
	for (r = 0; r < d->nrows * d->ncols; r++)
		free(d->cells[r]);
	free(d->cells);
	d->cells = NULL;
	d->nrows = d->ncols = 0;
}

void
report_doc_list(struct report_doc *d, const char *const *items, size_t n)
{
	size_t i;

	textbuf_append(&d->html, "<ul style=\"margin:6px 0;\">\n");
	for (i = 0; i < n; i++) {
		textbuf_printf(&d->text, "  - %s\n", items[i]);
		textbuf_append(&d->html, "<li>");
		textbuf_append_html(&d->html, items[i]);
		textbuf_append(&d->html, "</li>\n");
	}
	textbuf_append(&d->html, "</ul>\n");
}

void
report_doc_finish(struct report_doc *d, struct report *ret)
{
	size_t i;

	textbuf_append_char(&d->text, '\n');
	text_rule(&d->text, '=', 60);
	textbuf_append(&d->html, "<hr style=\"border:0;border-top:1px solid #ccc;\">\n"
	    "<p style=\"color:#777;font-size:12px;\">");
	for (i = 0; i < ELEMENTSOF(FOOTER_LINES); i++) {
		textbuf_printf(&d->text, "%s\n", FOOTER_LINES[i]);
		textbuf_append_html(&d->html, FOOTER_LINES[i]);
		textbuf_append(&d->html, i + 1 < ELEMENTSOF(FOOTER_LINES) ? "<br>\n" : "");
	}
	textbuf_append(&d->html, "</p>\n</body></html>\n");
	free(ret->text);
	free(ret->html);
	ret->text = textbuf_take(&d->text, NULL);
	ret->html = textbuf_take(&d->html, NULL);
}

bool
report_value_decimal(const json_t *v, struct decimal *ret)
{
	if (json_is_string(v))
		return decimal_parse_round(json_string_value(v), DECIMAL_ROUND_HALF_EVEN, ret,
		    NULL) == 0;
	if (json_is_integer(v))
		return decimal_from_int(json_integer_value(v), ret) == 0;
	if (json_is_real(v))
		return decimal_from_double(json_real_value(v), DECIMAL_ROUND_HALF_EVEN, ret) == 0;
	return false;
}

bool
report_get_decimal(const json_t *obj, const char *key, struct decimal *ret)
{
	return json_is_object(obj) && report_value_decimal(json_object_get(obj, key), ret);
}

const char *
report_get_text(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v)) {
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
		return buf;
	}
	if (json_is_real(v)) {
		struct decimal d;
		char tmp[DECIMAL_STRLEN];

		if (report_value_decimal(v, &d)) {
			snprintf(buf, len, "%s", decimal_format(d, tmp));
			return buf;
		}
	}
	return NULL;
}

const char *
report_get_first_str(const json_t *obj, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		const char *s = json_is_object(obj) ? json_get_str(obj, *keys) : NULL;

		if (s != NULL && *s != '\0')
			return s;
	}
	return NULL;
}

static void
group_thousands(const char *digits, char *out, size_t outlen)
{
	size_t n = strcspn(digits, "."), i, o = 0;

	for (i = 0; digits[i] != '\0' && o + 2 < outlen; i++) {
		if (i != 0 && i < n && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

char *
report_format_money(struct decimal d, bool with_sign, char buf[REPORT_MONEY_STRLEN])
{
	char tmp[DECIMAL_STRLEN], grouped[DECIMAL_STRLEN + DECIMAL_STRLEN / 3];
	struct decimal r;

	/* Round first so -0.001 does not print as "-$0.00". */
	if (decimal_round_to(d, 2, DECIMAL_ROUND_HALF_UP, &r) < 0)
		r = d;
	decimal_format_fixed(decimal_abs(r), 2, DECIMAL_ROUND_HALF_UP, tmp);
	group_thousands(tmp, grouped, sizeof(grouped));
	snprintf(buf, REPORT_MONEY_STRLEN, "%s$%s",
	    decimal_is_negative(r) ? "-" : (with_sign && !decimal_is_zero(r)) ? "+" : "", grouped);
	return buf;
}

char *
report_format_pct(struct decimal pct, bool with_sign, char buf[REPORT_MONEY_STRLEN])
{
	char tmp[DECIMAL_STRLEN];
	struct decimal r;

	if (decimal_round_to(pct, 2, DECIMAL_ROUND_HALF_UP, &r) < 0)
		r = pct;
	decimal_format_fixed(r, 2, DECIMAL_ROUND_HALF_UP, tmp);
	snprintf(buf, REPORT_MONEY_STRLEN, "%s%s%%",
	    with_sign && !decimal_is_negative(r) && !decimal_is_zero(r) ? "+" : "", tmp);
	return buf;
}

char *
report_format_weight(struct decimal w, char buf[REPORT_MONEY_STRLEN])
{
	char tmp[DECIMAL_STRLEN];
	struct decimal pct;

	if (decimal_mul(w, decimal_from_units(100 * DECIMAL_SCALE), DECIMAL_ROUND_HALF_EVEN,
	    &pct) < 0) {
		snprintf(buf, REPORT_MONEY_STRLEN, "%s", REPORT_NA);
		return buf;
	}
	snprintf(buf, REPORT_MONEY_STRLEN, "%s%%",
	    decimal_format_fixed(pct, 1, DECIMAL_ROUND_HALF_UP, tmp));
	return buf;
}

char *
report_format_qty(struct decimal q, char buf[REPORT_MONEY_STRLEN])
{
	char tmp[DECIMAL_STRLEN];
	size_t n;

	if (decimal_cmp(decimal_abs(q), decimal_from_units(DECIMAL_SCALE)) >= 0) {
		snprintf(buf, REPORT_MONEY_STRLEN, "%s",
		    decimal_format_fixed(q, 2, DECIMAL_ROUND_HALF_UP, tmp));
		return buf;
	}
	/* Fractional shares: keep the digits that matter, drop the zeros. */
	decimal_format_fixed(q, 6, DECIMAL_ROUND_HALF_UP, tmp);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0')
		tmp[--n] = '\0';
	if (n > 0 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	snprintf(buf, REPORT_MONEY_STRLEN, "%s", tmp);
	return buf;
}

char *
report_truncate(const char *s, size_t max)
{
	size_t chars = 0, i;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (chars == max)
				return xasprintf("%.*s...", (int)i, s);
			chars++;
		}
	}
	return xstrdup(s);
}

char *
report_one_line(const char *s, size_t max)
{
	char *t, *p;

	if (s == NULL)
		return xstrdup("");
	t = report_truncate(s, max);
	/* Event text must not break the subject: mime_build refuses CR/LF outright. */
	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}
