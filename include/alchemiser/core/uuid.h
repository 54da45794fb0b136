/*
 * uuid: RFC 4122 identifiers. v4 from getrandom(2); v5 (SHA-1, name-based) for
 * deterministic event ids, so a handler re-run publishes the same ids.
 * Thread:  any.
 * Memory:  caller-provided buffers of UUID_STRLEN.
 */
#ifndef ALCHEMISER_CORE_UUID_H
#define ALCHEMISER_CORE_UUID_H

#include <stddef.h>
#include <stdbool.h>

struct errctx;

#define UUID_STRLEN 37	/* 36 characters plus NUL */

/* Namespace of every id alchemiserd derives (a fixed v4 chosen once). */
#define UUID_NAMESPACE_ALCHEMISER "6f1d1a52-3c8e-4b57-9a0e-2c4d8b7e9f10"
#define UUID_NAMESPACE_DNS "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

/* Random v4, lower case (122 random bits). Returns 0 or -errno from getrandom. */
int	uuid_v4(char out[UUID_STRLEN]);
/* v5 of name (len bytes, may hold NULs) in namespace ns (a UUID string, either
 * case), lower case; -EINVAL if ns is not a UUID or name is NULL with len > 0,
 * -ENOMEM/-EIO if libcrypto fails. out is untouched on error. */
int	uuid_v5(const char *ns, const void *name, size_t len, char out[UUID_STRLEN]);
/* True for the 8-4-4-4-12 hex form (any version, either case). */
bool	uuid_is_valid(const char *s);

#endif
