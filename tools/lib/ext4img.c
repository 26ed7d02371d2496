// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: apply OCI layer tars to an ext4 image with libext2fs, rootless.
 *
 * The image is opened through an io_manager that passes every call to
 * libext2fs's unix_io_manager and records the 4 KiB blocks written, so a
 * converted layer holds the blocks its tar changed and nothing else.
 * Paths are resolved inside the image only: parents through symlinks with
 * the image's root as "/" (as umoci's securejoin does), never on the host.
 */
#define _GNU_SOURCE
#include "ext4img.h"
#include "stack.h"
#include "run.h"
#include "util.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRACK_SHIFT	12		/* 4 KiB */
#define MAX_PATH	4095		/* bytes, as PATH_MAX less its NUL */
#define MAX_DEPTH	8192		/* directory levels a removal walks */

extern char **environ;

/* ---- the tracking io_manager: unix_io_manager, plus a bitmap of written blocks */

static struct {
	uint8_t *bits;
	uint64_t nblocks;
} track;
static struct struct_io_manager track_mgr;

static void track_mark(uint64_t off, uint64_t n)
{
	uint64_t b = off >> TRACK_SHIFT, e = (off + n + (1u << TRACK_SHIFT) - 1) >> TRACK_SHIFT;

	for (; b < e && b < track.nblocks; b++)
		track.bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static uint64_t blk_bytes(io_channel ch, int count)
{
	return count < 0 ? (uint64_t)-(int64_t)count : (uint64_t)count * (uint64_t)ch->block_size;
}

static errcode_t track_open(const char *name, int flags, io_channel *ch)
{
	errcode_t e = unix_io_manager->open(name, flags, ch);

	if (!e)
		(*ch)->manager = &track_mgr;
	return e;
}

static errcode_t track_write_blk(io_channel ch, unsigned long blk, int count, const void *data)
{
	track_mark((uint64_t)blk * (uint64_t)ch->block_size, blk_bytes(ch, count));
	return unix_io_manager->write_blk(ch, blk, count, data);
}

static errcode_t track_write_blk64(io_channel ch, unsigned long long blk, int count,
				   const void *data)
{
	track_mark(blk * (uint64_t)ch->block_size, blk_bytes(ch, count));
	return unix_io_manager->write_blk64(ch, blk, count, data);
}

static errcode_t track_write_byte(io_channel ch, unsigned long off, int count, const void *data)
{
	track_mark(off, (uint64_t)count);
	return unix_io_manager->write_byte(ch, off, count, data);
}

static errcode_t track_discard(io_channel ch, unsigned long long blk, unsigned long long count)
{
	track_mark(blk * (uint64_t)ch->block_size, count * (uint64_t)ch->block_size);
	return unix_io_manager->discard(ch, blk, count);
}

static errcode_t track_zeroout(io_channel ch, unsigned long long blk, unsigned long long count)
{
	track_mark(blk * (uint64_t)ch->block_size, count * (uint64_t)ch->block_size);
	return unix_io_manager->zeroout(ch, blk, count);
}

/* ---- the image */

struct ext4img {
	ext2_filsys fs;
	void *made;		/* tsearch set of "dir-ino/name" made by this layer */
	char entry[320];	/* the tar entry being applied, for messages */
	char *why;
	size_t len;
};

static int ext_fail(struct ext4img *m, errcode_t e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ext_fail(struct ext4img *m, errcode_t e, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e == EXT2_ET_BLOCK_ALLOC_FAIL || e == EXT2_ET_INODE_ALLOC_FAIL || e == ENOSPC)
		return failf(m->why, m->len, "entry '%.300s': %s: the file system is full (%llu MiB, %u inodes; a larger --size makes room)",
			     m->entry, what,
			     (unsigned long long)(ext2fs_blocks_count(m->fs->super) >> (20 - TRACK_SHIFT)),
			     m->fs->super->s_inodes_count);
	return failf(m->why, m->len, "entry '%.300s': %s%s%s", m->entry, what, e ? ": " : "",
		     e ? error_message(e) : "");
}

int ext4img_mkfs(const char *path, uint64_t size, time_t now, char *why, size_t len)
{
	char kib[32], fake[32], ext[256], msg[300] = "";
	char *env[] = { "MKE2FS_CONFIG=/dev/null", fake, "PATH=/usr/sbin:/sbin:/usr/bin:/bin", NULL };
	char *argv[] = { "mke2fs", "-q", "-F", "-b", "4096", "-I", "256", "-i", "16384", "-m", "0",
			 "-O", EXT4IMG_FEATURES, "-U", EXT4IMG_UUID, "-E", ext, "-L", "", (char *)path,
			 kib, NULL };
	int fd, st;

	if (size < EXT4IMG_MIN_SIZE || size > EXT4IMG_MAX_SIZE)
		return failf(why, len, "file system size %llu: expected 64 MiB to 4 TiB",
			     (unsigned long long)size);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return failf(why, len, "%s: %s", path, strerror(e));
	}
	close(fd);
	snprintf(kib, sizeof(kib), "%lluk", (unsigned long long)(size >> 10));
	snprintf(fake, sizeof(fake), "E2FSPROGS_FAKE_TIME=%lld", (long long)(now ? now : 1));
	snprintf(ext, sizeof(ext), "hash_seed=%s,lazy_itable_init=1,lazy_journal_init=1,"
		 "root_owner=0:0,nodiscard", EXT4IMG_HASH_SEED);
	/* its messages (warnings about usage types it has no profile for) only on failure */
	st = run_cmd_env(argv, env, msg, sizeof(msg));
	if (st) {
		char *nl;

		while ((nl = strchr(msg, '\n')))
			*nl = ' ';
		if (st == 127)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (install e2fsprogs)");
	}
	return st ? failf(why, len, "mke2fs %s: %s", path, msg[0] ? msg : "failed") : 0;
}

