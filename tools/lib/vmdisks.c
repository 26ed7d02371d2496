// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: an image as a VM guest's disks (vmdisks.h).
 */
#define _GNU_SOURCE
#include "vmdisks.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vmdisk_name(const char *prefix, unsigned int n, const struct layer_verity *v,
		struct vm_disk *d, char *why, size_t len)
{
	size_t pl = strlen(prefix);

	if (!pl || pl > VMDISK_PREFIX_MAX || strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789-_") != pl)
		return failu(why, len, "disk serial prefix '%s': 1 to %d of a-z 0-9 - _ (virtio-blk serials hold %d bytes)",
			     prefix, VMDISK_PREFIX_MAX, VMDISK_SERIAL_MAX);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(d[i].serial, sizeof(d[i].serial), "%s-l%03u", prefix, i);
		if (v && v[i].set)
			snprintf(d[i].tree_serial, sizeof(d[i].tree_serial), "%s-t%03u", prefix, i);
		else
			d[i].tree_serial[0] = 0;
	}
	return 0;
}

int vmdisk_spec(unsigned int n, const struct vm_disk *d, const struct layer_verity *v, char *out,
		size_t outlen, char *why, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	for (unsigned int i = 0; i < n; i++) {
		char root[2 * VERITY_DIGEST + 1], salt[2 * VERITY_SALT + 1];
		int w;

		if (v && v[i].set) {
			verity_hex(v[i].root, VERITY_DIGEST, root);
			verity_hex(v[i].salt, v[i].salt_size, salt);
			w = snprintf(out + o, outlen - o, "%s%s:%s:%s:%s:%u:%llu:%llu", i ? "," : "",
				     d[i].serial, d[i].tree_serial, root, v[i].salt_size ? salt : "-",
				     v[i].data_block_size, (unsigned long long)v[i].data_blocks,
				     (unsigned long long)v[i].hash_offset);
		} else {
			w = snprintf(out + o, outlen - o, "%s%s", i ? "," : "", d[i].serial);
		}
		if (w < 0 || (size_t)w >= outlen - o)
			return failf(why, len, "the disk spec of %u layers is longer than %zu bytes", n, outlen);
		o += (size_t)w;
	}
	return 0;
}

/* One field of an entry: up to ':' or its end; NULL when there is none. */
static char *vmdisk_field(char **p)
{
	char *f = *p, *c;

	if (!f)
		return NULL;
	c = strchr(f, ':');
	if (c) {
		*c = 0;
		*p = c + 1;
	} else {
		*p = NULL;
	}
	return f;
}

static bool vmdisk_serial_ok(const char *s)
{
	size_t l = strlen(s);

	return l && l <= VMDISK_SERIAL_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == l;
}

