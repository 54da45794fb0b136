/*
 * sqlite_mem: SQLite's allocator for this process (per-thread free lists of
 * small blocks in front of malloc), private to src/local.
 * Thread:  any; install before SQLite initialises (sqlite_state_open does).
 * Memory:  blocks belong to SQLite; kept ones are freed when their thread
 *          exits or at sqlite3_shutdown.
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_MEM_H
#define ALCHEMISER_LOCAL_SQLITE_MEM_H

/* 0, or -1 if SQLite was already initialised (then nothing changes). */
int	sqlite_mem_install(void);

#endif