int ext4img_open(struct ext4img **out, const char *path, time_t now, char *why, size_t len)
{
	struct ext4img *m = calloc(1, sizeof(*m));
	errcode_t e;

	*out = NULL;
	if (!m || track.bits)
		return free(m), failf(why, len, "%s: %s", path, m ? "an image is already open" : "out of memory");
	if (!track_mgr.open) {
		track_mgr = *unix_io_manager;
		track_mgr.name = "ovbd tracking I/O manager";
		track_mgr.open = track_open;
		track_mgr.write_blk = track_write_blk;
		track_mgr.write_blk64 = track_write_blk64;
		track_mgr.write_byte = track_write_byte;
		track_mgr.discard = track_discard;
		track_mgr.zeroout = track_zeroout;
	}
	/* the primary superblock only, as the kernel writes it outside resize */
	e = ext2fs_open2(path, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS | EXT2_FLAG_MASTER_SB_ONLY, 0, 0,
			 &track_mgr, &m->fs);
	if (e) {
		free(m);
		return failf(why, len, "%s: %s", path, error_message(e));
	}
	m->fs->now = now ? now : 1;
	m->fs->umask = 0;
	track.nblocks = ext2fs_blocks_count(m->fs->super) * (uint64_t)m->fs->blocksize >> TRACK_SHIFT;
	track.bits = calloc((size_t)(track.nblocks + 7) / 8, 1);
	e = track.bits ? ext2fs_read_bitmaps(m->fs) : EXT2_ET_NO_MEMORY;
	if (e) {
		ext2fs_close_free(&m->fs);
		free(track.bits);
		track.bits = NULL;
		free(m);
		return failf(why, len, "%s: %s", path, error_message(e));
	}
	*out = m;
	return 0;
}

int ext4img_close(struct ext4img *m, struct byte_range **r, size_t *nr, char *why, size_t len)
{
	errcode_t e = ext2fs_close_free(&m->fs);
	struct byte_range *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t b;
	int ret = 0;

	if (e)
		ret = failf(why, len, "writing the file system: %s", error_message(e));
	for (b = 0; !ret && b < track.nblocks; b++) {
		if (!(track.bits[b >> 3] & (1u << (b & 7))))
			continue;
		if (n && v[n - 1].off + v[n - 1].len == b << TRACK_SHIFT) {
			v[n - 1].len += 1u << TRACK_SHIFT;
			continue;
		}
		if (n == cap) {
			struct byte_range *nv = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof(*v));

			if (!nv) {
				ret = failf(why, len, "out of memory for the changed blocks");
				break;
			}
			v = nv;
		}
		v[n].off = b << TRACK_SHIFT;
		v[n++].len = 1u << TRACK_SHIFT;
	}
	free(track.bits);
	track.bits = NULL;
	free(m);
	if (ret) {
		free(v);
		v = NULL;
		n = 0;
	}
	*r = v;
	*nr = n;
	return ret;
}

