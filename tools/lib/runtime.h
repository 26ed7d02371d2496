/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: the OCI runtime-spec config.json of an image, as the image-spec's
 * "conversion to OCI runtime configuration" describes it and umoci's
 * `raw runtime-config` writes it: args from Entrypoint + Cmd, the image's
 * Env over the defaults, cwd, the user resolved through the image's own
 * /etc/passwd and /etc/group, Volumes as tmpfs mounts, Labels and the
 * image's fields as annotations, on a runtime's default spec (mounts,
 * capabilities, rlimits, masked and read-only paths); rootless as
 * `runc spec --rootless` makes it.
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_RUNTIME_H
#define OVBD_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

struct stack;

struct json_object;

struct runtime_opts {
	/*
	 * The image's root file system (a mounted device or a bundle's
	 * rootfs), where the user is looked up; NULL: only numeric users.
	 * Its files are opened inside it (RESOLVE_IN_ROOT): a symbolic link
	 * in the image cannot point the lookup at the host's files.
	 */
	const char *rootfs;
	/*
	 * Else the image's layers (stack.h), whose ext4 file system is read
	 * through libext2fs without a mount; NULL: only numeric users.
	 */
	struct stack *image;
	bool rootless;		/* a user namespace mapping this process's uid and gid to 0 */
	bool readonly_root;	/* root.readonly (a bundle's overlay is writable: false) */
};

/*
 * The runtime config of the image whose config blob (the image-spec's
 * application/vnd.oci.image.config.v1+json) is image_config. *out is a new
 * JSON object. Refuses a user that the image does not have, naming it.
 */
int runtime_config(struct json_object *image_config, const struct runtime_opts *o,
		   struct json_object **out, char *why, size_t len);

/*
 * The config blob of the image that the layout dir's manifest mdigest
 * names, its bytes checked against its digest; NULL with why set.
 */
struct json_object *runtime_image_config(const char *dir, const char *mdigest, char *why,
					 size_t len);

/*
 * The same from a registry reference, without pulling the layers; the
 * config blob is kept in the store (ovbd_store()).
 */
struct json_object *runtime_registry_config(const char *ref, bool plain, char *mdigest, char *why,
					    size_t len);

#endif /* OVBD_RUNTIME_H */
