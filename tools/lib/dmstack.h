/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: a device stack's whole life, in one place: the plan (a struct per
 * device, no table text until libdevmapper's call), its creation with
 * rollback on every failure path, its record in the kernel (DM UUIDs,
 * devices.h), its status, the retarget of one layer (the lazy handover),
 * and its removal.
 *
 * A stack NAME of layer blobs (bottom first) is, from the bottom up:
 *   a read-only, autoclearing loop device per blob (a block device given
 *   as a layer, such as an nbd device of a lazy open, is used as it is);
 *
 * A layer blob that is a file gets its parts once, shared by every stack
 * that uses it (dmstack_blob_*): ovbd-blob-<blob>[-<root>]-{v,t,z,l},
 * named by the blob's digest (or the file's identity) and, under dm-verity,
 * by the root hash, so that a part made with another root hash is another
 * part. The kernel is the record: a shared part lives while a table names
 * it (its open count), and the close that leaves it unused removes it
 * (dmstack_prune). Creation and removal of shared parts are serialised by
 * a lock (OVBD_RUN_DIR/parts.lock), which the kernel drops when its holder
 * dies; what a killed open left unused, the next open, close or prune
 * removes. The private parts below are those of a layer that is a block
 * device (an nbd device during a lazy phase) and of a lone ZFile:
 *   NAME-vNNN, the dm-verity device of a layer whose root hash the image's
 *   manifest carries (libcryptsetup; the tree file on a loop device of its
 *   own), so that nothing above reads a byte the image's author did not
 *   publish;
 *   NAME-tNNN, a dm-linear device that appends a bare ZFile's partial last
 *   sector, which a loop device drops, where its trailer sits there;
 *   NAME-zNNN, the zfile device of each compressed layer;
 *   NAME, the lsmt device (or the zfile device of a lone standalone ZFile).
 *
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_DMSTACK_H
#define OVBD_DMSTACK_H

#include "devices.h"
#include <ovbd/lsmt.h>

#define DMSTACK_NAME_MAX	128
#define DMSTACK_SECTOR		512
#define DMSTACK_LOWER_MAX	(OVBD_DM_NAME_MAX + 16)	/* "/dev/mapper/<name>", "/dev/loopN" */
#define DMSTACK_MAX_DEVS	(2 * OVBD_LSMT_MAX_LAYERS + 1)
/* What the kernel cannot tell: the image reference of a stack, NAME.image. */
#define OVBD_RUN_DIR		"/run/ovbd"

/* What the tables need from one layer blob, read once by dmstack_probe(). */
struct dmstack_layer {
	bool zfile, lsmt;
	u64 file_size, content_size, virtual_size;
	u64 payload_off;		/* where the ZFile or LSMT file starts (after a tar wrapper) */
	/*
	 * A ZFile whose trailer fields sit in the partial last sector, which
	 * a loop device drops: that sector, zero-padded, goes on NAME-tNNN.
	 */
	bool tail;
	u8 tail_sector[DMSTACK_SECTOR];
	const struct layer_verity *verity;	/* read through NAME-vNNN, with these */
	char uuid[OVBD_LSMT_UUID_LEN + 1], parent[OVBD_LSMT_UUID_LEN + 1];
	/* the block device the layer is read from: its loop, nbd or tail device */
	char lower[DMSTACK_LOWER_MAX];
	/* a shared layer: its topmost part, which the lsmt device reads ("" if private) */
	char part[DMSTACK_NAME_MAX];
};

/* One device: its name, role and table (up to two lines, as a tail device has). */
struct dmstack_dev {
	char name[DMSTACK_NAME_MAX];
	bool top;			/* NAME itself; the others are NAME's private parts */
	int layer;			/* the layer a zfile or tail device reads; -1 for the top */
	unsigned int nlines;
	struct dm_line line[2];
	char *params[2];		/* what line[].params points at (heap) */
};

struct dmstack {
	char name[DMSTACK_NAME_MAX];
	char id[33];			/* 32 hex digits: the manifest's, or of the layers */
	unsigned int nlayers;
	struct dmstack_layer layer[OVBD_LSMT_MAX_LAYERS];
	unsigned int ndev;		/* devices in creation order, the top last */
	struct dmstack_dev dev[DMSTACK_MAX_DEVS];
};

