#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/uuid.h"
#include "helpers.h"

#define UUID_NAMESPACE_URL "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
/* v4s generated for the uniqueness and bit-coverage checks. */
#define V4_COUNT 20000

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

START_TEST(test_uuid_v5_rfc_vector)
{
	char out[UUID_STRLEN];

	/* RFC 9562 appendix A.4 (RFC 4122's example, as corrected by its errata). */
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_DNS, "www.example.com", 15, out), 0);
	ck_assert_str_eq(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
	ck_assert_int_eq((int)strlen(out), UUID_STRLEN - 1);
	/* Python's documented example: uuid5(NAMESPACE_DNS, 'python.org'). */
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_DNS, "python.org", 10, out), 0);
	ck_assert_str_eq(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}
END_TEST

/* Cross-checked against Python's uuid.uuid5, which the system we replace uses. */
START_TEST(test_uuid_v5_matches_python)
{
	static const struct { const char *ns, *name; size_t len; const char *want; } cases[] = {
		{ UUID_NAMESPACE_DNS, "", 0, "4ebd0208-8328-5d69-8c44-ec50939c0967" },
		{ UUID_NAMESPACE_ALCHEMISER, "evt:abc", 7, "c58092a2-d378-5670-8da9-3804b5003622" },
		{ UUID_NAMESPACE_ALCHEMISER, "a\0b", 3, "b0cdfac3-7db2-5966-907f-302f90c30d16" },
		{ UUID_NAMESPACE_URL, "https://example.com/\xc3\xa9", 22,
		    "20ecd233-a9e7-5067-a96f-fd6600ca3fda" },
		/* The namespace may be written in upper case. */
		{ "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "www.example.com", 15,
		    "2ed6657d-e927-568b-95e1-2665a8aea6a2" },
	};
	char out[UUID_STRLEN], again[UUID_STRLEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(uuid_v5(cases[i].ns, cases[i].name, cases[i].len, out), 0);
		ck_assert_str_eq(out, cases[i].want);
		/* Deterministic: a handler re-run publishes the same id. */
		ck_assert_int_eq(uuid_v5(cases[i].ns, cases[i].name, cases[i].len, again), 0);
		ck_assert_str_eq(again, out);
	}
	/* A NULL name is fine when empty. */
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_DNS, NULL, 0, out), 0);
	ck_assert_str_eq(out, "4ebd0208-8328-5d69-8c44-ec50939c0967");
	/* Different names and namespaces give different ids. */
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_ALCHEMISER, "evt:abd", 7, again), 0);
	ck_assert_str_ne(again, "c58092a2-d378-5670-8da9-3804b5003622");
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_DNS, "evt:abc", 7, again), 0);
	ck_assert_str_ne(again, "c58092a2-d378-5670-8da9-3804b5003622");
}
END_TEST

START_TEST(test_uuid_v5_rejects_bad_namespace)
{
	static const char *bad[] = {
		"", "6ba7b810", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8a",
		"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", "6ba7b8109dad11d180b400c04fd430c8",
		"6ba7b810-9dad-11d1-80b4_00c04fd430c8", "6ba7b81g-9dad-11d1-80b4-00c04fd430c8",
		" 6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8 ",
		"6ba7b810-9dad-11d1-80b400-c04fd430c8", "not a uuid at all, not at all......",
	};
	char out[UUID_STRLEN] = "untouched";

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(uuid_v5(bad[i], "x", 1, out) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_str_eq(out, "untouched");
	}
	ck_assert_int_eq(uuid_v5(NULL, "x", 1, out), -EINVAL);
	ck_assert_int_eq(uuid_v5(UUID_NAMESPACE_DNS, NULL, 1, out), -EINVAL);
}
END_TEST

