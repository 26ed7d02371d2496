/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: a client of the OCI distribution API (registries), over libcurl.
 * Library code: functions return 0 or -1 with why set; only commands die.
 * Credentials never appear in why.
 */
#ifndef OVBD_REGISTRY_H
#define OVBD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REG_HOST_MAX	256
#define REG_REPO_MAX	256
#define REG_TAG_MAX	128

/* host[:port]/repo[:tag|@sha256:...] */
struct reg_ref {
	char host[REG_HOST_MAX];	/* with the port, if any */
	char repo[REG_REPO_MAX];
	char tag[REG_TAG_MAX + 1];	/* "latest" when neither tag nor digest */
	char digest[72];		/* "" unless @sha256:... */
};

int reg_parse_ref(const char *s, struct reg_ref *r, char *why, size_t len);

struct reg_client {
	struct reg_ref ref;
	char base[REG_HOST_MAX + 16];	/* scheme://host */
	char *basic;			/* base64 user:password, or NULL */
	char *bearer;			/* the token, once fetched */
	long timeout;			/* seconds without progress */
	uint64_t chunk_size;		/* push: PATCH chunks of this size (0: one PUT) */
	/* called with each chunk of blob bytes received, from any thread */
	void (*progress)(void *arg, uint64_t bytes);
	void *progress_arg;
	/* once *cancel is nonzero (read atomically), a blob download stops with ECANCELED */
	const int *cancel;
	bool insecure;			/* TLS without verification (registries.conf insecure) */
};

/*
 * A client for ref's registry: HTTPS, or plain HTTP with plain_http and
 * for localhost and 127.0.0.1. Credentials come from $REGISTRY_AUTH_FILE,
 * ${XDG_RUNTIME_DIR}/containers/auth.json, $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json ("auths"), the first that names the host.
 */
int reg_open(struct reg_client *c, const struct reg_ref *ref, bool plain_http,
	     char *why, size_t len);
/*
 * The same for a registry that registries.conf marks insecure: HTTPS
 * without certificate verification, or plain HTTP when no TLS connection
 * can be made (one GET /v2/ decides).
 */
int reg_open_insecure(struct reg_client *c, const struct reg_ref *ref, char *why, size_t len);
void reg_close(struct reg_client *c);
/* A copy with its own credentials and token, for another thread. */
int reg_clone(struct reg_client *dst, const struct reg_client *src);

/* The manifest or index of ref (tag or digest): its bytes, media type and digest. */
int reg_get_manifest(struct reg_client *c, const char *reference, char **body, size_t *n,
		     char *media_type, size_t mtlen, char *digest, char *why, size_t len);
/*
 * What else sees a blob as it downloads (a pull's dm-verity tree): data()
 * gets every byte of the blob in order, what a resumed download had first;
 * verdict() is asked once all arrived and the digest matched, and the blob
 * is stored only when it returns 0 (else -1 with why set). Either may be NULL.
 */
struct reg_tap {
	int (*data)(void *arg, const void *buf, size_t n);
	int (*verdict)(void *arg, char *why, size_t len);
	void *arg;
};
/*
 * Download blob digest into path, resuming a partial file with Range and
 * hashing as it streams; path holds the blob only if its bytes match (and
 * tap, when not NULL, agrees).
 */
int reg_get_blob(struct reg_client *c, const char *digest, uint64_t size, const char *path,
		 const struct reg_tap *tap, uint64_t *fetched, char *why, size_t len);
/* Whether the registry has the blob (HEAD). */
int reg_has_blob(struct reg_client *c, const char *digest, bool *has, char *why, size_t len);
/*
 * Upload the file at path as blob digest: POST, then one PUT (monolithic),
 * or with c->chunk_size a PATCH per chunk and a closing PUT.
 */
int reg_put_blob(struct reg_client *c, const char *digest, const char *path,
		 char *why, size_t len);
/* Upload a manifest under reference (a tag). */
int reg_put_manifest(struct reg_client *c, const char *reference, const char *body, size_t n,
		     const char *media_type, char *why, size_t len);

/*
 * The Authorization header line (a Bearer token, or Basic) that reading
 * blob digest needs, after answering the registry's challenge; "" when it
 * needs none. For nbdkit's header-script: never print it anywhere else.
 */
int reg_auth_header(struct reg_client *c, const char *digest, char *out, size_t outlen,
		    char *why, size_t len);

#endif /* OVBD_REGISTRY_H */
