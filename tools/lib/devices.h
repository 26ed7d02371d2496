/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: device-mapper devices through libdevmapper and loop devices through
 * the loop ioctls, in-process (no dmsetup or losetup), as cryptsetup and
 * veritysetup do. Every device ovbd creates carries a DM UUID that names
 * the project, its role and its stack, so the kernel alone says what is
 * mapped:
 *
 *   OVBD-stack-<id>-<NAME>     the lsmt device /dev/mapper/NAME
 *   OVBD-part-<id>-<DEVNAME>   a private zfile or tail device of that stack
 *
 * <id> is 32 hex digits of the manifest digest (a stack opened from an
 * image) or of a digest of the layers' uuids and paths.
 * Library code: functions return 0 or -1 with why set; only commands die.
 */
#ifndef OVBD_DEVICES_H
#define OVBD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVBD_UUID_PREFIX	"OVBD-"
#define OVBD_UUID_STACK		"OVBD-stack-"
#define OVBD_UUID_PART		"OVBD-part-"
#define OVBD_UUID_BLOB		"OVBD-blob-"	/* a part shared by the stacks of a blob */
#define OVBD_BLOB_PREFIX	"ovbd-blob-"	/* its name */
#define OVBD_DM_NAME_MAX	128
#define OVBD_DM_UUID_MAX	129

/* ---- loop devices */

/*
 * Attach path read-only to a free loop device (LOOP_CTL_GET_FREE, then
 * LOOP_CONFIGURE, or LOOP_SET_FD and LOOP_SET_STATUS64 where the kernel
 * lacks it) with LO_FLAGS_AUTOCLEAR, and direct I/O when asked and the
 * backing file allows it. *fd stays open: the loop device detaches itself
 * when the last opener (this fd, then the dm device) closes, so a killed
 * ovbd leaves no loop device behind. dev receives /dev/loopN.
 */
int loop_attach(const char *path, bool direct_io, char *dev, size_t devlen, int *fd,
		char *why, size_t len);
/* The backing file of a loop device (by major:minor), or false. */
bool loop_backing_file(unsigned int major, unsigned int minor, char *out, size_t len);

/* ---- device-mapper */

struct dm_line {		/* one table line */
	uint64_t start, length;
	const char *target;
	const char *params;
};

/* Are udev rules running (so that /dev/mapper nodes come from udev)? */
bool dm_udev_running(void);
/*
 * Create the read-only device name with uuid and the table lines, and
 * return when its node exists: through a udev cookie where udev runs,
 * else by creating /dev/mapper/name itself (initramfs). private hides the
 * device from other udev rules (blkid, automounters).
 */
int dm_create(const char *name, const char *uuid, const struct dm_line *lines, unsigned int n,
	      bool private, char *why, size_t len);
/* Load new lines into name's inactive table, suspend (flushing I/O), resume. */
int dm_reload(const char *name, const struct dm_line *lines, unsigned int n, char *why, size_t len);
/* Remove name, retrying while something holds it briefly (udev's probes). */
int dm_remove(const char *name, char *why, size_t len);
/* The status or table line(s) of name ("" when none); -1 when it does not exist. */
int dm_query(const char *name, bool table, char *out, size_t outlen, char *why, size_t len);
/* name's uuid ("" when none); -1 when the device does not exist. */
int dm_uuid(const char *name, char *uuid, size_t len);
/* How many openers NAME has (a mount, a holder): -1 when it does not exist. */
int dm_open_count(const char *name);
/* The devices name's table references, as major:minor pairs. */
int dm_deps(const char *name, unsigned int *majors, unsigned int *minors, unsigned int max,
	    unsigned int *n, char *why, size_t len);
/* The dm device (name) of major:minor, or false when it is none. */
bool dm_name_of(unsigned int major, unsigned int minor, char *name, size_t len);
/*
 * Every dm device whose uuid starts with prefix, in name order: calls fn
 * with each name and uuid; stops when fn returns nonzero.
 */
int dm_each(const char *prefix, int (*fn)(const char *name, const char *uuid, void *arg),
	    void *arg, char *why, size_t len);

#endif /* OVBD_DEVICES_H */
