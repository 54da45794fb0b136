/*
 * secret: a credential value (AWS secret key, broker secret, SMTP password).
 * It is never a plain char * so that no %s can print it; the logger has no way
 * to format one, and --print-config shows "(secret, N bytes)" instead.
 * Thread:  immutable after creation; any thread may read it.
 * Memory:  owned by whoever created it; secret_free() wipes and frees (NULL-safe).
 */
#ifndef ALCHEMISER_CORE_SECRET_H
#define ALCHEMISER_CORE_SECRET_H

#include <stddef.h>

struct errctx;
struct secret;

/* Copy len bytes of value into a new secret. */
struct secret *secret_new(const char *value, size_t len);
/* Read a secret from a file: trailing newline stripped; a file readable by group
 * or others is refused (-EACCES), an empty file is -EINVAL. */
int	secret_from_file(const char *path, struct secret **ret, struct errctx *ec);
/* Resolve a credential name: "$CREDENTIALS_DIRECTORY/name" when that exists
 * (systemd LoadCredential=), else the path itself. */
int	secret_load(const char *name_or_path, struct secret **ret, struct errctx *ec);
/* The raw bytes, for the one place that must use them (signing, AUTH). */
const char *secret_reveal(const struct secret *s);
size_t	secret_len(const struct secret *s);
struct secret *secret_dup(const struct secret *s);
void	secret_free(struct secret *s);

#endif
