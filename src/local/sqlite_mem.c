/*
 * sqlite_mem: SQLite's allocator (SQLITE_CONFIG_MALLOC): small blocks are
 * kept on per-thread free lists in front of malloc.
 *
 * Why: the libsqlite3 we link is built with SQLITE_OMIT_LOOKASIDE, so every
 * execution of a statement mallocs and frees its cursors and values (about
 * 36 blocks per message, issue #13). In a daemon whose heap also holds a
 * batch of messages, jobs and JSON trees, glibc's per-thread cache (7 blocks
 * of a size) overflows and each of those calls took ~150 instructions, three
 * times what the same calls cost the floor program. Here a block of a small
 * class goes back on its thread's list and is handed out again at once.
 *
 * A block carries its size class in a 16-byte header (xSize, and alignment
 * as malloc's). At most SQLITE_MEM_KEEP blocks per class and thread are
 * kept; a thread's lists are freed when it exits (a key destructor) and the
 * calling thread's at sqlite3_shutdown. Any thread may free a block another
 * allocated (it joins the freeing thread's list), as with glibc's cache.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "sqlite_mem.h"

#define MEM_HEADER 16		/* keeps the caller's block 16-byte aligned */
#define MEM_STEP 64		/* class width up to MEM_MID */
#define MEM_MID 2048
#define MEM_BIG_STEP 1024	/* class width above, up to MEM_SMALL_MAX */
#define MEM_SMALL_MAX 16384	/* a b-tree balance's scratch (a page and a bit) fits */
#define MEM_CLASSES (MEM_MID / MEM_STEP + (MEM_SMALL_MAX - MEM_MID) / MEM_BIG_STEP)
#define SQLITE_MEM_KEEP 64	/* blocks kept per class and thread */
#define SQLITE_MEM_KEEP_BIG 4	/* ... for the classes above MEM_MID */

struct mem_free {
	struct mem_free	*next;
};

struct mem_cache {
	struct mem_free	*head[MEM_CLASSES];
	unsigned	 count[MEM_CLASSES];
	bool		 keyed;	/* the exit destructor knows this thread */
};

static __thread struct mem_cache cache;
static pthread_key_t cache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void
cache_drain(struct mem_cache *c)
{
	size_t k;

	for (k = 0; k < MEM_CLASSES; k++) {
		while (c->head[k] != NULL) {
			struct mem_free *f = c->head[k];

			c->head[k] = f->next;
			free((char *)f - MEM_HEADER);
		}
		c->count[k] = 0;
	}
}

static void
cache_exit(void *arg)
{
	cache_drain(arg);
}

static void
key_init(void)
{
	(void)pthread_key_create(&cache_key, cache_exit);
}

/* The usable size of a request: its class's, or 8-aligned above them. */
static int
mem_roundup(int n)
{
	if (n <= 0)
		return MEM_STEP;
	if (n <= MEM_MID)
		return (n + MEM_STEP - 1) / MEM_STEP * MEM_STEP;
	if (n <= MEM_SMALL_MAX)
		return (n + MEM_BIG_STEP - 1) / MEM_BIG_STEP * MEM_BIG_STEP;
	return n > INT32_MAX - 7 ? n : (n + 7) & ~7;
}

/* The class of a rounded size of at most MEM_SMALL_MAX. */
static size_t
class_of(size_t size)
{
	if (size <= MEM_MID)
		return size / MEM_STEP - 1;
	return MEM_MID / MEM_STEP + (size - MEM_MID) / MEM_BIG_STEP - 1;
}

static void *
mem_malloc(int n)
{
	size_t size = (size_t)mem_roundup(n), k;
	char *b;

	if (size <= MEM_SMALL_MAX) {
		k = class_of(size);
		if (cache.head[k] != NULL) {
			struct mem_free *f = cache.head[k];

			cache.head[k] = f->next;
			cache.count[k]--;
			return f;
		}
	}
	b = malloc(MEM_HEADER + size);
	if (b == NULL)
		return NULL;
	memcpy(b, &size, sizeof size);
	return b + MEM_HEADER;
}

static int
mem_size(void *p)
{
	size_t size;

	if (p == NULL)
		return 0;
	memcpy(&size, (char *)p - MEM_HEADER, sizeof size);
	return (int)size;
}

static void
mem_free(void *p)
{
	size_t size, k;

	if (p == NULL)
		return;
	size = (size_t)mem_size(p);
	if (size <= MEM_SMALL_MAX) {
		k = class_of(size);
		if (cache.count[k] < (size <= MEM_MID ? SQLITE_MEM_KEEP : SQLITE_MEM_KEEP_BIG)) {
			struct mem_free *f = p;

			if (!cache.keyed) {
				/* Once per thread: its lists are freed when it exits. */
				(void)pthread_once(&key_once, key_init);
				(void)pthread_setspecific(cache_key, &cache);
				cache.keyed = true;
			}
			f->next = cache.head[k];
			cache.head[k] = f;
			cache.count[k]++;
			return;
		}
	}
	free((char *)p - MEM_HEADER);
}

static void *
mem_realloc(void *p, int n)
{
	size_t old = (size_t)mem_size(p);
	void *q;

	if (p != NULL && n > 0 && (size_t)mem_roundup(n) == old)
		return p;
	q = mem_malloc(n);
	if (q == NULL)
		return NULL;
	if (p != NULL) {
		memcpy(q, p, old < (size_t)mem_roundup(n) ? old : (size_t)mem_roundup(n));
		mem_free(p);
	}
	return q;
}

static int
mem_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void
mem_shutdown(void *arg)
{
	(void)arg;
	cache_drain(&cache);
}

static const sqlite3_mem_methods methods = {
	.xMalloc = mem_malloc,
	.xFree = mem_free,
	.xRealloc = mem_realloc,
	.xSize = mem_size,
	.xRoundup = mem_roundup,
	.xInit = mem_init,
	.xShutdown = mem_shutdown,
};

int
sqlite_mem_install(void)
{
	return sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK ? 0 : -1;
}
