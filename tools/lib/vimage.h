/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: verified images. A layer descriptor of the image manifest carries
 * the dm-verity root hash and salt of its blob's tree in annotations, so the
 * manifest digest covers every root hash and every root hash every block:
 *
 *   org.dm-overlaybd.verity.sha256-4096.root-hash        64 hex digits
 *   org.dm-overlaybd.verity.sha256-4096.salt             64 hex digits
 *   org.dm-overlaybd.verity.sha256-4096.data-block-size  "4096" or "512"
 *
 * ("sha256-4096": the hash and the hash block size; hash type 1, the tree
 * as veritysetup format writes it, superblock first: verity.h). The trees
 * are data, not trust: they travel in an OCI artifact whose subject is the
 * image manifest (artifactType application/vnd.dm-overlaybd.verity.v1, a
 * layer per tree, each annotated with the blob digest it covers), tagged
 * sha256-<manifest hex> (the referrers tag schema) in a layout and a
 * registry. Layer blobs never change: verified and unverified images of
 * the same layers share them.
 * Library code: functions return 0 or -1 with why set.
 */
#ifndef OVBD_VIMAGE_H
#define OVBD_VIMAGE_H

#include "verity.h"
#include <stdbool.h>
#include <stdint.h>

#define OVBD_ANN_VERITY		"org.dm-overlaybd.verity.sha256-4096."
#define OVBD_ANN_VERITY_ROOT	OVBD_ANN_VERITY "root-hash"
#define OVBD_ANN_VERITY_SALT	OVBD_ANN_VERITY "salt"
#define OVBD_ANN_VERITY_DBS	OVBD_ANN_VERITY "data-block-size"
/* on a tree of the artifact: the layer blob it covers */
#define OVBD_ANN_VERITY_BLOB	"org.dm-overlaybd.verity.blob-digest"
#define OVBD_AT_VERITY		"application/vnd.dm-overlaybd.verity.v1"
#define OVBD_MT_VERITY_TREE	"application/vnd.dm-overlaybd.verity.tree.v1"
#define OCI_MT_EMPTY		"application/vnd.oci.empty.v1+json"

/* One layer's verity: from its descriptor, and where its tree is. */
struct layer_verity {
	bool set;			/* the descriptor carries a root hash */
	u8 root[VERITY_DIGEST];
	u8 salt[VERITY_SALT];
	u32 salt_size;
	u32 data_block_size;
	u64 data_blocks;
	char tree[4200];		/* the tree file ("" until found or made) */
	u64 hash_offset;		/* bytes: where its first level starts */
};

struct json_object;
struct oci_layout;
/*
 * The verity annotations of a layer descriptor of a blob of size bytes:
 * v->set false when it has none; -1 (naming the key) when they are
 * malformed or do not fit the blob.
 */
int vimage_desc_verity(struct json_object *desc, uint64_t size, struct layer_verity *v,
		       char *why, size_t len);
/* Write v's annotations into desc. */
void vimage_annotate(struct json_object *desc, const struct layer_verity *v);

/*
 * Make the tree of the stored blob (the layout's blobs/sha256/<digest>) with
 * salt and data blocks of dbs bytes (0: as verity_data_block_size() says
 * for the blob and its payload's offset), store it as a blob of the
 * layout, and fill v (tree, root, params).
 */
int vimage_make_tree(struct oci_layout *lay, const char *blob_digest, u32 dbs, const u8 *salt,
		     struct layer_verity *v, char *tree_digest, uint64_t *tree_size, char *why,
		     size_t len);
/*
 * Store and tag (sha256-<manifest hex>) the artifact of the manifest
 * mdigest (msize bytes) that carries the n trees (tree_digest[i] of
 * tree_size[i] bytes, for blob_digest[i]).
 */
int vimage_put_artifact(struct oci_layout *lay, const char *mdigest, uint64_t msize,
			const char *const *blob_digest, const char *const *tree_digest,
			const uint64_t *tree_size, unsigned int n, char *why, size_t len);

/*
 * The verity of each layer of the image manifest mdigest in the layout
 * at dir (v[0..n), n its layer count): from its descriptors, each tree
 * from the image's artifact, or made from the stored blob (and the
 * artifact written) where the layout has none. A tree whose root hash is
 * not the manifest's is refused, naming the layer: the blob was changed.
 * *nverified receives how many layers carry a root hash.
 */
int vimage_layers(const char *dir, const char *mdigest, struct layer_verity *v, unsigned int n,
		  unsigned int *nverified, char *why, size_t len);

/*
 * Add the annotations to the image dir:tag (NULL: its only image) without
 * changing any layer blob: the trees are made and stored with their
 * artifact, and a new manifest, tagged newtag (NULL: tag), replaces the
 * old one. mdigest receives the new manifest's digest.
 */
int vimage_add(const char *dir, const char *tag, const char *newtag, char *mdigest, char *why,
	       size_t len);

/*
 * The verity of the layers of the image img (n layers, paths[]) for a
 * stack: *verity points at v when any layer has a root hash (their trees
 * found in img's layout or made there), else NULL. With require, a layer
 * without one, or layers given as files (img has no layout), is refused,
 * naming the first.
 */
struct oci_image;
int vimage_stack_verity(const struct oci_image *img, unsigned int n, char **paths, bool require,
			struct layer_verity *v, const struct layer_verity **verity, char *why,
			size_t len);

/*
 * Open the image's layers (paths, bottom first, as oci_layer_args gives
 * them) as the stack NAME, with dm-verity under each layer that carries a
 * root hash (require: refuse a layer without), and record ref and the
 * manifest for status. 0; 1 when the stack is open but its record could
 * not be written (why says so); -1 (or -2) with nothing left on failure.
 */
struct dmstack;
struct dmstack_opts;
int vimage_open_stack(struct dmstack *s, const char *name, const struct oci_image *img,
		      unsigned int n, char **paths, const char *ref, bool require,
		      struct dmstack_opts *so, char *why, size_t len);

#endif /* OVBD_VIMAGE_H */
