/*
 * report: what every email report shares: the rendered result (subject, text,
 * HTML), a document builder that writes each item into the text and the HTML
 * version at once (so the two always say the same thing; every value is
 * HTML-escaped on the way in), and the number formats ($1,234.56, +1.23%).
 * The reports themselves: report_trading.h, report_error.h, report_pnl.h.
 * Thread:  any; nothing shared.
 * Memory:  struct report owns its three strings (report_clear() frees them);
 *          a struct report_doc owns its buffers until report_doc_finish().
 */
#ifndef ALCHEMISER_MAIL_REPORT_H
#define ALCHEMISER_MAIL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/mail/textbuf.h"

/* What an absent optional field renders as. */
#define REPORT_NA "n/a"
#define REPORT_MONEY_STRLEN 48
#define REPORT_TABLE_MAX_COLS 8

/* A rendered report: feed subject/text/html into struct mail_message. */
struct report {
	char	*subject;
	char	*text;
	char	*html;
};

void	report_clear(struct report *r);

struct report_doc {
	struct textbuf	 text;
	struct textbuf	 html;
	/* the table being built: cells kept until the end for column widths */
	size_t		 ncols;
	size_t		 nrows;
	char		**cells;	/* nrows * ncols, row 0 = headers */
};

/* Opens the document: HTML head with title, a banner (red when alert), the
 * status line under it; the text version gets the same lines. */
void	report_doc_begin(struct report_doc *d, const char *title, const char *banner,
	    const char *status, bool alert);
/* A section heading. */
void	report_doc_section(struct report_doc *d, const char *heading);
/* A paragraph (may hold newlines: kept in text, <br> in HTML). */
void	report_doc_para(struct report_doc *d, const char *text);
/* "Key: value" rows of a two-column box; value NULL renders REPORT_NA. */
void	report_doc_kv_begin(struct report_doc *d);
void	report_doc_kv(struct report_doc *d, const char *key, const char *value);
void	report_doc_kv_end(struct report_doc *d);
/* A table with ncols (<= REPORT_TABLE_MAX_COLS) columns; NULL cells render
 * REPORT_NA. The text version is column-aligned. */
void	report_doc_table_begin(struct report_doc *d, size_t ncols, const char *const *headers);
void	report_doc_table_row(struct report_doc *d, const char *const *cells);
void	report_doc_table_end(struct report_doc *d);
/* A bulleted list of n items. */
void	report_doc_list(struct report_doc *d, const char *const *items, size_t n);
/* Footer; the text and HTML move into *ret (subject is left alone). */
void	report_doc_finish(struct report_doc *d, struct report *ret);

/* Lenient field access: false when absent, null or of the wrong kind. */
bool	report_get_decimal(const json_t *obj, const char *key, struct decimal *ret);
bool	report_value_decimal(const json_t *v, struct decimal *ret);
/* String member, or a number rendered as text into buf; NULL when absent. */
const char *report_get_text(const json_t *obj, const char *key, char *buf, size_t len);
/* First present string member among keys (NULL-terminated list). */
const char *report_get_first_str(const json_t *obj, const char *const *keys);

/* "$1,234.56", "-$12.00"; with_sign adds "+" to positive values. */
char	*report_format_money(struct decimal d, bool with_sign, char buf[REPORT_MONEY_STRLEN]);
/* "12.34%" with two places; with_sign adds "+". */
char	*report_format_pct(struct decimal pct, bool with_sign, char buf[REPORT_MONEY_STRLEN]);
/* A weight in [0, 1] as a percentage with one place: 0.125 -> "12.5%". */
char	*report_format_weight(struct decimal w, char buf[REPORT_MONEY_STRLEN]);
/* Share quantity: 2 places from 1 up, else up to 6 without trailing zeros. */
char	*report_format_qty(struct decimal q, char buf[REPORT_MONEY_STRLEN]);
/* Copy of s on one line for a subject: control characters (CR, LF, tab...)
 * become spaces, cut to max characters. NULL gives "". */
char	*report_one_line(const char *s, size_t max);
/* Copy of s cut to at most max characters (UTF-8 aware), "..." appended when cut. */
char	*report_truncate(const char *s, size_t max);

#endif
