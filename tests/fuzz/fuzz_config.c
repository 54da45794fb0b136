/* Fuzz target: the INI configuration parser (config_load_string) and what
 * reads a loaded snapshot: every getter of the table, --print-config and the
 * SIGHUP restart-key diff against the defaults.
 * Secret keys name credential files, which the loader opens: the target runs
 * with a scratch folder holding one valid credential ("fuzz_secret",
 * mode 600, found by that name through $CREDENTIALS_DIRECTORY), and inputs that
 * could name a device, a FIFO or /proc are skipped (opening a FIFO blocks). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "fuzz.h"

static FILE *devnull;
static struct config *defaults;
static char scratch[64];

static void
cleanup(void)
{
	char path[128];

	(void)snprintf(path, sizeof path, "%s/fuzz_secret", scratch);
	(void)unlink(path);
	(void)rmdir(scratch);
	config_unref(defaults);
	if (devnull != NULL)
		fclose(devnull);
}

static void
setup(void)
{
	struct errctx ec = { 0 };
	char path[128];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	devnull = fopen("/dev/null", "we");
	FUZZ_CHECK(devnull != NULL);
	(void)snprintf(scratch, sizeof scratch, "%s/fuzz-config.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(scratch) != NULL);
	(void)snprintf(path, sizeof path, "%s/fuzz_secret", scratch);
	f = fopen(path, "we");
	FUZZ_CHECK(f != NULL);
	fputs("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n", f);
	fclose(f);
	FUZZ_CHECK(chmod(path, 0600) == 0);
	FUZZ_CHECK(setenv("CREDENTIALS_DIRECTORY", scratch, 1) == 0);
	FUZZ_CHECK(config_load_string(NULL, "(defaults)", NULL, NULL, &defaults, &ec) == 0);
	atexit(cleanup);
}

static bool
names_special_file(const char *s)
{
	static const char *const bad[] = { "dev", "proc", "sys", "run", "fd/" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (strstr(s, bad[i]) != NULL)
			return true;
	return false;
}

static void
read_all(const struct config *c)
{
	const struct config_key *k;
	size_t i, n;
	char *diff;

	for (k = config_table(); k->name != NULL; k++) {
		FUZZ_CHECK(config_table_find(k->name) == k);
		switch (k->type) {
		case CONFIG_STRING:
		case CONFIG_PATH:
		case CONFIG_ENUM:
			FUZZ_CHECK(config_str(c, k->name) != NULL);
			break;
		case CONFIG_INT:
			(void)config_int(c, k->name);
			break;
		case CONFIG_BOOL:
			(void)config_bool(c, k->name);
			break;
		case CONFIG_DURATION:
			FUZZ_CHECK(config_usec(c, k->name) >= 0);
			break;
		case CONFIG_DECIMAL:
			(void)config_decimal(c, k->name);
			break;
		case CONFIG_LIST:
			n = config_list_len(c, k->name);
			for (i = 0; i < n; i++)
				FUZZ_CHECK(config_list_item(c, k->name, i) != NULL);
			FUZZ_CHECK(config_list_item(c, k->name, n) == NULL);
			break;
		case CONFIG_SECRET:
			if (config_secret(c, k->name) != NULL)
				FUZZ_CHECK(secret_len(config_secret(c, k->name)) > 0);
			break;
		default:
			abort();
		}
	}
	(void)config_origin(c);
	config_print(c, devnull);
	diff = config_diff_restart_keys(defaults, c);
	free(diff);
	diff = config_diff_restart_keys(c, defaults);
	free(diff);
}

int
fuzz_config_one(const uint8_t *data, size_t size)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *text;
	int r;

	if (devnull == NULL)
		setup();
	/* config_load refuses NUL bytes before parsing; do the same. */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (names_special_file(text)) {
		free(text);
		return 0;
	}
	/* Problems go to a real stream too: that path formats every message. */
	r = config_load_string(text, "fuzz.conf", "/etc/alchemiser", devnull, &c, &ec);
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "  load: %s\n", r == 0 ? "ok" : errctx_msg(&ec));
	if (r == 0) {
		FUZZ_CHECK(c != NULL);
		read_all(c);
		config_unref(config_ref(c));
		config_unref(c);
	} else
		FUZZ_CHECK(r == -EINVAL && errctx_msg(&ec)[0] != '\0');
	free(text);
	return 0;
}

FUZZ_ENTRY(fuzz_config_one)
