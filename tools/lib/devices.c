// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: loop devices through ioctls, device-mapper through libdevmapper. */
#include "devices.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/loop.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* ---- loop devices */

/* Open /dev/loopN, waiting briefly for udev (or devtmpfs) to make the node. */
static int open_loop(const char *dev)
{
	int i, fd = -1;

	for (i = 0; i < 100 && fd < 0; i++) {
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			break;
		if (fd < 0)
			nap_ms(10);
	}
	return fd;
}

int loop_attach(const char *path, bool direct_io, char *dev, size_t devlen, int *fd,
		char *why, size_t len)
{
	struct loop_config cfg;
	int ctl, file, lfd = -1, tries, n, e = 0;

	*fd = -1;
	if (ovbd_step("loop attach", path, why, len))
		return -1;
	file = open(path, O_RDONLY | O_CLOEXEC);
	if (file < 0)
		return failf(why, len, "%s: %s", path, strerror(errno));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		e = errno;
		close(file);
		return failf(why, len, "/dev/loop-control: %s (modprobe loop)", strerror(e));
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (unsigned int)file;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR |
			    (direct_io ? LO_FLAGS_DIRECT_IO : 0);
	snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", path);
	for (tries = 0; tries < 32; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			e = errno;
			break;
		}
		snprintf(dev, devlen, "/dev/loop%d", n);
		lfd = open_loop(dev);
		if (lfd < 0) {
			e = errno;
			break;
		}
		if (!ioctl(lfd, LOOP_CONFIGURE, &cfg))
			break;
		e = errno;
		if (e == EINVAL || e == ENOTTY) {	/* before Linux 5.8: two steps */
			if (!ioctl(lfd, LOOP_SET_FD, file)) {
				struct loop_info64 info = cfg.info;

				if (!ioctl(lfd, LOOP_SET_STATUS64, &info))
					break;
				e = errno;
				ioctl(lfd, LOOP_CLR_FD, 0);
			} else {
				e = errno;
			}
		}
		close(lfd);
		lfd = -1;
		if (e != EBUSY)		/* EBUSY: another attach took it first */
			break;
	}
	close(ctl);
	close(file);
	if (lfd < 0)
		return failf(why, len, "%s: no loop device: %s", path, strerror(e ? e : EBUSY));
	*fd = lfd;
	ovbd_step_done();
	return 0;
}

bool loop_backing_file(unsigned int major, unsigned int minor, char *out, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major, minor);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return true;
}

/* ---- device-mapper */

/* libdevmapper's last error message, kept for ours instead of printed. */
static char dm_last[512];

static void dm_logger(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	va_list ap;

	if (level > 3)	/* _LOG_ERR: errors only */
		return;
	va_start(ap, f);
	vsnprintf(dm_last, sizeof(dm_last), f, ap);
	va_end(ap);
}

static void dm_setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	dm_log_with_errno_init(dm_logger);
	if (!dm_udev_running())
		dm_udev_set_sync_support(0);	/* no udev: libdevmapper makes the nodes */
}

bool dm_udev_running(void)
{
	return access("/run/udev/control", F_OK) == 0;
}

static int dm_fail(char *why, size_t len, const char *what, const char *name)
{
	return failf(why, len, "%s %s: %s", what, name, dm_last[0] ? dm_last : strerror(errno));
}

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *t;

	dm_setup();
	dm_last[0] = 0;
	t = dm_task_create(type);
	if (t && name && !dm_task_set_name(t, name)) {
		dm_task_destroy(t);
		return NULL;
	}
	return t;
}

static int add_lines(struct dm_task *t, const struct dm_line *lines, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!dm_task_add_target(t, lines[i].start, lines[i].length, lines[i].target,
					lines[i].params))
			return -1;
	return 0;
}

