/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: OCI image layouts (oci-layout, index.json, blobs/sha256/...), the
 * store that skopeo and umoci read and write, and that ovbd pull will fill.
 * Library code: functions return 0 or -1 with why set; only commands die.
 */
#ifndef OVBD_OCI_H
#define OVBD_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCI_DIGEST_LEN		71	/* "sha256:" + 64 hex digits */
#define OCI_MT_MANIFEST		"application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG		"application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TAR	"application/vnd.oci.image.layer.v1.tar"

/* The annotations of containerd's accelerated-container-image (FORMAT.md). */
#define OVBD_ANN_DIGEST		"containerd.io/snapshot/overlaybd/blob-digest"
#define OVBD_ANN_SIZE		"containerd.io/snapshot/overlaybd/blob-size"
#define OVBD_ANN_FSTYPE		"containerd.io/snapshot/overlaybd/blob-fs-type"
#define OVBD_ANN_VERSION	"containerd.io/snapshot/overlaybd/version"
#define OCI_ANN_REF_NAME	"org.opencontainers.image.ref.name"

/* A descriptor {mediaType, digest, size}, and compact JSON text (owned by o). */
struct json_object;
struct json_object *oci_descriptor(const char *mt, const char *digest, uint64_t size);
const char *oci_json_text(struct json_object *o);
/* "sha256:" and 64 lower-case hex digits: a digest that is safe as a file name. */
bool oci_digest_ok(const char *digest);
/* Finish a SHA-256 (an EVP_MD_CTX) into "sha256:<hex>". */
struct evp_md_ctx_st;
void oci_sha256_final(struct evp_md_ctx_st *ctx, char *digest);

/* A string member of a JSON object, or NULL. */
struct json_object;
const char *oci_jstr(struct json_object *o, const char *key);
/* The digest of the linux/amd64 entry of an image index's manifests, or NULL. */
const char *oci_platform_digest(struct json_object *manifests);

struct oci_layout {
	char *dir;
};

/* Open DIR as a layout, creating it (and oci-layout) when absent or empty. */
int oci_layout_open(struct oci_layout *l, const char *dir, char *why, size_t len);
void oci_layout_close(struct oci_layout *l);

/*
 * Copy the file at path into the store, hashing it as it streams; digest
 * receives "sha256:<hex>" and size its length. A blob already stored is
 * not written again. The copy is renamed into place only when complete.
 */
int oci_put_file(struct oci_layout *l, const char *path, char *digest, uint64_t *size,
		 char *why, size_t len);
/* Store bytes (a manifest or a config) the same way. */
int oci_put_bytes(struct oci_layout *l, const void *buf, size_t n, char *digest,
		  char *why, size_t len);
/*
 * Point the tag (org.opencontainers.image.ref.name) of index.json at the
 * manifest, replacing the tag's earlier entry; written atomically.
 */
int oci_tag(struct oci_layout *l, const char *tag, const char *digest, uint64_t size,
	    char *why, size_t len);
/* The same for an artifact manifest: its index entry carries artifact_type. */
int oci_tag_as(struct oci_layout *l, const char *tag, const char *digest, uint64_t size,
	       const char *artifact_type, char *why, size_t len);

/*
 * Decompress the gzip or zstd stream in the file at path (libarchive) into
 * the store while hashing it; store it only if its digest is want_digest.
 * size receives the decompressed length.
 */
int oci_put_decompressed(struct oci_layout *l, const char *path, const char *want_digest,
			 uint64_t *size, char *why, size_t len);

/*
 * Remove tag from index.json (written atomically); -1 if it was not there.
 * When no other tag names its manifest, the manifest's referrers tag
 * (sha256-<hex>: a verified image's trees) goes too.
 */
int oci_untag(struct oci_layout *l, const char *tag, char *why, size_t len);
/*
 * Remove every blob that no image of index.json references (through its
 * indexes, manifests, configs and layers), and unfinished downloads.
 */
int oci_gc(struct oci_layout *l, unsigned int *removed, uint64_t *freed, unsigned int *kept,
	   char *why, size_t len);

/* Read the JSON blob digest from the layout at dir, checking its bytes against it. */
struct json_object *oci_read_json_blob(const char *dir, const char *digest, char *why, size_t len);

/* One image's manifest, resolved from a layout. */
struct oci_manifest {
	char digest[OCI_DIGEST_LEN + 1];
	struct json_object *manifest;	/* owned: json_object_put() it */
	struct json_object *layers;	/* its non-empty "layers" array */
};
/*
 * Resolve tag (NULL: the layout's only image, or "latest") in the layout
 * at dir, following an image index to linux/amd64, to a manifest whose
 * bytes match its digest and that has layers.
 */
int oci_load_manifest(const char *dir, const char *tag, struct oci_manifest *mf, char *why,
		      size_t len);

/* The OverlayBD layers of one image, resolved from a layout. */
struct oci_image {
	char *dir;		/* the layout it was resolved from */
	char manifest_digest[OCI_DIGEST_LEN + 1];
	unsigned int n;
	char **blobs;		/* paths in the store, bottom first */
	uint64_t *sizes;
};

/*
 * Resolve tag (NULL: the layout's only image, or "latest") in the layout
 * at dir, following an image index to linux/amd64, to the paths of its
 * layer blobs. Refuses a layer that is no OverlayBD blob (naming it and
 * its mediaType), a manifest whose bytes do not match their digest, and a
 * blob missing or of the wrong size.
 */
int oci_resolve(const char *dir, const char *tag, struct oci_image *img, char *why, size_t len);
void oci_image_free(struct oci_image *img);

/*
 * "[oci:]DIR[:TAG]" into a new DIR string and *tag (NULL when absent, else
 * inside the returned string). A TAG may be a digest (sha256:...); a DIR may
 * hold ':' only before a '/'. NULL when out of memory.
 */
char *oci_split_ref(const char *arg, const char **tag);

/*
 * A command's layer arguments: one "oci:DIR[:TAG]" becomes the image's
 * blob paths (img is filled and must be freed), anything else is kept.
 */
int oci_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		   unsigned int *np, char *why, size_t len);

/* One layer of an OverlayBD image being written: a stored blob. */
struct oci_built_layer {
	const char *digest;
	uint64_t size;
	const char *comment;	/* the history entry's comment, or NULL */
};
#define OVBD_IMAGE_VERSION	"0.1.0"

/*
 * Store an OverlayBD image's config and manifest and tag it: the layers'
 * descriptors carry the OverlayBD annotations, and the config's diff_ids
 * are the blobs' digests (an OverlayBD layer is an uncompressed tar). The
 * config is base_config with its rootfs replaced, or (NULL) a new one with
 * a history entry per layer, created at created. mdigest receives the
 * manifest's digest.
 */
int oci_write_image(struct oci_layout *lay, const char *tag, const struct oci_built_layer *layers,
		    unsigned int n, const char *fs_type, struct json_object *base_config,
		    const char *created, char *mdigest, char *why, size_t len);

#endif /* OVBD_OCI_H */