int file_data_ranges(int fd, uint64_t size, struct byte_range **r, size_t *nr, char *why,
		     size_t len)
{
	struct byte_range *v = NULL;
	size_t n = 0, cap = 0;
	off_t pos = 0, end;

	while ((uint64_t)pos < size) {
		pos = lseek(fd, pos, SEEK_DATA);
		if (pos < 0 && errno == ENXIO)
			break;
		end = pos < 0 ? -1 : lseek(fd, pos, SEEK_HOLE);
		if (pos < 0 || end < 0) {
			free(v);
			return failf(why, len, "finding the data of the image: %s", strerror(errno));
		}
		if (n == cap) {
			struct byte_range *nv = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				return failf(why, len, "out of memory for the image's extents");
			}
			v = nv;
		}
		v[n].off = (uint64_t)pos & ~(uint64_t)((1u << TRACK_SHIFT) - 1);
		v[n].len = (((uint64_t)end + (1u << TRACK_SHIFT) - 1) & ~(uint64_t)((1u << TRACK_SHIFT) - 1)) - v[n].off;
		if (n && v[n - 1].off + v[n - 1].len >= v[n].off) {	/* rounding joined them */
			v[n - 1].len = v[n].off + v[n].len - v[n - 1].off;
		} else {
			n++;
		}
		pos = end;
	}
	*r = v;
	*nr = n;
	return 0;
}

/* ---- paths */

/*
 * "./a//b/" -> "a/b" in out (the root is ""). Refuses what could name a
 * path outside the image: an absolute path or any '..' component.
 */
static int clean_path(struct ext4img *m, const char *in, char *out, const char *what)
{
	const char *p = in;
	size_t o = 0;

	if (!in)
		return ext_fail(m, 0, "%s: no path", what);
	if (*in == '/')
		return ext_fail(m, 0, "%s: an absolute path; a layer's paths are relative to its root", what);
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return ext_fail(m, 0, "%s: a '..' component could leave the image's root; refused", what);
		if (n > EXT2_NAME_LEN)
			return ext_fail(m, 0, "%s: a component of %zu bytes; ext4 allows 1..255", what, n);
		if (n && !(n == 1 && p[0] == '.')) {
			if (o + n + 1 > MAX_PATH)
				return ext_fail(m, 0, "%s: longer than %d bytes", what, MAX_PATH);
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = *e ? e + 1 : e;
	}
	out[o] = 0;
	return 0;
}

static int read_inode(struct ext4img *m, ext2_ino_t ino, struct ext2_inode_large *in)
{
	errcode_t e;

	memset(in, 0, sizeof(*in));
	e = ext2fs_read_inode_full(m->fs, ino, (struct ext2_inode *)in, sizeof(*in));
	return e ? ext_fail(m, e, "reading inode %u", ino) : 0;
}

static int write_inode(struct ext4img *m, ext2_ino_t ino, struct ext2_inode_large *in)
{
	errcode_t e = ext2fs_write_inode_full(m->fs, ino, (struct ext2_inode *)in, sizeof(*in));

	return e ? ext_fail(m, e, "writing inode %u", ino) : 0;
}

/* The directory a cleaned path names, following symlinks inside the image. */
static int walk_dir(struct ext4img *m, const char *path, bool create, ext2_ino_t *dir);

static int lookup(struct ext4img *m, ext2_ino_t dir, const char *name, ext2_ino_t *ino)
{
	errcode_t e = ext2fs_lookup(m->fs, dir, name, (int)strlen(name), NULL, ino);

	if (e == EXT2_ET_FILE_NOT_FOUND)
		return 1;
	return e ? ext_fail(m, e, "looking up '%s'", name) : 0;
}

static int add_link(struct ext4img *m, ext2_ino_t dir, const char *name, ext2_ino_t ino, int type)
{
	errcode_t e = ext2fs_link(m->fs, dir, name, ino, type);

	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(m->fs, dir);
		if (!e)
			e = ext2fs_link(m->fs, dir, name, ino, type);
	}
	return e ? ext_fail(m, e, "adding '%s' to its directory", name) : 0;
}

static void remember(struct ext4img *m, ext2_ino_t dir, const char *name)
{
	char *key;

	if (asprintf(&key, "%u/%s", dir, name) < 0)
		return;
	if (*(char **)tsearch(key, &m->made, (int (*)(const void *, const void *))strcmp) != key)
		free(key);
}

static bool made_here(struct ext4img *m, ext2_ino_t dir, const char *name)
{
	char key[EXT2_NAME_LEN + 16];

	snprintf(key, sizeof(key), "%u/%s", dir, name);
	return tfind(key, &m->made, (int (*)(const void *, const void *))strcmp) != NULL;
}

static int make_dir(struct ext4img *m, ext2_ino_t parent, const char *name, ext2_ino_t *ino)
{
	errcode_t e = ext2fs_mkdir(m->fs, parent, 0, name);

	if (e == EXT2_ET_DIR_NO_SPACE) {
		e = ext2fs_expand_dir(m->fs, parent);
		if (!e)
			e = ext2fs_mkdir(m->fs, parent, 0, name);
	}
	if (e)
		return ext_fail(m, e, "making directory '%s'", name);
	remember(m, parent, name);
	return lookup(m, parent, name, ino) ? ext_fail(m, 0, "directory '%s' vanished", name) : 0;
}