/* Run t with a udev cookie and wait for udev (or make the nodes without it). */
static int run_synced(struct dm_task *t, uint16_t flags)
{
	uint32_t cookie = 0;
	int ok;

	if (!dm_task_set_cookie(t, &cookie, flags))
		return 0;
	ok = dm_task_run(t);
	dm_udev_wait(cookie);
	return ok;
}

int dm_create(const char *name, const char *uuid, const struct dm_line *lines, unsigned int n,
	      bool private, char *why, size_t len)
{
	struct dm_task *t = task(DM_DEVICE_CREATE, name);
	uint16_t flags = private ? DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG |
				   DM_UDEV_DISABLE_DISK_RULES_FLAG |
				   DM_UDEV_DISABLE_OTHER_RULES_FLAG : 0;
	int ok;

	if (!t)
		return dm_fail(why, len, "create", name);
	/* one libdevmapper transaction: create, load, resume; it removes what a failed load made */
	if (ovbd_step("dm create", name, why, len)) {
		dm_task_destroy(t);
		return -1;
	}
	ok = dm_task_set_uuid(t, uuid) && dm_task_set_ro(t) && !add_lines(t, lines, n) &&
	     run_synced(t, flags);
	dm_task_destroy(t);
	if (!ok)
		return dm_fail(why, len, "create", name);
	ovbd_step_done();
	return 0;
}

static int simple(int type, const char *name, uint16_t flags, bool cookie)
{
	struct dm_task *t = task(type, name);
	int ok;

	if (!t)
		return 0;
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(t);
	ok = cookie ? run_synced(t, flags) : dm_task_run(t);
	dm_task_destroy(t);
	return ok;
}

int dm_reload(const char *name, const struct dm_line *lines, unsigned int n, char *why, size_t len)
{
	struct dm_task *t = task(DM_DEVICE_RELOAD, name);
	int ok;

	if (!t)
		return dm_fail(why, len, "reload", name);
	if (ovbd_step("table load", name, why, len)) {
		dm_task_destroy(t);
		return -1;
	}
	ok = dm_task_set_ro(t) && !add_lines(t, lines, n) && dm_task_run(t);
	dm_task_destroy(t);
	if (!ok)
		return dm_fail(why, len, "reload", name);
	ovbd_step_done();
	/* a failed suspend keeps the live table: the loaded one is cleared */
	if (ovbd_step("suspend", name, why, len) ||
	    (!simple(DM_DEVICE_SUSPEND, name, 0, false) && dm_fail(why, len, "suspend", name))) {
		simple(DM_DEVICE_CLEAR, name, 0, false);
		return -1;
	}
	ovbd_step_done();
	/*
	 * A failed resume leaves the device suspended with the new table
	 * still inactive: clear that and resume the live one, so that the
	 * device reads as before and I/O never stays queued behind a failure.
	 */
	if (ovbd_step("resume", name, why, len) ||
	    (!simple(DM_DEVICE_RESUME, name, 0, true) && dm_fail(why, len, "resume", name))) {
		simple(DM_DEVICE_CLEAR, name, 0, false);
		simple(DM_DEVICE_RESUME, name, 0, true);
		return -1;
	}
	ovbd_step_done();
	return 0;
}

int dm_remove(const char *name, char *why, size_t len)
{
	if (ovbd_step("dm remove", name, why, len))
		return -1;
	if (!simple(DM_DEVICE_REMOVE, name, 0, true))
		return dm_fail(why, len, "remove", name);
	ovbd_step_done();
	return 0;
}

/* An INFO task for name; NULL (and *exists false) when there is no such device. */
static struct dm_task *info_task(const char *name, unsigned int major, unsigned int minor,
				 int type, bool *exists)
{
	struct dm_task *t = task(type, name);
	struct dm_info info;

	*exists = false;
	if (!t)
		return NULL;
	if (!name && (!dm_task_set_major(t, (int)major) || !dm_task_set_minor(t, (int)minor)))
		goto bad;
	if (!dm_task_run(t) || !dm_task_get_info(t, &info))
		goto bad;
	*exists = info.exists;
	if (info.exists)
		return t;
bad:
	dm_task_destroy(t);
	return NULL;
}

