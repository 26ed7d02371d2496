/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: OverlayBD images between a registry and an OCI image layout (the
 * store), through the OCI distribution API: pull, push, and the layer
 * arguments of the commands that take an image (a file list, oci:DIR[:TAG],
 * or a registry reference, pulled into the store first).
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_PULL_H
#define OVBD_PULL_H

#include <ovbd/lsmt.h>
#include <stdint.h>

/*
 * What a transfer says as it goes, all optional: a line per blob (as
 * "layer 0 sha256:...: 1234 bytes fetched, sha256 checked"), the total
 * bytes once known, and bytes as they arrive (from download threads: the
 * callee locks). A blob already stored counts its bytes as arrived.
 */
struct xfer_notes {
	void (*line)(void *arg, const char *msg);
	void (*total)(void *arg, uint64_t bytes);
	void (*bytes)(void *arg, uint64_t bytes);
	void *arg;
};

struct pull_opts {
	bool plain_http;
	bool any_image;		/* any image, layers stored as they are (for convert) */
	const struct xfer_notes *notes;
};

/* The store of images opened by reference: $OVBD_STORE, else /var/lib/ovbd. */
#define OVBD_DEFAULT_STORE	"/var/lib/ovbd"
const char *ovbd_store(void);

/*
 * Pull the registry image refstr into the layout dir. oci_ref receives
 * "oci:DIR:TAG", manifest_digest (if not NULL) its digest. Without
 * any_image, only an OverlayBD image: a layer recompressed in transit is
 * stored decompressed, checked against what the image says it is.
 * Finished blobs stay after a failure and partial ones resume.
 */
int ovbd_pull(const char *refstr, const char *dir, const struct pull_opts *o, char *oci_ref,
	      size_t len, char *manifest_digest, char *why, size_t wlen);
/*
 * Resolve the registry client's reference to an image manifest (following
 * an image index to linux/amd64): *man, *body, *n and digest receive it.
 */
struct reg_client;
struct json_object;
int ovbd_pull_manifest(struct reg_client *c, const char *refstr, struct json_object **man,
		       char **body, size_t *n, char *digest, char *why, size_t len);
/*
 * The same from the first source of refstr (registries.conf: its mirrors,
 * then its registry; a short name's candidates) that serves it: c is open
 * on that source (reg_close it), its reference rewritten.
 */
int pull_open_manifest(const char *refstr, bool plain_http, struct reg_client *c,
		       struct json_object **man, char **body, size_t *n, char *digest, char *why,
		       size_t len);
/*
 * Fetch one layer blob into the layout lay (nothing when it is there), its
 * dm-verity tree made as it streams when want is set: stored only when its
 * sha256 and root hash match. tree_digest and tree_size receive the tree's.
 */
struct oci_layout;
struct layer_verity;
int pull_blob(struct reg_client *c, struct oci_layout *lay, const char *digest, uint64_t size,
	      const struct layer_verity *want, char *tree_digest, uint64_t *tree_size, char *why,
	      size_t len);
/*
 * Push the OverlayBD image [oci:]DIR[:TAG] src to the registry reference
 * dst (a tag); chunk > 0 uploads each blob in PATCHes of that size.
 * pushed receives "host/repo:tag sha256:<manifest>".
 */
int ovbd_push(const char *src, const char *dst, bool plain_http, uint64_t chunk,
	      const struct xfer_notes *notes, char *pushed, size_t plen, char *why, size_t len);

/*
 * A command's layer arguments: oci:DIR[:TAG], or one registry reference
 * (pulled into the store first, saying so through notes), become the
 * image's blob paths; anything else is kept (see oci_layer_args).
 */
struct oci_image;
int image_layer_args(char **args, unsigned int n, const struct xfer_notes *notes,
		     struct oci_image *img, char ***paths, unsigned int *np, char *why, size_t len);

#endif /* OVBD_PULL_H */
