// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: OCI runtime bundles on a mapped image (bundle.h).
 */
#define _GNU_SOURCE
#include "bundle.h"
#include "devices.h"
#include "dmstack.h"
#include "jsonfile.h"
#include "lazy.h"
#include "oci.h"
#include "pull.h"
#include "registry.h"
#include "runtime.h"
#include "util.h"
#include "vimage.h"
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLE_LOCK	OVBD_RUN_DIR "/bundle.lock"
#define BUNDLE_RECORD	BUNDLE_STATE "/bundle.json"
#define BUNDLE_PATH_MAX	(PATH_MAX + 64)

struct bundle {
	char dir[PATH_MAX];
	char stack[DMSTACK_NAME_MAX];
	bool tmpfs;
};

static void bundle_path(char *out, const struct bundle *b, const char *rel)
{
	snprintf(out, BUNDLE_PATH_MAX, "%s/%s", b->dir, rel);
}

/* The lock that makes and removals of bundles take: an fd, or -1 with why set. */
static int bundle_lock(char *why, size_t len)
{
	int fd;

	if (mkdir(OVBD_RUN_DIR, 0700) && errno != EEXIST)
		return failf(why, len, OVBD_RUN_DIR ": %s", strerror(errno));
	fd = open(BUNDLE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return failf(why, len, BUNDLE_LOCK ": %s", strerror(errno));
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return failf(why, len, BUNDLE_LOCK ": %s", strerror(errno));
	}
	return fd;
}

static int bundle_write_record(const struct bundle *b, const char *ref, const char *manifest,
			       char *why, size_t len)
{
	struct json_object *o = json_object_new_object();
	char path[BUNDLE_PATH_MAX];
	int r;

	json_object_object_add(o, "stack", json_object_new_string(b->stack));
	json_object_object_add(o, "image", json_object_new_string(ref ? ref : ""));
	json_object_object_add(o, "manifest", json_object_new_string(manifest));
	json_object_object_add(o, "tmpfs", json_object_new_boolean(b->tmpfs));
	bundle_path(path, b, BUNDLE_RECORD);
	r = json_write_file(path, o, why, len);
	json_object_put(o);
	return r;
}

/* Read DIR's record: 0, 1 when DIR has none, -1 when it is malformed. */
static int bundle_read_record(const char *dir, struct bundle *b, char *why, size_t len)
{
	char path[BUNDLE_PATH_MAX];
	struct json_object *o, *t;
	const char *s;

	memset(b, 0, sizeof(*b));
	if (!realpath(dir, b->dir))
		return errno == ENOENT ? 1 : failf(why, len, "%s: %s", dir, strerror(errno));
	bundle_path(path, b, BUNDLE_RECORD);
	if (access(path, F_OK))
		return 1;
	o = json_file_object(path, 65536, why, len);
	if (!o)
		return -1;
	s = oci_jstr(o, "stack");
	if (!s || strncmp(s, BUNDLE_STACK_PREFIX, strlen(BUNDLE_STACK_PREFIX)) ||
	    dmstack_check_name(s, why, len)) {
		json_object_put(o);
		return failf(why, len, "%s: no bundle stack name in it", path);
	}
	snprintf(b->stack, sizeof(b->stack), "%s", s);
	b->tmpfs = json_object_object_get_ex(o, "tmpfs", &t) && json_object_get_boolean(t);
	json_object_put(o);
	return 0;
}

/* Unmount path if something is mounted there: 0, or -1 (busy: a container still runs). */
static int bundle_umount(const char *path, char *why, size_t len)
{
	if (!umount2(path, UMOUNT_NOFOLLOW) || errno == EINVAL || errno == ENOENT)
		return 0;
	if (errno == EBUSY)
		return failf(why, len, "%s is busy: is a container still running on the bundle? (runc delete / crun delete it first)",
			     path);
	return failf(why, len, "umount %s: %s", path, strerror(errno));
}

static int bundle_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT ? -1 : 0;
}

