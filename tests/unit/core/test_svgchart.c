#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/svgchart.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The d attribute of the k-th data path (class="series"), copied. */
static char *
series_d(const char *svg, size_t k)
{
	const char *p = svg, *d, *e;

	for (size_t i = 0; i <= k; i++) {
		p = strstr(p, "class=\"series\"");
		ck_assert_ptr_nonnull(p);
		p++;
	}
	d = strstr(p, " d=\"");
	ck_assert_ptr_nonnull(d);
	d += 4;
	e = strchr(d, '"');
	return xstrndup(d, (size_t)(e - d));
}

/* Parse every "M x y" / "L x y" pair of a path into xs/ys; returns the count. */
static size_t
points(const char *d, double *xs, double *ys, size_t max)
{
	size_t n = 0;

	for (const char *p = d; *p != '\0' && n < max; p++) {
		char *end;

		if (*p != 'M' && *p != 'L')
			continue;
		xs[n] = strtod(p + 1, &end);
		ys[n] = strtod(end, &end);
		n++;
		p = end - 1;
	}
	return n;
}

START_TEST(test_svgchart_line_points_scale_linearly)
{
	const double y[] = { 0, 50, 100 };
	const struct svgchart_series s = { .name = "eq", .y = y };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "T", .n = 3, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	double xs[8], ys[8];
	char *svg, *d;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	ck_assert_ptr_nonnull(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	ck_assert(strcmp(svg + strlen(svg) - 6, "</svg>") == 0);
	d = series_d(svg, 0);
	ck_assert_uint_eq(points(d, xs, ys, 8), 3);
	/* Evenly spaced in x; y linear: the middle point is halfway. */
	ck_assert_double_eq_tol(xs[1] - xs[0], xs[2] - xs[1], 0.011);
	ck_assert_double_eq_tol((ys[0] + ys[2]) / 2, ys[1], 0.011);
	ck_assert(ys[0] > ys[2]);	/* larger values are higher up */
	free(d);
	free(svg);
}
END_TEST

START_TEST(test_svgchart_log_scale_equal_ratios_equal_steps)
{
	const double y[] = { 10, 100, 1000, 10000 };
	const struct svgchart_series s = { .name = "eq", .y = y };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "Log", .log_y = true, .n = 4,
	    .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	double xs[8], ys[8];
	char *svg, *d;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	d = series_d(svg, 0);
	ck_assert_uint_eq(points(d, xs, ys, 8), 4);
	ck_assert_double_eq_tol(ys[0] - ys[1], ys[1] - ys[2], 0.011);
	ck_assert_double_eq_tol(ys[1] - ys[2], ys[2] - ys[3], 0.011);
	/* Decade ticks are labelled. */
	ck_assert_ptr_nonnull(strstr(svg, ">1,000</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">100</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "(log scale)"));
	free(d);
	free(svg);
}
END_TEST

START_TEST(test_svgchart_log_scale_rejects_nonpositive_and_other_kinds)
{
	const double y[] = { 0, -1 };
	const struct svgchart_series s = { .y = y };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "L", .log_y = true, .n = 2,
	    .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg;

	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(svg);
	c.kind = SVGCHART_BAR;
	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_svgchart_gaps_break_the_line)
{
	const double y[] = { 1, 2, NAN, 3, 4 };
	const struct svgchart_series s = { .y = y };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "Gap", .n = 5, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg, *d;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	d = series_d(svg, 0);
	ck_assert_uint_eq(count(d, "M"), 2);
	ck_assert_uint_eq(count(d, "L"), 2);
	ck_assert_ptr_null(strstr(svg, "<circle"));	/* no lone point here */
	free(d);
	free(svg);
	/* A point alone between two gaps gets its marker; its neighbours' runs do not. */
	{
		const double y2[] = { 1, 2, NAN, 3, NAN };
		const struct svgchart_series s2 = { .y = y2 };

		c.series = &s2;
		ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
		ck_assert_uint_eq(count(svg, "<circle class=\"point\""), 1);
		free(svg);
	}
}
END_TEST

START_TEST(test_svgchart_stacked_tops_add_up)
{
	const double a[] = { 0.25, 0.5 }, b[] = { 0.75, 0.5 };
	const struct svgchart_series s[] = { { .name = "A", .y = a }, { .name = "B", .y = b } };
	struct svgchart c = { .kind = SVGCHART_STACKED, .title = "Alloc", .unit = SVGCHART_UNIT_PERCENT,
	    .n = 2, .series = s, .nseries = 2 };
	struct errctx ec = { 0 };
	double xs0[8], ys0[8], xs1[8], ys1[8];
	char *svg, *d0, *d1;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	d0 = series_d(svg, 0);
	d1 = series_d(svg, 1);
	ck_assert_uint_eq(points(d0, xs0, ys0, 8), 4);
	ck_assert_uint_eq(points(d1, xs1, ys1, 8), 4);
	/* B's lower edge (drawn backwards) is A's top edge. */
	ck_assert_double_eq_tol(ys1[3], ys0[0], 0.011);
	ck_assert_double_eq_tol(ys1[2], ys0[1], 0.011);
	/* Both columns total 100%: B's top is flat. */
	ck_assert_double_eq_tol(ys1[0], ys1[1], 0.011);
	ck_assert_ptr_nonnull(strstr(svg, ">100%</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "class=\"legend\""));
	free(d0);
	free(d1);
	free(svg);
}
END_TEST

START_TEST(test_svgchart_axis_limits_and_tick_spacing)
{
	/* Weights that sum to 1 plus a rounding error stop at 100 %, not 120 %. */
	const double a[] = { 0.7, 0.1 + 0.2 }, b[] = { 0.3 + 1e-15, 0.7 };
	const struct svgchart_series s[] = { { .y = a }, { .y = b } };
	struct svgchart c = { .kind = SVGCHART_STACKED, .title = "W", .unit = SVGCHART_UNIT_PERCENT,
	    .n = 2, .series = s, .nseries = 2 };
	const double eq[] = { 20000, 230000 };
	const struct svgchart_series e = { .y = eq };
	struct errctx ec = { 0 };
	char *svg;
	const char *p;
	double prev = -1;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	ck_assert_ptr_nonnull(strstr(svg, ">100%</text>"));
	ck_assert_ptr_null(strstr(svg, ">120%</text>"));
	free(svg);
	/* A log axis over about a decade: labels never closer than 16 px. */
	c = (struct svgchart){ .kind = SVGCHART_LINE, .title = "E", .log_y = true,
	    .unit = SVGCHART_UNIT_MONEY, .n = 2, .series = &e, .nseries = 1 };
	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	for (p = strstr(svg, "text-anchor=\"end\""); p != NULL; p = strstr(p + 1, "text-anchor=\"end\"")) {
		const char *y = p;

		while (strncmp(y, " y=\"", 4) != 0)
			y--;
		if (prev >= 0)
			ck_assert_msg(fabs(prev - strtod(y + 4, NULL)) >= 16, "ticks %.2f and %s", prev, y);
		prev = strtod(y + 4, NULL);
	}
	ck_assert(prev >= 0);
	ck_assert_ptr_nonnull(strstr(svg, ">$100k</text>"));
	free(svg);
}
END_TEST

START_TEST(test_svgchart_bars_split_by_sign)
{
	const double y[] = { 0.02, -0.01, 0.03, 0 };
	const char *const labels[] = { "Jan", "Feb", "Mar", "Apr" };
	const struct svgchart_series s = { .name = "monthly", .y = y };
	struct svgchart c = { .kind = SVGCHART_BAR, .title = "Months", .unit = SVGCHART_UNIT_PERCENT,
	    .sign_colors = true, .n = 4, .x_labels = labels, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg, *pos, *neg;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	pos = series_d(svg, 0);
	neg = series_d(svg, 1);
	ck_assert_uint_eq(count(pos, "Z"), 2);
	ck_assert_uint_eq(count(neg, "Z"), 1);
	ck_assert_ptr_nonnull(strstr(svg, "fill=\"#d62728\""));
	ck_assert_ptr_nonnull(strstr(svg, ">Feb</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "from Jan to Apr"));
	free(pos);
	free(neg);
	free(svg);
}
END_TEST

START_TEST(test_svgchart_area_reaches_zero)
{
	const double y[] = { -0.1, -0.3, 0 };
	const struct svgchart_series s = { .name = "dd", .y = y, .color = "#c00" };
	struct svgchart c = { .kind = SVGCHART_AREA, .title = "Drawdown", .unit = SVGCHART_UNIT_PERCENT,
	    .n = 3, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg, *d;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	d = series_d(svg, 0);
	ck_assert(d[strlen(d) - 1] == 'Z');
	ck_assert_ptr_nonnull(strstr(svg, ">0%</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">-30%</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "fill=\"#c00\""));
	free(d);
	free(svg);
}
END_TEST

START_TEST(test_svgchart_escapes_every_caller_string)
{
	const double y[] = { 1, 2 };
	const char *const labels[] = { "<a>", "b&c" };
	const struct svgchart_series s[] = {
		{ .name = "x\"><script>alert(1)</script>", .y = y },
		{ .name = "it's", .y = y },
	};
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "A & B <T>", .n = 2, .x_labels = labels,
	    .series = s, .nseries = 2 };
	struct errctx ec = { 0 };
	char *svg;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	ck_assert_ptr_null(strstr(svg, "<script"));
	ck_assert_ptr_null(strstr(svg, "<a>"));
	ck_assert_ptr_null(strstr(svg, "it's"));
	ck_assert_ptr_nonnull(strstr(svg, "A &amp; B &lt;T&gt;"));
	ck_assert_ptr_nonnull(strstr(svg, "x&quot;&gt;&lt;script&gt;"));
	ck_assert_ptr_nonnull(strstr(svg, "b&amp;c"));
	ck_assert_ptr_nonnull(strstr(svg, "it&#39;s"));
	/* Self-contained: nothing fetched from anywhere. */
	ck_assert_ptr_null(strstr(svg, "href"));
	ck_assert_ptr_null(strstr(svg, "url("));
	ck_assert_uint_eq(count(svg, "http"), 1);	/* the xmlns only */
	free(svg);
}
END_TEST

START_TEST(test_svgchart_accessible_text_and_ids)
{
	const double y[] = { 10000, 12345.5 };
	const struct svgchart_series s = { .name = "Equity", .y = y };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "Equity", .id = "eq-1",
	    .unit = SVGCHART_UNIT_MONEY, .n = 2, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg, *again;

	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	ck_assert_ptr_nonnull(strstr(svg, "role=\"img\" aria-labelledby=\"eq-1-title eq-1-desc\""));
	ck_assert_ptr_nonnull(strstr(svg, "<title id=\"eq-1-title\">Equity</title>"));
	ck_assert_ptr_nonnull(strstr(svg, "Equity: first $10k, last $12.3k, minimum $10k, "
	    "maximum $12.3k."));
	/* Deterministic: the same description renders the same bytes. */
	ck_assert_ok(svgchart_render(&c, &again, &ec), &ec);
	ck_assert_str_eq(svg, again);
	free(again);
	free(svg);
	c.id = "bad id";
	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_svgchart_rejects_bad_descriptions)
{
	const double y[] = { 1 };
	struct svgchart_series s = { .y = y, .color = "red" };
	struct svgchart c = { .kind = SVGCHART_LINE, .title = "x", .n = 1, .series = &s, .nseries = 1 };
	struct errctx ec = { 0 };
	char *svg;

	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "colour"));
	s.color = NULL;
	c.title = NULL;
	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
	c.title = "x";
	c.n = 0;
	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
	c.n = 1;
	c.width = 30;
	ck_assert_err(svgchart_render(&c, &svg, &ec), -EINVAL, &ec);
	/* One point, one constant: still drawable. */
	c.width = 0;
	ck_assert_ok(svgchart_render(&c, &svg, &ec), &ec);
	ck_assert_ptr_nonnull(strstr(svg, "h0"));
	/* ... and a marker big enough to see. */
	ck_assert_ptr_nonnull(strstr(svg, "<circle class=\"point\""));
	free(svg);
}
END_TEST

START_TEST(test_svgchart_format_units)
{
	char b[64];

	svgchart_format(SVGCHART_UNIT_NUMBER, 1234.5, 1, b, sizeof b);
	ck_assert_str_eq(b, "1,234.5");
	svgchart_format(SVGCHART_UNIT_MONEY, -1234567, -1, b, sizeof b);
	ck_assert_str_eq(b, "-$1.2M");
	svgchart_format(SVGCHART_UNIT_MONEY, 250000, -1, b, sizeof b);
	ck_assert_str_eq(b, "$250k");
	svgchart_format(SVGCHART_UNIT_MONEY, 12345, -1, b, sizeof b);
	ck_assert_str_eq(b, "$12.3k");
	svgchart_format(SVGCHART_UNIT_NUMBER, 9999, 0, b, sizeof b);
	ck_assert_str_eq(b, "9,999");
	svgchart_format(SVGCHART_UNIT_PERCENT, 0.052, 1, b, sizeof b);
	ck_assert_str_eq(b, "5.2%");
	svgchart_format(SVGCHART_UNIT_PERCENT, -0.0001, 0, b, sizeof b);
	ck_assert_str_eq(b, "0%");
	svgchart_format(SVGCHART_UNIT_NUMBER, NAN, 2, b, sizeof b);
	ck_assert_str_eq(b, "n/a");
}
END_TEST

static Suite *
svgchart_suite(void)
{
	Suite *s = suite_create("svgchart");
	TCase *draw = tcase_create("draw"), *safe = tcase_create("safety"), *fmt = tcase_create("format");

	tcase_add_test(draw, test_svgchart_line_points_scale_linearly);
	tcase_add_test(draw, test_svgchart_log_scale_equal_ratios_equal_steps);
	tcase_add_test(draw, test_svgchart_log_scale_rejects_nonpositive_and_other_kinds);
	tcase_add_test(draw, test_svgchart_gaps_break_the_line);
	tcase_add_test(draw, test_svgchart_stacked_tops_add_up);
	tcase_add_test(draw, test_svgchart_bars_split_by_sign);
	tcase_add_test(draw, test_svgchart_axis_limits_and_tick_spacing);
	tcase_add_test(draw, test_svgchart_area_reaches_zero);
	tcase_add_test(safe, test_svgchart_escapes_every_caller_string);
	tcase_add_test(safe, test_svgchart_accessible_text_and_ids);
	tcase_add_test(safe, test_svgchart_rejects_bad_descriptions);
	tcase_add_test(fmt, test_svgchart_format_units);
	suite_add_tcase(s, draw);
	suite_add_tcase(s, safe);
	suite_add_tcase(s, fmt);
	return s;
}

ALC_TEST_MAIN(svgchart_suite)