struct layer_verity;
struct dmstack_opts {
	const char *manifest;		/* "sha256:...": the stack's id; NULL: from the layers */
	bool direct_io;			/* loop devices with LO_FLAGS_DIRECT_IO */
	/* per layer (NULL: none): a verity device under each layer whose ->set is true */
	const struct layer_verity *verity;
	bool private_parts;		/* no shared parts: every part is NAME's own */
};

/* NAME: 1..80 characters without '/', not "." or "..": 0, or -1 with why set. */
int dmstack_check_name(const char *name, char *why, size_t len);
/*
 * Check NAME and the layer blobs (bottom first), opening each once, and
 * keep what the tables need. A single standalone ZFile gives one zfile
 * device. Refuses bad input and layers that do not chain (stack.h).
 */
int dmstack_probe(struct dmstack *s, const char *name, char **blobs, unsigned int n, char *why,
		  size_t len);
/* The plan of every device, from the probed layers and their lower devices. */
int dmstack_render(struct dmstack *s, char *why, size_t len);
void dmstack_free(struct dmstack *s);

/*
 * Map the blobs as NAME: probe, attach, plan and create, in that order,
 * and on any failure remove what was made, so that nothing is left. The
 * message of a refused table quotes the target's kernel log line.
 */
int dmstack_open(struct dmstack *s, const char *name, char **blobs, unsigned int n,
		 const struct dmstack_opts *o, char *why, size_t len);
/*
 * Point layer i of an open stack at the block device dev (path or M:m):
 * the device that reads it is reloaded (load, suspend, which drains its
 * in-flight I/O, resume). On failure the live table stays as it was.
 */
int dmstack_retarget(struct dmstack *s, unsigned int i, const char *dev, char *why, size_t len);
/*
 * Point layer i's verity device at the block devices data and tree (the
 * lazy handover of a verified layer): its table is reloaded with the same
 * parameters, so that I/O in flight completes and none fails.
 */
int dmstack_retarget_verity(struct dmstack *s, unsigned int i, const char *data, const char *tree,
			    char *why, size_t len);
/*
 * The handover of layer i (an LSMT layer read through private parts, such
 * as an nbd device's during a lazy phase) onto the shared parts of the
 * stored blob, with dm-verity from v (NULL: none; v->tree the tree file):
 * found or made, the lsmt device reloaded onto them, the private parts
 * removed, so that the stack ends on the parts any other open of the blob
 * uses. 0; 1 with why set when a private part stays until close; -1 on
 * failure, when the live tables stay as they were.
 */
int dmstack_share_handover(struct dmstack *s, unsigned int i, const char *blob,
			   const struct layer_verity *v, char *why, size_t len);
/*
 * Remove NAME's devices (found by DM UUID) and what a killed open left,
 * and its image record. 0 when something was removed, 1 when nothing of
 * NAME existed, -1 with why set on failure (a second close goes on).
 */
int dmstack_close(const char *name, char *why, size_t len);

/*
 * Remove every shared part that no table and no opener uses (what a killed
 * open or close left), under the parts lock. removed (may be NULL) counts them.
 */
int dmstack_prune(unsigned int *removed, char *why, size_t len);

/* NAME's image record: the reference it was opened by and the manifest digest. */
int dmstack_record_image(const char *name, const char *ref, const char *manifest, char *why,
			 size_t len);
bool dmstack_image(const char *name, char *ref, size_t reflen, char *manifest, size_t mlen);
void dmstack_forget_image(const char *name);

/* Is NAME a stack that ovbd made (its lsmt device carries an OVBD-stack uuid)? uuid receives it. */
bool dmstack_exists(const char *name, char *uuid, size_t len);
/*
 * NAME as JSON, from the kernel alone: name, device, uuid, the image it
 * was opened from, the status line and its counters, and every device
 * under it (parts with their status, loop devices with their files).
 */
struct json_object;
struct json_object *dmstack_describe(const char *name, const char *uuid);

#endif /* OVBD_DMSTACK_H */