static int walk_dir(struct ext4img *m, const char *path, bool create, ext2_ino_t *dir)
{
	char comp[EXT2_NAME_LEN + 1];
	ext2_ino_t cur = EXT2_ROOT_INO, next;
	struct ext2_inode_large in;
	const char *p = path;
	errcode_t e;
	int r;

	while (*p) {
		const char *end = strchrnul(p, '/');

		memcpy(comp, p, (size_t)(end - p));
		comp[end - p] = 0;
		p = *end ? end + 1 : end;
		r = lookup(m, cur, comp, &next);
		if (r < 0)
			return r;
		if (r) {
			if (!create)
				return 1;
			if (make_dir(m, cur, comp, &next))
				return -1;
		}
		if (read_inode(m, next, &in))
			return -1;
		if (LINUX_S_ISLNK(in.i_mode)) {
			e = ext2fs_follow_link(m->fs, EXT2_ROOT_INO, cur, next, &next);
			if (e == EXT2_ET_FILE_NOT_FOUND && !create)
				return 1;
			if (e)
				return ext_fail(m, e, "following symlink '%s'", comp);
			if (read_inode(m, next, &in))
				return -1;
		}
		if (!LINUX_S_ISDIR(in.i_mode))
			return ext_fail(m, 0, "'%s' on the path is not a directory", comp);
		cur = next;
	}
	*dir = cur;
	return 0;
}

/* Split a cleaned, non-root path into its parent directory (resolved) and last name. */
static int split(struct ext4img *m, char *path, bool create, ext2_ino_t *dir, const char **name)
{
	char *slash = strrchr(path, '/');
	int r;

	if (!slash) {
		*dir = EXT2_ROOT_INO;
		*name = path;
		return 0;
	}
	*slash = 0;
	r = walk_dir(m, path, create, dir);
	*slash = '/';
	*name = slash + 1;
	return r;
}

/* ---- removal */

struct names {
	char **v;
	size_t n, cap;
};

static int collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int off, int bs,
		   char *buf, void *priv)
{
	struct names *ns = priv;
	int n = ext2fs_dirent_name_len(d);

	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !d->inode)
		return 0;
	if (ns->n == ns->cap) {
		char **v = realloc(ns->v, (ns->cap = ns->cap ? 2 * ns->cap : 64) * sizeof(*v));

		if (!v)
			return DIRENT_ABORT;
		ns->v = v;
	}
	ns->v[ns->n] = strndup(d->name, (size_t)n);
	if (!ns->v[ns->n])
		return DIRENT_ABORT;
	ns->n++;
	return 0;
}

static void names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int children(struct ext4img *m, ext2_ino_t dir, struct names *ns)
{
	errcode_t e;

	memset(ns, 0, sizeof(*ns));
	e = ext2fs_dir_iterate2(m->fs, dir, 0, NULL, collect, ns);
	if (e) {
		names_free(ns);
		return ext_fail(m, e, "listing directory inode %u", dir);
	}
	return 0;
}

/* Drop one link to ino; free it (blocks, xattr block, inode) with its last. */
static int drop_inode(struct ext4img *m, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	bool dir;
	errcode_t e;

	if (read_inode(m, ino, &in))
		return -1;
	dir = LINUX_S_ISDIR(in.i_mode);
	if (!dir && in.i_links_count > 1) {
		in.i_links_count--;
		return write_inode(m, ino, &in);
	}
	e = ext2fs_free_ext_attr(m->fs, ino, &in);
	if (!e && ext2fs_inode_has_valid_blocks2(m->fs, (struct ext2_inode *)&in))
		e = ext2fs_punch(m->fs, ino, (struct ext2_inode *)&in, NULL, 0, ~0ULL);
	if (e)
		return ext_fail(m, e, "freeing inode %u", ino);
	in.i_links_count = 0;
	in.i_dtime = (__u32)m->fs->now;
	if (write_inode(m, ino, &in))
		return -1;
	ext2fs_inode_alloc_stats2(m->fs, ino, -1, dir);
	return 0;
}

static int remove_entry(struct ext4img *m, ext2_ino_t parent, const char *name, ext2_ino_t ino,
			int depth)
{
	struct ext2_inode_large in;
	struct names ns;
	errcode_t e;
	size_t i;
	int r = 0;

	if (depth > MAX_DEPTH)
		return ext_fail(m, 0, "removing '%s': a tree deeper than %d directories", name, MAX_DEPTH);
	if (read_inode(m, ino, &in))
		return -1;
	if (LINUX_S_ISDIR(in.i_mode)) {
		if (children(m, ino, &ns))
			return -1;
		for (i = 0; !r && i < ns.n; i++) {
			ext2_ino_t c;

			r = lookup(m, ino, ns.v[i], &c);
			if (!r)
				r = remove_entry(m, ino, ns.v[i], c, depth + 1);
			else if (r > 0)
				r = 0;
		}
		names_free(&ns);
		if (r)
			return r;
		if (read_inode(m, parent, &in))
			return -1;
		if (in.i_links_count > 2) {	/* the child's ".." */
			in.i_links_count--;
			if (write_inode(m, parent, &in))
				return -1;
		}
	}
	e = ext2fs_unlink(m->fs, parent, name, 0, 0);
	if (e)
		return ext_fail(m, e, "removing '%s'", name);
	return drop_inode(m, ino);
}

