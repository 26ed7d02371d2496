/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: the subcommands. Each takes argc/argv from its name on and returns an exit code. */
#ifndef OVBD_COMMANDS_H
#define OVBD_COMMANDS_H

#include "blob.h"

int cmd_info(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_zfile(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_table(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_close(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
/* The store of images opened by reference: $OVBD_STORE, else /var/lib/ovbd. */
#define OVBD_DEFAULT_STORE	"/var/lib/ovbd"
const char *ovbd_store(void);
/*
 * A command's layer arguments: oci:DIR[:TAG], or one registry reference
 * (pulled into the store first), become the image's blob paths; anything
 * else is kept (see oci_layer_args).
 */
struct oci_image;
int image_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		     unsigned int *np, char *why, size_t len);
/*
 * Pull the registry image refstr into the layout dir (dies on failure);
 * oci_ref receives "oci:DIR:TAG", manifest_digest (if not NULL) its digest.
 * Without any_image, only an OverlayBD image; with it, any image, its
 * layers stored as they are (for ovbd convert).
 */
void ovbd_pull(const char *refstr, const char *dir, bool plain, bool any_image, char *oci_ref,
	       size_t len, char *manifest_digest);
/*
 * Resolve the registry client's reference to an image manifest (following
 * an image index to linux/amd64); body, n and digest receive its bytes and
 * digest. Dies naming refstr on failure.
 */
struct reg_client;
struct json_object *ovbd_pull_manifest(struct reg_client *c, const char *refstr, char **body,
				       size_t *n, char *digest);
/*
 * Map the blobs (files, or block devices used as they are) as NAME, with
 * DM UUIDs from manifest (or the layers); rolls back on failure.
 */
int ovbd_open_stack(const char *name, char **blobs, unsigned int n, const char *manifest,
		    bool direct_io, char *why, size_t whylen);
/* Remove NAME's devices (found by DM UUID) and what a killed open left; 1 if none. */
int ovbd_close_stack(const char *name, char *why, size_t whylen);
/* ovbd open --lazy (cmd_lazy.c): map REF at once, serving missing blobs with nbdkit. */
int lazy_open(const char *name, const char *ref, bool plain, char *why, size_t len);
/* A lazy stack's supervisor, nbd devices and nbdkit processes: stopped and removed. */
void lazy_close(const char *name);
/* The lazy state of NAME for status (NULL when NAME is not in a lazy phase). */
struct json_object *lazy_status(const char *name);
int cmd_registry_auth(int argc, char **argv);
/*
 * Push the OverlayBD image [oci:]DIR[:TAG] src to the registry reference dst
 * (dies on failure); chunk > 0 uploads each blob in PATCHes of that size.
 */
void ovbd_push(const char *src, const char *dst, bool plain, uint64_t chunk);
int cmd_convert(int argc, char **argv);
int cmd_push(int argc, char **argv);

/*
 * Shared by the commands: getopt_long that remembers what was wrong with a
 * bad option, and usage_of(), which with a nonzero code says that reason
 * (or that the arguments do not fit the synopsis) before the synopsis.
 */
struct option;
int ovbd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
void usage_of(const char *cmd, int code) __attribute__((noreturn));
/* --algo and --block-size values; die with exit 2 when malformed. */
u8 parse_algo(const char *s);
u32 parse_block_size(const char *s);
/* True when the blob's content (after tar and ZFile) is an LSMT file. */
bool content_is_lsmt(struct blob *b);

#endif /* OVBD_COMMANDS_H */
