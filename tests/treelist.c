// SPDX-License-Identifier: GPL-2.0-only
/*
 * treelist ROOT: one line per path under ROOT, sorted, for comparing a
 * converted image's mounted file system with a reference unpack (umoci):
 *   path type perms uid gid size content link xattrs hardlink-group
 * content: for a regular file, SHA-256 over (offset, block) of its non-zero
 * 4 KiB blocks, so holes and written zeros compare equal and a sparse file
 * is read only where it has data (SEEK_DATA); rdev for a device node.
 * Directory sizes and link counts, times, and /lost+found are left out:
 * they differ between file systems without meaning. A test tool: it shares
 * no code with ovbd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct line {
	char *path, *text;
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
};

static struct line *lines;
static size_t nlines, cap;
static size_t root_len;

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

static void content(const char *path, off_t size, char *out)
{
	static unsigned char buf[4096], zero[4096];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY);
	off_t pos = 0, end;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	if (fd < 0) {
		sprintf(out, "unreadable:%d", errno);
		EVP_MD_CTX_free(ctx);
		return;
	}
	while (pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA);

		if (d < 0)
			break;
		end = lseek(fd, d, SEEK_HOLE);
		for (pos = d & ~(off_t)4095; pos < end; pos += 4096) {
			ssize_t n = pread(fd, buf, sizeof(buf), pos);
			uint64_t o = (uint64_t)pos;

			if (n <= 0)
				break;
			if (n == 4096 && !memcmp(buf, zero, 4096))
				continue;
			if (n < 4096 && !memcmp(buf, zero, (size_t)n))
				continue;
			EVP_DigestUpdate(ctx, &o, sizeof(o));
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		}
	}
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex(md, 16, out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void xattrs(const char *path, char *out, size_t outlen)
{
	char names[65536], *p, *v[256];
	ssize_t n = llistxattr(path, names, sizeof(names));
	size_t k = 0, i, o = 0;

	out[0] = 0;
	for (p = names; n > 0 && p < names + n && k < 256; p += strlen(p) + 1)
		if (strncmp(p, "security.selinux", 16))
			v[k++] = p;
	qsort(v, k, sizeof(v[0]), cmp_str);
	for (i = 0; i < k; i++) {
		unsigned char val[4096];
		char h[8193];
		ssize_t vn = lgetxattr(path, v[i], val, sizeof(val));

		hex(val, vn > 0 ? (size_t)vn : 0, h);
		o += (size_t)snprintf(out + o, o < outlen ? outlen - o : 0, "%s%s=%s", i ? "," : "",
				      v[i], h);
	}
	if (!k)
		snprintf(out, outlen, "-");
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + root_len;
	char kind, info[2200], xa[20000], *text;
	struct line *l;

	if (!*rel)
		rel = "/";
	if (!strcmp(rel, "/lost+found"))
		return FTW_SKIP_SUBTREE;
	info[0] = '-';
	info[1] = 0;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: kind = 'f'; content(path, st->st_size, info); break;
	case S_IFDIR: kind = 'd'; break;
	case S_IFLNK: {
		ssize_t n = readlink(path, info, sizeof(info) - 1);

		kind = 'l';
		info[n > 0 ? n : 0] = 0;
		break;
	}
	case S_IFCHR: kind = 'c'; sprintf(info, "%u:%u", major(st->st_rdev), minor(st->st_rdev)); break;
	case S_IFBLK: kind = 'b'; sprintf(info, "%u:%u", major(st->st_rdev), minor(st->st_rdev)); break;
	case S_IFIFO: kind = 'p'; break;
	case S_IFSOCK: kind = 's'; break;
	default: kind = '?';
	}
	xattrs(path, xa, sizeof(xa));
	if (asprintf(&text, "%c %04o %u %u %lld %s %s", kind, st->st_mode & 07777, st->st_uid,
		     st->st_gid, S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, info, xa) < 0)
		exit(1);
	if (nlines == cap) {
		cap = cap ? 2 * cap : 1024;
		lines = realloc(lines, cap * sizeof(*lines));
		if (!lines)
			exit(1);
	}
	l = &lines[nlines++];
	l->path = strdup(rel);
	l->text = text;
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->nlink = S_ISDIR(st->st_mode) ? 1 : st->st_nlink;
	return FTW_CONTINUE;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->path, ((const struct line *)b)->path);
}

int main(int argc, char **argv)
{
	size_t i, j;

	if (argc != 2) {
		fprintf(stderr, "usage: treelist ROOT\n");
		return 2;
	}
	root_len = strlen(argv[1]);
	while (root_len > 1 && argv[1][root_len - 1] == '/')
		argv[1][--root_len] = 0;
	if (nftw(argv[1], visit, 64, FTW_PHYS | FTW_ACTIONRETVAL)) {
		perror(argv[1]);
		return 1;
	}
	qsort(lines, nlines, sizeof(*lines), by_path);
	for (i = 0; i < nlines; i++) {
		const char *group = "-";

		/* a hard link: named by the first path (in order) of its inode */
		for (j = 0; lines[i].nlink > 1 && j < nlines; j++)
			if (lines[j].ino == lines[i].ino && lines[j].dev == lines[i].dev) {
				group = lines[j].path;
				break;
			}
		printf("%s %s %s\n", lines[i].path, lines[i].text, group);
	}
	return 0;
}