/* ---- metadata */

static int collect_xattr(char *name, char *value, size_t size, void *priv)
{
	struct names *ns = priv;

	if (ns->n == ns->cap) {
		char **v = realloc(ns->v, (ns->cap = ns->cap ? 2 * ns->cap : 8) * sizeof(*v));

		if (!v)
			return XATTR_ABORT;
		ns->v = v;
	}
	ns->v[ns->n] = strdup(name);
	return ns->v[ns->n] ? (ns->n++, 0) : XATTR_ABORT;
}

static int set_xattrs(struct ext4img *m, ext2_ino_t ino, struct archive_entry *ae, bool clear)
{
	struct ext2_xattr_handle *h;
	const char *name;
	const void *value;
	size_t size;
	errcode_t e;
	int ret = 0;

	if (!clear && !archive_entry_xattr_count(ae))
		return 0;
	e = ext2fs_xattrs_open(m->fs, ino, &h);
	if (!e)
		e = ext2fs_xattrs_read(h);
	if (e)
		return ext_fail(m, e, "reading xattrs");
	if (clear) {
		struct names ns = { 0 };
		size_t i;

		/* no iterator that allows removal: list the names, then remove them */
		e = ext2fs_xattrs_iterate(h, collect_xattr, &ns);
		for (i = 0; !e && i < ns.n; i++)
			e = ext2fs_xattr_remove(h, ns.v[i]);
		names_free(&ns);
		if (e)
			ret = ext_fail(m, e, "replacing xattrs");
	}
	archive_entry_xattr_reset(ae);
	while (!ret && archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
		e = ext2fs_xattr_set(h, name, value, size);
		if (e)
			ret = ext_fail(m, e, "xattr '%.100s' (%zu bytes)", name, size);
	}
	ext2fs_xattrs_close(&h);
	return ret;
}

static void set_times(struct ext2_inode_large *in, struct archive_entry *ae)
{
	int64_t mt = archive_entry_mtime(ae);
	__u32 t = mt < 0 ? 0 : mt > UINT32_MAX ? UINT32_MAX : (__u32)mt;

	in->i_mtime = t;
	in->i_atime = archive_entry_atime_is_set(ae) && archive_entry_atime(ae) >= 0 &&
		      archive_entry_atime(ae) <= UINT32_MAX ? (__u32)archive_entry_atime(ae) : t;
	in->i_ctime = t;
}

static int set_meta(struct ext4img *m, ext2_ino_t ino, struct archive_entry *ae, bool clear_xattrs)
{
	struct ext2_inode_large in;
	uint32_t uid = (uint32_t)archive_entry_uid(ae), gid = (uint32_t)archive_entry_gid(ae);

	if (read_inode(m, ino, &in))
		return -1;
	/* a symlink's mode is 0777 on Linux whatever the tar says (no lchmod) */
	in.i_mode = (__u16)((in.i_mode & LINUX_S_IFMT) |
			    (LINUX_S_ISLNK(in.i_mode) ? 0777 : archive_entry_perm(ae) & 07777));
	in.i_uid = (__u16)uid;
	ext2fs_set_i_uid_high(in, uid >> 16);
	in.i_gid = (__u16)gid;
	ext2fs_set_i_gid_high(in, gid >> 16);
	set_times(&in, ae);
	if (write_inode(m, ino, &in))
		return -1;
	return set_xattrs(m, ino, ae, clear_xattrs);
}

/* ---- entries */

static int file_type(unsigned int mode)
{
	switch (mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG: return EXT2_FT_REG_FILE;
	case LINUX_S_IFDIR: return EXT2_FT_DIR;
	case LINUX_S_IFLNK: return EXT2_FT_SYMLINK;
	case LINUX_S_IFCHR: return EXT2_FT_CHRDEV;
	case LINUX_S_IFBLK: return EXT2_FT_BLKDEV;
	case LINUX_S_IFIFO: return EXT2_FT_FIFO;
	case LINUX_S_IFSOCK: return EXT2_FT_SOCK;
	}
	return EXT2_FT_UNKNOWN;
}