int dm_query(const char *name, bool table, char *out, size_t outlen, char *why, size_t len)
{
	bool exists;
	struct dm_task *t = info_task(name, 0, 0, table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS, &exists);
	void *next = NULL;
	size_t o = 0;

	out[0] = 0;
	if (!t)
		return exists ? dm_fail(why, len, table ? "table" : "status", name) :
			failf(why, len, "%s: no such device-mapper device", name);
	do {
		uint64_t start, length;
		char *type = NULL, *params = NULL;

		next = dm_get_next_target(t, next, &start, &length, &type, &params);
		if (type && o < outlen)
			o += (size_t)snprintf(out + o, outlen - o, "%s%llu %llu %s %s", o ? "\n" : "",
					      (unsigned long long)start, (unsigned long long)length,
					      type, params ? params : "");
	} while (next);
	dm_task_destroy(t);
	return 0;
}

int dm_uuid(const char *name, char *uuid, size_t len)
{
	bool exists;
	struct dm_task *t = info_task(name, 0, 0, DM_DEVICE_INFO, &exists);
	const char *u;

	if (!t)
		return -1;
	u = dm_task_get_uuid(t);
	snprintf(uuid, len, "%s", u ? u : "");
	dm_task_destroy(t);
	return 0;
}

int dm_open_count(const char *name)
{
	bool exists;
	struct dm_task *t = info_task(name, 0, 0, DM_DEVICE_INFO, &exists);
	struct dm_info info;
	int n = -1;

	if (t && exists && dm_task_get_info(t, &info) && info.exists)
		n = info.open_count;
	if (t)
		dm_task_destroy(t);
	return n;
}

int dm_deps(const char *name, unsigned int *majors, unsigned int *minors, unsigned int max,
	    unsigned int *n, char *why, size_t len)
{
	bool exists;
	struct dm_task *t = info_task(name, 0, 0, DM_DEVICE_DEPS, &exists);
	struct dm_deps *d;
	uint32_t i;

	*n = 0;
	if (!t)
		return failf(why, len, "%s: no such device-mapper device", name);
	d = dm_task_get_deps(t);
	for (i = 0; d && i < d->count && *n < max; i++) {
		majors[*n] = major(d->device[i]);
		minors[(*n)++] = minor(d->device[i]);
	}
	dm_task_destroy(t);
	return 0;
}

bool dm_name_of(unsigned int major, unsigned int minor, char *name, size_t len)
{
	bool exists;
	struct dm_task *t = info_task(NULL, major, minor, DM_DEVICE_INFO, &exists);
	const char *n;

	if (!t)
		return false;
	n = dm_task_get_name(t);
	snprintf(name, len, "%s", n ? n : "");
	dm_task_destroy(t);
	return n != NULL;
}

int dm_each(const char *prefix, int (*fn)(const char *name, const char *uuid, void *arg),
	    void *arg, char *why, size_t len)
{
	struct dm_task *t = task(DM_DEVICE_LIST, NULL);
	struct dm_names *names;
	unsigned int next = 0;
	int ret = 0;

	if (!t || !dm_task_run(t)) {
		if (t)
			dm_task_destroy(t);
		return dm_fail(why, len, "list", "devices");
	}
	names = dm_task_get_names(t);
	if (names && names->dev) {
		do {
			char uuid[OVBD_DM_UUID_MAX];

			names = (struct dm_names *)((char *)names + next);
			if (!dm_uuid(names->name, uuid, sizeof(uuid)) &&
			    !strncmp(uuid, prefix, strlen(prefix)) && (ret = fn(names->name, uuid, arg)))
				break;
			next = names->next;
		} while (next);
	}
	dm_task_destroy(t);
	return ret > 0 ? 0 : ret;
}