/* Remove path and what is under it, never crossing into a mount. */
static int bundle_rm_tree(const char *path)
{
	if (access(path, F_OK))
		return 0;
	return nftw(path, bundle_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/*
 * Undo b (under the lock): its mounts, top first, then the stack if no
 * other bundle mounts it, then its files.
 */
static int bundle_undo(const struct bundle *b, char *why, size_t len)
{
	static const char *const mounts[] = { "rootfs", BUNDLE_STATE "/rw", BUNDLE_STATE "/lower" };
	static const char *const files[] = { "config.json", "rootfs", "upper", "work", BUNDLE_STATE "/rw",
					     BUNDLE_STATE "/lower" };
	char path[BUNDLE_PATH_MAX];

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		bundle_path(path, b, mounts[i]);
		if (bundle_umount(path, why, len))
			return -1;
	}
	/* the kernel is the record: every bundle of the image mounts its stack */
	if (dm_open_count(b->stack) <= 0) {	/* unused, or gone (-1) */
		/* also what a bundle that died while opening it left: its parts */
		if (lazy_close(b->stack, why, len) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		bundle_path(path, b, files[i]);
		if (bundle_rm_tree(path))
			return failf(why, len, "remove %s: %s", path, strerror(errno));
	}
	bundle_path(path, b, BUNDLE_RECORD);
	unlink(path);
	bundle_path(path, b, BUNDLE_STATE);
	rmdir(path);
	return 0;
}

int bundle_remove(const char *dir, char *why, size_t len)
{
	struct bundle b;
	int r, lock;

	lock = bundle_lock(why, len);
	if (lock < 0)
		return -1;
	r = bundle_read_record(dir, &b, why, len);
	if (!r)
		r = bundle_undo(&b, why, len);
	close(lock);
	return r;
}

/* Mount the image's device read-only at lower, as its file system wants. */
static int bundle_mount_lower(const char *dev, const char *lower, char *why, size_t len)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	const char *type = NULL, *opts;
	char fstype[64] = "";
	int r;

	if (!pr)
		return failf(why, len, "%s: cannot probe it: %s", dev, strerror(errno));
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	r = blkid_do_safeprobe(pr);
	if (!r && !blkid_probe_lookup_value(pr, "TYPE", &type, NULL))
		snprintf(fstype, sizeof(fstype), "%s", type);
	blkid_free_probe(pr);
	if (r == 1 || !*fstype)
		return failf(why, len, "%s: no file system that blkid knows on the image", dev);
	if (r < 0)
		return failf(why, len, "%s: blkid finds more than one file system signature on the image", dev);
	if (!strcmp(fstype, "ext4") || !strcmp(fstype, "ext3") || !strcmp(fstype, "ext2"))
		opts = "noload";	/* a read-only lower: no journal replay */
	else if (!strcmp(fstype, "erofs"))
		opts = NULL;
	else
		return failf(why, len, "%s: the image's file system is %s: ovbd bundle mounts ext4 and erofs",
			     dev, fstype);
	if (ovbd_step("mount", lower, why, len))
		return -1;
	r = mount(dev, lower, fstype, MS_RDONLY | MS_NODEV, opts);
	ovbd_step_done();
	if (r)
		return failf(why, len, "mount %s (%s, read-only) on %s: %s", dev, fstype, lower,
			     strerror(errno));
	return 0;
}

/* DIR absent or empty, made: 0, or -1. */
static int bundle_new_dir(const char *dir, struct bundle *b, char *why, size_t len)
{
	struct dirent *de;
	DIR *d;

	memset(b, 0, sizeof(*b));
	if (mkdir(dir, 0755) && errno != EEXIST)
		return failf(why, len, "%s: %s", dir, strerror(errno));
	if (!realpath(dir, b->dir))
		return failf(why, len, "%s: %s", dir, strerror(errno));
	d = opendir(b->dir);
	if (!d)
		return failf(why, len, "%s: %s", b->dir, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			return failf(why, len, "%s is not empty%s", b->dir,
				     !strcmp(de->d_name, BUNDLE_STATE) ? " (a bundle already: ovbd bundle --remove it)" : "");
		}
	closedir(d);
	return 0;
}

static int bundle_mkdirs(const struct bundle *b, const char *const *rel, size_t n, char *why, size_t len)
{
	char path[BUNDLE_PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		bundle_path(path, b, rel[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			return failf(why, len, "%s: %s", path, strerror(errno));
	}
	return 0;
}

/* With the stack mapped: the lower, the upper, the overlay and config.json. */
static int bundle_finish(const struct bundle *b, struct json_object *ic, const struct bundle_opts *o,
			 char *why, size_t len)
{
	char dev[DMSTACK_NAME_MAX + 16], lower[BUNDLE_PATH_MAX], up[BUNDLE_PATH_MAX];
	char work[BUNDLE_PATH_MAX], root[BUNDLE_PATH_MAX], cfg[BUNDLE_PATH_MAX];
	char opts[3 * BUNDLE_PATH_MAX + 64];
	struct runtime_opts ro = { .rootfs = root, .rootless = o->rootless };
	struct json_object *spec;
	static const char *const dirs[] = { BUNDLE_STATE "/lower", "rootfs" };
	int r;

	snprintf(dev, sizeof(dev), "/dev/mapper/%s", b->stack);
	bundle_path(lower, b, BUNDLE_STATE "/lower");
	bundle_path(root, b, "rootfs");
	bundle_path(cfg, b, "config.json");
	if (bundle_mkdirs(b, dirs, 2, why, len) || bundle_mount_lower(dev, lower, why, len))
		return -1;
	if (o->tmpfs) {
		char rw[BUNDLE_PATH_MAX];
		static const char *const rwdirs[] = { BUNDLE_STATE "/rw", BUNDLE_STATE "/rw/upper",
						      BUNDLE_STATE "/rw/work" };

		bundle_path(rw, b, BUNDLE_STATE "/rw");
		if (bundle_mkdirs(b, rwdirs, 1, why, len))
			return -1;
		if (ovbd_step("mount", rw, why, len))
			return -1;
		r = mount("tmpfs", rw, "tmpfs", MS_NODEV, "mode=0755");
		ovbd_step_done();
		if (r)
			return failf(why, len, "mount tmpfs on %s: %s", rw, strerror(errno));
		if (bundle_mkdirs(b, rwdirs + 1, 2, why, len))
			return -1;
		bundle_path(up, b, BUNDLE_STATE "/rw/upper");
		bundle_path(work, b, BUNDLE_STATE "/rw/work");
	} else {
		static const char *const rwdirs[] = { "upper", "work" };

		if (bundle_mkdirs(b, rwdirs, 2, why, len))
			return -1;
		bundle_path(up, b, "upper");
		bundle_path(work, b, "work");
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, up, work);
	if (strpbrk(b->dir, ",:\\"))
		return failf(why, len, "%s: a bundle directory with ',', ':' or '\\' cannot be an overlayfs option",
			     b->dir);
	if (ovbd_step("mount", root, why, len))
		return -1;
	r = mount("overlay", root, "overlay", 0, opts);
	ovbd_step_done();
	if (r)
		return failf(why, len, "mount overlay on %s: %s", root, strerror(errno));
	/* the user is looked up in the image as the container sees it */
	if (runtime_config(ic, &ro, &spec, why, len))
		return -1;
	r = json_write_file(cfg, spec, why, len);
	json_object_put(spec);
	return r;
}

static void bundle_stack_name(struct bundle *b, const char *manifest)
{
	snprintf(b->stack, sizeof(b->stack), BUNDLE_STACK_PREFIX "%.16s", manifest + 7);
}

/*
 * Whether the image's stack is there already (another bundle's): 1; 0 when
 * it is not (what a bundle that died while opening it left is removed); -1
 * when the name holds something else.
 */
static int bundle_shared(const struct bundle *b, const char *manifest, char *why, size_t len)
{
	char uuid[160], ref[300], m[100];

	if (dmstack_exists(b->stack, uuid, sizeof(uuid))) {
		if (dmstack_image(b->stack, ref, sizeof(ref), m, sizeof(m)) && strcmp(m, manifest))
			return failf(why, len, "/dev/mapper/%s maps the image %s, not %s", b->stack, m, manifest);
		return 1;
	}
	return lazy_close(b->stack, why, len) < 0 ? -1 : 0;
}

/* Fail: undo what was made, keeping the first reason. */
static int bundle_fail(const struct bundle *b, char *why, size_t len)
{
	char err[600];

	if (bundle_undo(b, err, sizeof(err)))
		snprintf(why + strlen(why), len - strlen(why), " (and undoing it: %s)", err);
	return -1;
}

/* How a bundle's stack is opened when no bundle has it yet: into the name stack. */
typedef int (*bundle_opener)(const char *stack, void *arg, char *why, size_t len);

/* Make the bundle dir of the image mdigest, whose config is ic. */
static int bundle_make(const char *dir, const char *mdigest, const char *ref, struct json_object *ic,
		       const struct bundle_opts *o, bundle_opener open_stack, void *arg, char *why,
		       size_t len)
{
	struct bundle b;
	int lock, r = -1, sh;

	lock = bundle_lock(why, len);
	if (lock < 0)
		return -1;
	if (bundle_new_dir(dir, &b, why, len))
		goto out;
	b.tmpfs = o->tmpfs;
	bundle_stack_name(&b, mdigest);
	if (bundle_mkdirs(&b, (const char *const[]){ BUNDLE_STATE }, 1, why, len) ||
	    bundle_write_record(&b, ref, mdigest, why, len))
		goto fail;
	sh = bundle_shared(&b, mdigest, why, len);
	if (sh < 0 || (!sh && open_stack(b.stack, arg, why, len) < 0))
		goto fail;
	r = bundle_finish(&b, ic, o, why, len);
	if (!r)
		goto out;
fail:
	r = bundle_fail(&b, why, len);
out:
	close(lock);
	return r;
}

struct bundle_local {
	const struct oci_image *img;
	unsigned int n;
	char **paths;
	const struct bundle_opts *o;
};

static int bundle_open_local(const char *stack, void *arg, char *why, size_t len)
{
	const struct bundle_local *l = arg;
	struct dmstack_opts so = { .direct_io = l->o->direct_io };
	static struct dmstack s;
	int r;

	r = vimage_open_stack(&s, stack, l->img, l->n, l->paths, l->o->ref ? l->o->ref : l->img->dir,
			      l->o->require_verity, &so, why, len);
	dmstack_free(&s);
	return r;
}

int bundle_create(const char *dir, const struct oci_image *img, unsigned int n, char **paths,
		  const struct bundle_opts *o, char *why, size_t len)
{
	struct bundle_local l = { img, n, paths, o };
	struct json_object *ic;
	int r;

	if (!img->n)
		return failu(why, len, "bundle: an image (oci:DIR[:TAG] or a registry reference), not layer files: it needs the image's config");
	ic = runtime_image_config(img->dir, img->manifest_digest, why, len);
	if (!ic)
		return -1;
	r = bundle_make(dir, img->manifest_digest, o->ref, ic, o, bundle_open_local, &l, why, len);
	json_object_put(ic);
	return r;
}

struct bundle_remote {
	const char *ref, *mdigest;
	const struct lazy_opts *lo;
};

static int bundle_open_lazy(const char *stack, void *arg, char *why, size_t len)
{
	const struct bundle_remote *rm = arg;
	char got[OCI_DIGEST_LEN + 1], r2[300];

	if (lazy_open(stack, rm->ref, rm->lo, why, len) < 0)
		return -1;
	/* the tag may have moved between the two reads of the manifest */
	if (dmstack_image(stack, r2, sizeof(r2), got, sizeof(got)) && strcmp(got, rm->mdigest))
		return failf(why, len, "%s: the manifest changed while the bundle was made (%s, then %s)",
			     rm->ref, rm->mdigest, got);
	return 0;
}

int bundle_create_lazy(const char *dir, const char *ref, const struct bundle_opts *o,
		       const struct lazy_opts *lo, char *why, size_t len)
{
	char mdigest[OCI_DIGEST_LEN + 1];
	struct bundle_remote rm = { ref, mdigest, lo };
	struct json_object *ic;
	int r;

	ic = runtime_registry_config(ref, lo->plain_http, mdigest, why, len);
	if (!ic)
		return -1;
	r = bundle_make(dir, mdigest, ref, ic, o, bundle_open_lazy, &rm, why, len);
	json_object_put(ic);
	return r;
}