/* A new inode of this type, linked as name in dir. */
static int new_inode(struct ext4img *m, ext2_ino_t dir, const char *name, unsigned int type,
		     struct archive_entry *ae, ext2_ino_t *ino)
{
	struct ext2_inode_large in;
	errcode_t e = ext2fs_new_inode(m->fs, dir, (int)type, NULL, ino);

	if (e)
		return ext_fail(m, e, "allocating an inode");
	memset(&in, 0, sizeof(in));
	in.i_mode = (__u16)type;
	in.i_links_count = 1;
	set_times(&in, ae);
	if (type == LINUX_S_IFREG && ext2fs_has_feature_extents(m->fs->super)) {
		ext2_extent_handle_t h;

		e = ext2fs_extent_open2(m->fs, *ino, (struct ext2_inode *)&in, &h);
		if (e)
			return ext_fail(m, e, "starting the extent tree");
		ext2fs_extent_free(h);
	}
	if (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK) {
		unsigned int ma = archive_entry_rdevmajor(ae), mi = archive_entry_rdevminor(ae);

		if (ma < 256 && mi < 256) {
			in.i_block[0] = ma * 256 + mi;
		} else {
			in.i_block[0] = 0;
			in.i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
		}
	}
	e = ext2fs_write_new_inode(m->fs, *ino, (struct ext2_inode *)&in);
	if (e)
		return ext_fail(m, e, "writing a new inode");
	ext2fs_inode_alloc_stats2(m->fs, *ino, +1, 0);
	return add_link(m, dir, name, *ino, file_type(type));
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

/*
 * Write the entry's data into the new (all-hole) file, skipping the parts
 * of each 4 KiB window that are zero, so that zeros stay holes wherever
 * libarchive's pieces start and end.
 */
static int write_data(struct ext4img *m, ext2_ino_t ino, struct archive *a, struct archive_entry *ae)
{
	const uint64_t bs = 1u << TRACK_SHIFT;
	ext2_file_t f;
	const void *buf;
	size_t n;
	la_int64_t off;
	errcode_t e;
	int r;

	e = ext2fs_file_open(m->fs, ino, EXT2_FILE_WRITE, &f);
	if (e)
		return ext_fail(m, e, "opening the new file");
	while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		const uint8_t *p = buf;
		uint64_t start = (uint64_t)off, end = start + n, pos = start, run = UINT64_MAX;

		while (!e && pos <= end) {
			uint64_t next = pos < end ? (pos | (bs - 1)) + 1 : end;
			bool data;

			if (next > end)
				next = end;
			data = pos < end && !zero_bytes(p + (pos - start), (size_t)(next - pos));
			if (data && run == UINT64_MAX)
				run = pos;
			/* a run ends at a zero window, the piece's end, or 1 MiB */
			if (run != UINT64_MAX && (!data || next == end || next - run >= (1u << 20))) {
				uint64_t stop = data ? next : pos;
				unsigned int wrote;

				e = ext2fs_file_llseek(f, run, EXT2_SEEK_SET, NULL);
				if (!e)
					e = ext2fs_file_write(f, p + (run - start), (unsigned int)(stop - run), &wrote);
				run = UINT64_MAX;
			}
			if (pos == end)
				break;
			pos = next;
		}
		if (e)
			break;
	}
	if (!e)
		e = ext2fs_file_set_size2(f, (ext2_off64_t)archive_entry_size(ae));
	if (e) {
		ext2fs_file_close(f);
		return ext_fail(m, e, "writing %lld bytes", (long long)archive_entry_size(ae));
	}
	e = ext2fs_file_close(f);
	if (e)
		return ext_fail(m, e, "writing %lld bytes", (long long)archive_entry_size(ae));
	if (r != ARCHIVE_EOF)
		return ext_fail(m, 0, "reading its data: %s", archive_error_string(a));
	return 0;
}

static int apply_whiteout(struct ext4img *m, ext2_ino_t dir, const char *name, const char *path)
{
	struct names ns;
	ext2_ino_t ino;
	size_t i;
	int r = 0;

	if (!strcmp(name, ".wh..wh..opq")) {	/* opaque: hide what lower layers put here */
		if (children(m, dir, &ns))
			return -1;
		for (i = 0; !r && i < ns.n; i++) {
			if (made_here(m, dir, ns.v[i]) || (dir == EXT2_ROOT_INO && !strcmp(ns.v[i], "lost+found")))
				continue;
			r = lookup(m, dir, ns.v[i], &ino);
			if (!r)
				r = remove_entry(m, dir, ns.v[i], ino, 0);
			else if (r > 0)
				r = 0;
		}
		names_free(&ns);
		return r;
	}
	if (!strncmp(name, ".wh..wh.", 8))	/* aufs metadata (.wh..wh.plnk and the like) */
		return 0;
	r = lookup(m, dir, name + 4, &ino);
	if (r > 0)
		return ext_fail(m, 0, "a whiteout of '%.*s%s', which no lower layer has",
				(int)(strlen(path) - strlen(name)), path, name + 4);
	return r ? r : remove_entry(m, dir, name + 4, ino, 0);
}