START_TEST(test_uuid_v4_version_and_variant)
{
	char out[UUID_STRLEN];

	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(uuid_v4(out), 0);
		ck_assert_int_eq((int)strlen(out), 36);
		ck_assert(uuid_is_valid(out));
		ck_assert_int_eq(out[14], '4');
		ck_assert_ptr_nonnull(strchr("89ab", out[19]));
		for (int j = 0; j < 36; j++)
			if (!(out[j] == '-' || isdigit((unsigned char)out[j]) ||
			    (out[j] >= 'a' && out[j] <= 'f')))
				ck_abort_msg("'%s': not lower-case hex at %d", out, j);
	}
}
END_TEST

/* Uniqueness, and every one of the 122 random bits seen both set and clear
 * (a stuck bit has probability 2^-20000 of passing). */
START_TEST(test_uuid_v4_unique_and_random)
{
	char (*ids)[UUID_STRLEN] = calloc(V4_COUNT, UUID_STRLEN);
	unsigned seen_one[36] = { 0 }, seen_zero[36] = { 0 };

	ck_assert_ptr_nonnull(ids);
	for (int i = 0; i < V4_COUNT; i++) {
		/* Plain if: a passing ck_assert per id would slow the loop down. */
		if (uuid_v4(ids[i]) != 0)
			ck_abort_msg("uuid_v4 failed");
		for (int j = 0; j < 36; j++) {
			int v = ids[i][j] <= '9' ? ids[i][j] - '0' : ids[i][j] - 'a' + 10;

			if (ids[i][j] == '-')
				continue;
			seen_one[j] |= (unsigned)v;
			seen_zero[j] |= (unsigned)~v & 0xf;
		}
	}
	for (int j = 0; j < 36; j++) {
		if (j == 8 || j == 13 || j == 18 || j == 23)
			continue;
		if (j == 14) {		/* version nibble: always 0100 */
			ck_assert_uint_eq(seen_one[j], 0x4);
			ck_assert_uint_eq(seen_zero[j], 0xb);
		} else if (j == 19) {	/* variant: 10xx */
			ck_assert_uint_eq(seen_one[j], 0xb);
			ck_assert_uint_eq(seen_zero[j], 0x7);
		} else {
			ck_assert_msg(seen_one[j] == 0xf && seen_zero[j] == 0xf, "position %d: ones %x zeros %x",
			    j, seen_one[j], seen_zero[j]);
		}
	}
	qsort(ids, V4_COUNT, UUID_STRLEN, cmp_str);
	for (int i = 1; i < V4_COUNT; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			ck_abort_msg("duplicate %s", ids[i]);
	free(ids);
}
END_TEST

START_TEST(test_uuid_is_valid)
{
	static const char *good[] = {
		"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		UUID_NAMESPACE_ALCHEMISER, "2ed6657d-e927-568b-95e1-2665a8aea6a2",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398f",	/* any version: v7 */
	};
	static const char *bad[] = {
		"", "-", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8a",
		"6ba7b8109dad11d180b400c04fd430c8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
		"6ba7b810-9dad-11d1-80b4-00c04fd430cg", "6ba7b810-9dad-11d1-80b4-00c04fd430c8\n",
		"6ba7b810 9dad 11d1 80b4 00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430-8",
		"-6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810--dad-11d1-80b4-00c04fd430c8",
		"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(uuid_is_valid(good[i]), "'%s' rejected", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!uuid_is_valid(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!uuid_is_valid(NULL));
}
END_TEST

static Suite *
suite_uuid(void)
{
	Suite *s = suite_create("uuid");
	TCase *tc;

	tc = tcase_create("v5");
	tcase_add_test(tc, test_uuid_v5_rfc_vector);
	tcase_add_test(tc, test_uuid_v5_matches_python);
	tcase_add_test(tc, test_uuid_v5_rejects_bad_namespace);
	suite_add_tcase(s, tc);

	tc = tcase_create("v4");
	tcase_add_test(tc, test_uuid_v4_version_and_variant);
	tcase_add_test(tc, test_uuid_v4_unique_and_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("validity");
	tcase_add_test(tc, test_uuid_is_valid);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_uuid)