static bool vmdisk_u64(const char *s, unsigned long long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* One verified entry's fields after the serial. */
static int vmdisk_parse_verity(char *rest, unsigned int i, struct vm_disk *d, struct layer_verity *v,
			       char *why, size_t len)
{
	char *tree = vmdisk_field(&rest), *root = vmdisk_field(&rest), *salt = vmdisk_field(&rest);
	char *dbs = vmdisk_field(&rest), *blocks = vmdisk_field(&rest), *hoff = vmdisk_field(&rest);
	unsigned long long b, h, ds;

	if (!hoff || rest)
		return failu(why, len, "disk spec, layer %u: SERIAL:TREE:ROOT:SALT:DBS:BLOCKS:HOFF expected", i);
	if (!vmdisk_serial_ok(tree))
		return failu(why, len, "disk spec, layer %u: tree serial '%s': 1 to %d of a-z 0-9 - _", i, tree,
			     VMDISK_SERIAL_MAX);
	snprintf(d->tree_serial, sizeof(d->tree_serial), "%s", tree);
	memset(v, 0, sizeof(*v));
	v->set = true;
	if (strlen(root) != 2 * VERITY_DIGEST || !verity_unhex(root, v->root, VERITY_DIGEST))
		return failu(why, len, "disk spec, layer %u: the root hash is not 64 hex digits", i);
	if (strcmp(salt, "-")) {
		v->salt_size = (u32)(strlen(salt) / 2);
		if (strlen(salt) % 2 || v->salt_size > VERITY_SALT || !verity_unhex(salt, v->salt, v->salt_size))
			return failu(why, len, "disk spec, layer %u: the salt is not up to %d hex digits (or -)", i,
				     2 * VERITY_SALT);
	}
	if (!vmdisk_u64(dbs, &ds) || (ds != 512 && ds != 4096))
		return failu(why, len, "disk spec, layer %u: data block size '%s': 512 or 4096", i, dbs);
	if (!vmdisk_u64(blocks, &b) || !b || b > (1ull << 40))
		return failu(why, len, "disk spec, layer %u: data block count '%s'", i, blocks);
	if (!vmdisk_u64(hoff, &h) || h % 4096 || h > (1ull << 40))
		return failu(why, len, "disk spec, layer %u: hash offset '%s': a multiple of 4096", i, hoff);
	v->data_block_size = (u32)ds;
	v->data_blocks = b;
	v->hash_offset = h;
	return 0;
}

int vmdisk_parse(const char *spec, struct vm_disk *d, struct layer_verity *v, unsigned int max,
		 unsigned int *n, char *why, size_t len)
{
	char *copy = strdup(spec), *save = NULL, *e;
	unsigned int i = 0;
	int r = 0;

	*n = 0;
	if (!copy)
		return failf(why, len, "out of memory");
	for (e = strtok_r(copy, ",", &save); e && !r; e = strtok_r(NULL, ",", &save), i++) {
		char *rest = e, *serial = vmdisk_field(&rest);

		if (i == max) {
			r = failu(why, len, "disk spec: more than %u layers", max);
			break;
		}
		if (!vmdisk_serial_ok(serial)) {
			r = failu(why, len, "disk spec, layer %u: serial '%s': 1 to %d of a-z 0-9 - _", i, serial,
				  VMDISK_SERIAL_MAX);
			break;
		}
		snprintf(d[i].serial, sizeof(d[i].serial), "%s", serial);
		d[i].tree_serial[0] = 0;
		memset(&v[i], 0, sizeof(v[i]));
		if (rest)
			r = vmdisk_parse_verity(rest, i, &d[i], &v[i], why, len);
	}
	free(copy);
	if (!r && !i)
		r = failu(why, len, "disk spec: no layer");
	*n = i;
	return r;
}

int vmdisk_find(const char *serial, unsigned long long min, char *dev, size_t devlen, char *why,
		size_t len)
{
	char path[300], got[64], found[256] = "";
	unsigned int hits = 0;
	struct dirent *de;
	DIR *d = opendir("/sys/block");

	if (!d)
		return failf(why, len, "/sys/block: %s", strerror(errno));
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f)) {
			got[strcspn(got, "\n")] = 0;
			if (!strcmp(got, serial) && hits++ == 0)
				snprintf(found, sizeof(found), "%s", de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	if (!hits)
		return failf(why, len, "no disk with the serial %s (is it attached? see /sys/block/*/serial)", serial);
	if (hits > 1)
		return failf(why, len, "%u disks with the serial %s: which one is ambiguous", hits, serial);
	snprintf(path, sizeof(path), "/sys/block/%s/size", found);
	{
		FILE *f = fopen(path, "r");
		unsigned long long sectors = 0;

		if (!f || fscanf(f, "%llu", &sectors) != 1) {
			if (f)
				fclose(f);
			return failf(why, len, "%s: cannot read its size", path);
		}
		fclose(f);
		if (sectors * 512 < min)
			return failf(why, len, "disk %s (%s): %llu bytes, less than the %llu its spec needs", serial,
				     found, sectors * 512, min);
	}
	snprintf(dev, devlen, "/dev/%s", found);
	return 0;
}
