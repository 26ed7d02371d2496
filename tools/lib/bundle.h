/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: OCI runtime bundles on a mapped image, for `runc run -b DIR` and
 * `crun run -b DIR`. A bundle DIR holds:
 *   config.json   the image's runtime config (runtime.h)
 *   rootfs/       an overlayfs: the image's file system, read-only, below a
 *                 writable upper
 *   upper/ work/  the container's writes (or on a tmpfs at .ovbd/rw)
 *   .ovbd/        the record (bundle.json) and the image's mount (lower/)
 *
 * The image's device stack is shared by every bundle of one image: it is
 * named ovbd-bundle-<16 hex digits of the manifest digest>, made by the
 * first bundle and removed by the last --remove, which the kernel tells
 * (the device's open count: every bundle mounts it). Bundles are made and
 * removed under a lock (/run/ovbd/bundle.lock), and the record is written
 * before anything is mounted or mapped, so a bundle that died at any step
 * is undone by bundle_remove.
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_BUNDLE_H
#define OVBD_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#define BUNDLE_STACK_PREFIX	"ovbd-bundle-"
#define BUNDLE_STATE		".ovbd"

struct oci_image;
struct lazy_opts;

struct bundle_opts {
	bool tmpfs;		/* the upper on a tmpfs of its own */
	bool rootless;		/* config.json with a user namespace (runtime.h) */
	bool require_verity;	/* refuse an image without dm-verity root hashes */
	bool direct_io;
	const char *ref;	/* what the user named the image by, for the record */
};

/*
 * Make the bundle DIR (absent or empty) of the image img (its layers at
 * paths, as oci_layer_args resolved them from a layout or a pull). On
 * failure nothing of it is left.
 */
int bundle_create(const char *dir, const struct oci_image *img, unsigned int n, char **paths,
		  const struct bundle_opts *o, char *why, size_t len);
/*
 * The same for an image mapped lazily from the registry reference ref
 * (lazy.h); its config is read from the registry.
 */
int bundle_create_lazy(const char *dir, const char *ref, const struct bundle_opts *o,
		       const struct lazy_opts *lo, char *why, size_t len);
/*
 * Unmount and remove what the bundle DIR made (its mounts, upper, config
 * and record) and close the image's stack when no other bundle uses it;
 * the image's store is left alone. 0; 1 when DIR is no bundle; -1 with why
 * set (a mount still busy: a container still running).
 */
int bundle_remove(const char *dir, char *why, size_t len);

#endif /* OVBD_BUNDLE_H */