static int apply_entry(struct ext4img *m, struct archive *a, struct archive_entry *ae)
{
	static char path[MAX_PATH + 1], target[MAX_PATH + 1];
	unsigned int type = archive_entry_filetype(ae);
	const char *hl = archive_entry_hardlink(ae), *name;
	struct ext2_inode_large in;
	ext2_ino_t dir, ino, old = 0;
	bool exists;
	errcode_t e;
	int r;

	snprintf(m->entry, sizeof(m->entry), "%s",
		 archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "(no name)");
	if (clean_path(m, archive_entry_pathname(ae), path, "its path"))
		return -1;
	if (!*path) {	/* the root itself: its metadata only */
		if (type != AE_IFDIR)
			return ext_fail(m, 0, "the root is a directory, not type 0%o", type);
		return set_meta(m, EXT2_ROOT_INO, ae, true);
	}
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (!strncmp(name, ".wh.", 4)) {
		r = split(m, path, false, &dir, &name);
		if (r > 0)
			return ext_fail(m, 0, "a whiteout in a directory that no lower layer has");
		return r ? r : apply_whiteout(m, dir, name, path);
	}
	if (split(m, path, true, &dir, &name))
		return -1;
	r = lookup(m, dir, name, &old);
	if (r < 0)
		return r;
	exists = !r;
	if (exists) {
		if (read_inode(m, old, &in))
			return -1;
		if (type == AE_IFDIR && !hl && LINUX_S_ISDIR(in.i_mode)) {	/* a directory stays */
			remember(m, dir, name);
			return set_meta(m, old, ae, true);
		}
	}
	if (hl) {	/* a hard link: to an existing non-directory */
		ext2_ino_t tdir;
		const char *tname;

		if (clean_path(m, hl, target, "its link target"))
			return -1;
		r = *target ? split(m, target, false, &tdir, &tname) : 1;
		if (!r)
			r = lookup(m, tdir, tname, &ino);
		if (r > 0)
			return ext_fail(m, 0, "a hard link to '%s', which does not exist", hl);
		if (r < 0 || read_inode(m, ino, &in))
			return -1;
		if (LINUX_S_ISDIR(in.i_mode))
			return ext_fail(m, 0, "a hard link to directory '%s'", hl);
		if (exists && old == ino)	/* already this file */
			return 0;
		if (in.i_links_count >= 65000)
			return ext_fail(m, 0, "a hard link to '%s', which has %u links already", hl,
					in.i_links_count);
		if (lookup(m, dir, name, &old) == 0 && remove_entry(m, dir, name, old, 0))
			return -1;
		if (read_inode(m, ino, &in))	/* the removal may have changed it */
			return -1;
		in.i_links_count++;
		if (write_inode(m, ino, &in) || add_link(m, dir, name, ino, file_type(in.i_mode)))
			return -1;
		remember(m, dir, name);
		return 0;
	}
	if (exists && remove_entry(m, dir, name, old, 0))
		return -1;
	remember(m, dir, name);
	switch (type) {
	case AE_IFDIR:
		if (make_dir(m, dir, name, &ino))
			return -1;
		break;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(ae);

		if (!t || !*t || strlen(t) >= m->fs->blocksize)
			return ext_fail(m, 0, "a symlink target of %zu bytes; expected 1..%u",
					t ? strlen(t) : 0, m->fs->blocksize - 1);
		e = ext2fs_symlink(m->fs, dir, 0, name, t);
		if (e == EXT2_ET_DIR_NO_SPACE) {
			e = ext2fs_expand_dir(m->fs, dir);
			if (!e)
				e = ext2fs_symlink(m->fs, dir, 0, name, t);
		}
		if (e)
			return ext_fail(m, e, "making the symlink");
		if (lookup(m, dir, name, &ino))
			return ext_fail(m, 0, "the new symlink vanished");
		break;
	}
	case AE_IFREG:
		if (new_inode(m, dir, name, LINUX_S_IFREG, ae, &ino) || write_data(m, ino, a, ae))
			return -1;
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
	case AE_IFSOCK:
		if (new_inode(m, dir, name, type, ae, &ino))
			return -1;
		break;
	default:
		return ext_fail(m, 0, "an entry of unknown type 0%o", type);
	}
	return set_meta(m, ino, ae, false);
}

