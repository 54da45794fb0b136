/*
 * svgchart: small, dependency-free charts as inline SVG text, for reports a
 * browser opens without network access (the backtest report, the operator
 * dashboard). Kinds: line (optionally on a log scale), area, stacked area and
 * grouped bars. Every chart has axes with ticks, a title, a legend when there
 * is more than one series, and a text equivalent for assistive technology
 * (<title> and <desc> with each series' first, last, minimum and maximum,
 * referenced by aria-labelledby). Every string from the caller is XML-escaped;
 * the output references no external resource (no fonts, scripts, images or
 * stylesheets), so it can be pasted into any HTML page as is.
 *
 * Points are placed by index along x (evenly spaced, as trading sessions are),
 * labelled from x_labels when given. A value that is not finite is a gap in
 * a line, zero in an area or bar.
 *
 * Thread:  pure, any thread.
 * Memory:  svgchart_render() returns a string the caller owns and frees with
 *          free(); the chart description and its arrays stay the caller's.
 */
#ifndef ALCHEMISER_CORE_SVGCHART_H
#define ALCHEMISER_CORE_SVGCHART_H

#include <stdbool.h>
#include <stddef.h>

#include "alchemiser/core/err.h"

enum svgchart_kind {
	SVGCHART_LINE,		/* one polyline per series */
	SVGCHART_AREA,		/* each series filled down to zero, drawn over each other */
	SVGCHART_STACKED,	/* series stacked on top of each other (e.g. weights summing to 1) */
	SVGCHART_BAR,		/* one group of bars per point, one bar per series */
	_SVGCHART_KIND_MAX
};

/* How y tick labels and the text equivalent write a value. */
enum svgchart_unit {
	SVGCHART_UNIT_NUMBER,	/* 1234.5 -> "1,234.5"; from 10,000 on "12.3k", "90k", "4.5M" */
	SVGCHART_UNIT_PERCENT,	/* a fraction: 0.052 -> "5.2%" */
	SVGCHART_UNIT_MONEY,	/* 1234 -> "$1,234"; "$12.3k", "$90k" */
	_SVGCHART_UNIT_MAX
};

struct svgchart_series {
	const char	*name;		/* legend text (escaped); NULL = "series N" */
	const double	*y;		/* n values */
	const char	*color;		/* "#rgb" or "#rrggbb"; NULL = the built-in palette */
};

struct svgchart {
	enum svgchart_kind	 kind;
	const char		*title;		/* required; escaped */
	const char		*id;		/* optional element id ([A-Za-z0-9_-] only) */
	int			 width;		/* pixels; 0 = 720 */
	int			 height;	/* pixels; 0 = 300 */
	bool			 log_y;		/* LINE only: log10 y axis; values <= 0 are gaps */
	enum svgchart_unit	 unit;
	/* BAR with one series: bars below zero in a second colour. */
	bool			 sign_colors;
	size_t			 n;		/* points per series, >= 1 */
	const char *const	*x_labels;	/* n labels for x ticks (escaped), or NULL = indexes */
	const struct svgchart_series *series;
	size_t			 nseries;	/* >= 1, at most 64 */
};

/* Render c as one <svg> element (UTF-8, NUL-terminated) into *ret.
 * Returns -EINVAL for a description it cannot draw (no title, no points, a
 * colour or id that is not of the documented form, a log scale on another
 * kind, a log scale with no positive value). */
int	svgchart_render(const struct svgchart *c, char **ret, struct errctx *ec);

/* Write v as the unit says ("5.2%", "$1,234", "12.3k") into buf (always
 * NUL-terminated). decimals < 0 picks a precision from the magnitude. */
void	svgchart_format(enum svgchart_unit unit, double v, int decimals, char *buf, size_t size);

#endif