int ext4img_apply(struct ext4img *m, struct archive *a, char *why, size_t len)
{
	struct archive_entry *ae;
	int r, ret = 0;

	m->why = why;
	m->len = len;
	while (!ret && (r = archive_read_next_header(a, &ae)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			const char *err = archive_error_string(a) ? archive_error_string(a) : "not a tar stream";

			if (m->entry[0])
				ret = failf(why, len, "after entry '%.300s': %s", m->entry, err);
			else
				ret = failf(why, len, "%s", err);
			break;
		}
		ret = apply_entry(m, a, ae);
	}
	tdestroy(m->made, free);
	m->made = NULL;
	m->entry[0] = 0;
	return ret;
}

/* ---- reading one file of an image's ext4 file system, through its stack (no mount) */

static struct struct_io_manager stack_io_mgr;

static struct stack *stack_io_of(io_channel ch)
{
	return ch->private_data;
}

static errcode_t stack_io_open(const char *name, int flags, io_channel *chp)
{
	struct stack *s = NULL;
	io_channel ch;

	if ((flags & IO_FLAG_RW) || sscanf(name, "ovbd-stack:%p", (void **)&s) != 1 || !s)
		return EXT2_ET_BAD_DEVICE_NAME;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return EXT2_ET_NO_MEMORY;
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &stack_io_mgr;
	ch->name = strdup(name);
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = s;
	if (!ch->name) {
		free(ch);
		return EXT2_ET_NO_MEMORY;
	}
	*chp = ch;
	return 0;
}

static errcode_t stack_io_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t stack_io_set_blksize(io_channel ch, int blksize)
{
	ch->block_size = blksize;
	return 0;
}

static errcode_t stack_io_read_blk64(io_channel ch, unsigned long long blk, int count, void *data)
{
	struct stack *s = stack_io_of(ch);
	uint64_t off = blk * (uint64_t)ch->block_size, n = blk_bytes(ch, count);
	char why[300];

	if (off > s->virtual_size || n > s->virtual_size - off)
		return EXT2_ET_SHORT_READ;
	return stack_read(s, off, data, n, why, sizeof(why)) ? EXT2_ET_SHORT_READ : 0;
}

static errcode_t stack_io_read_blk(io_channel ch, unsigned long blk, int count, void *data)
{
	return stack_io_read_blk64(ch, blk, count, data);
}

static errcode_t stack_io_write_blk(io_channel ch, unsigned long blk, int count, const void *data)
{
	(void)ch, (void)blk, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t stack_io_flush(io_channel ch)
{
	(void)ch;
	return 0;
}

static struct struct_io_manager stack_io_mgr = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "ovbd stack (read-only)",
	.open = stack_io_open,
	.close = stack_io_close,
	.set_blksize = stack_io_set_blksize,
	.read_blk = stack_io_read_blk,
	.write_blk = stack_io_write_blk,
	.flush = stack_io_flush,
	.read_blk64 = stack_io_read_blk64,
};

int ext4img_read_file(struct stack *s, const char *path, char **buf, size_t *n, size_t max,
		      char *why, size_t len)
{
	char name[64];
	ext2_filsys fs;
	ext2_file_t f;
	ext2_ino_t ino;
	errcode_t e;
	unsigned int got;
	uint64_t size;
	int r = -1;

	*buf = NULL;
	*n = 0;
	snprintf(name, sizeof(name), "ovbd-stack:%p", (void *)s);
	e = ext2fs_open(name, EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0, &stack_io_mgr, &fs);
	if (e)
		return failf(why, len, "the image's disk holds no ext4 file system that libext2fs reads: %s",
			     error_message(e));
	/* symbolic links resolve inside the image: its root is "/" */
	e = ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino);
	if (e == EXT2_ET_FILE_NOT_FOUND || e == EXT2_ET_NO_DIRECTORY) {
		r = 1;
		goto out;
	}
	if (e) {
		failf(why, len, "%s in the image: %s", path, error_message(e));
		goto out;
	}
	e = ext2fs_file_open(fs, ino, 0, &f);
	if (e) {
		failf(why, len, "%s in the image: %s", path, error_message(e));
		goto out;
	}
	size = ext2fs_file_get_size(f);
	if (size > max) {
		failf(why, len, "%s in the image: %llu bytes, more than %zu", path, (unsigned long long)size, max);
	} else if (!(*buf = malloc(size + 1))) {
		failf(why, len, "out of memory");
	} else if ((e = ext2fs_file_read(f, *buf, (unsigned int)size, &got)) || got != size) {
		failf(why, len, "%s in the image: %s", path, e ? error_message(e) : "short read");
		free(*buf);
		*buf = NULL;
	} else {
		(*buf)[size] = 0;
		*n = size;
		r = 0;
	}
	ext2fs_file_close(f);
out:
	ext2fs_close_free(&fs);
	return r;
}
