// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: a device stack's whole life (dmstack.h). */
#define _GNU_SOURCE
#include "dmstack.h"
#include "blob.h"
#include "run.h"
#include "stack.h"
#include "util.h"
#include "vimage.h"
#include <pthread.h>
#include <libcryptsetup.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <dirent.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARAMS_MAX	(OVBD_LSMT_MAX_LAYERS * (DMSTACK_LOWER_MAX + 24) + 64)

/* Newlines to spaces: messages are one line. */
static char *dmstack_one_line(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

int dmstack_check_name(const char *name, char *why, size_t len)
{
	/* the DM UUID (128 bytes) holds "OVBD-part-<32 hex>-NAME-z000" */
	if (!*name || strlen(name) > 80 || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return failu(why, len, "NAME: 1..80 characters without '/', got '%.120s'", name);
	return 0;
}

/* ---- the plan */

static int dmstack_probe_layer(struct dmstack_layer *l, const char *path, unsigned int i,
			       unsigned int n, char *why, size_t len)
{
	struct blob b;
	u64 rem;
	int ret = -1;

	if (blob_open(&b, path)) {
		failf(why, len, "layer %u: %s", i, b.why);
		goto out;
	}
	l->lsmt = blob_content_is_lsmt(&b);
	if (l->lsmt && blob_open_lsmt(&b)) {
		failf(why, len, "layer %u: %s", i, b.why);
		goto out;
	}
	l->zfile = b.zfile;
	if (l->zfile && !b.content_size) {
		failf(why, len, "layer %u: %s: empty ZFile: nothing to map "
		      "(device-mapper devices have at least one sector)", i, path);
		goto out;
	}
	if (!l->lsmt && !(n == 1 && l->zfile)) {
		failf(why, len, "layer %u: %s: expected an LSMT layer", i, path);
		goto out;
	}
	l->file_size = b.file_size;
	l->payload_off = b.payload_off;
	l->content_size = b.content_size;
	l->virtual_size = l->lsmt ? b.layer.tail.virtual_size : 0;
	if (l->lsmt) {
		snprintf(l->uuid, sizeof(l->uuid), "%s", b.layer.tail.uuid);
		snprintf(l->parent, sizeof(l->parent), "%s", b.layer.tail.parent_uuid);
	}
	rem = b.file_size % DMSTACK_SECTOR;
	l->tail = l->zfile && !b.zf.from_header && rem > DMSTACK_SECTOR - OVBD_ZF_FIELDS_SIZE;
	/* tail_sector is zeroed by dmstack_probe() */
	if (l->tail && pread_all(b.fd, l->tail_sector, rem, b.file_size - rem, path, why, len))
		goto out;
	ret = 0;
out:
	blob_close(&b);
	return ret;
}

struct dmstack_probe_job {
	struct dmstack_layer *l;
	const char *path;
	unsigned int i, n;
	char *why;
	size_t len;
	int ret;
};

static void *dmstack_probe_job_run(void *arg)
{
	struct dmstack_probe_job *j = arg;

	j->ret = dmstack_probe_layer(j->l, j->path, j->i, j->n, j->why, j->len);
	return NULL;
}

#define DMSTACK_PROBE_THREADS 32

/*
 * Probe every layer, up to DMSTACK_PROBE_THREADS side by side: the layers
 * of a lazy open are nbd devices whose every miss is a Range request to
 * the registry, and side by side those requests overlap (the kernel's ctrs
 * then read what the probe read from nbdkit's cache files). The lowest
 * failing layer is the one reported, as if they were probed in order.
 */
static int dmstack_probe_layers(struct dmstack *s, char **blobs, unsigned int n, char *why,
				size_t len)
{
	struct dmstack_probe_job *j = calloc(n, sizeof(*j));
	char *whys = calloc(n, len);
	pthread_t t[DMSTACK_PROBE_THREADS];
	bool started[DMSTACK_PROBE_THREADS];
	unsigned int i, k, m;
	int ret = 0;

	if (!j || !whys) {
		free(j);
		free(whys);
		return failf(why, len, "out of memory");
	}
	for (i = 0; i < n; i += k) {
		for (k = 0; k < DMSTACK_PROBE_THREADS && i + k < n; k++) {
			struct dmstack_probe_job *o = &j[i + k];

			*o = (struct dmstack_probe_job){ &s->layer[i + k], blobs[i + k], i + k, n,
							 whys + (size_t)(i + k) * len, len, 0 };
			started[k] = !pthread_create(&t[k], NULL, dmstack_probe_job_run, o);
			if (!started[k])
				dmstack_probe_job_run(o);
		}
		for (m = 0; m < k; m++)
			if (started[m])
				pthread_join(t[m], NULL);
	}
	for (i = 0; i < n && !ret; i++)
		if (j[i].ret) {
			snprintf(why, len, "%s", j[i].why);
			ret = -1;
		}
	free(j);
	free(whys);
	return ret;
}

int dmstack_probe(struct dmstack *s, const char *name, char **blobs, unsigned int n, char *why,
		  size_t len)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (strlen(name) + 5 >= DMSTACK_NAME_MAX || strchr(name, '/'))
		return failu(why, len, "NAME: expected at most %d characters and no '/'",
			     DMSTACK_NAME_MAX - 6);
	if (!n || n > OVBD_LSMT_MAX_LAYERS)
		return failu(why, len, "a stack has 1..255 layers, not %u", n);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->nlayers = n;
	if (dmstack_probe_layers(s, blobs, n, why, len))
		return -1;
	if (s->layer[0].lsmt) {
		const char *u[OVBD_LSMT_MAX_LAYERS], *pu[OVBD_LSMT_MAX_LAYERS];

		for (i = 0; i < n; i++) {
			u[i] = s->layer[i].uuid;
			pu[i] = s->layer[i].parent;
		}
		if (stack_check_chain(blobs, u, pu, n, why, len))
			return -1;
	}
	return 0;
}

/* NAME-<kind>NNN, a private part of layer i; dmstack_probe() keeps NAME short enough for it. */
static void dmstack_private_name(char *out, size_t len, const char *name, char kind, unsigned int i)
{
	snprintf(out, len, "%.*s-%c%03u", DMSTACK_NAME_MAX - 8, name, kind, i % 1000);
}

static struct dmstack_dev *dmstack_add_dev(struct dmstack *s, const char *name, int layer)
{
	struct dmstack_dev *d = &s->dev[s->ndev++];

	memset(d, 0, sizeof(*d));
	memcpy(d->name, name, strnlen(name, sizeof(d->name) - 1));	/* may be s->name */
	d->layer = layer;
	d->top = layer < 0;
	return d;
}

/* Line k of d: start, length, target and params (copied). */
static void dmstack_set_line(struct dmstack_dev *d, unsigned int k, u64 start, u64 length,
			     const char *target, const char *params)
{
	d->params[k] = xmalloc(strlen(params) + 1);
	strcpy(d->params[k], params);
	d->line[k] = (struct dm_line){ start, length, target, d->params[k] };
	if (d->nlines < k + 1)
		d->nlines = k + 1;
}

int dmstack_render(struct dmstack *s, char *why, size_t len)
{
	char *lsmt_args = xmalloc(PARAMS_MAX), zname[DMSTACK_NAME_MAX], p[DMSTACK_LOWER_MAX + 32];
	size_t used = 0;
	u64 vsize = 0;
	unsigned int i;

	dmstack_free(s);
	lsmt_args[0] = 0;
	for (i = 0; i < s->nlayers; i++) {
		const struct dmstack_layer *l = &s->layer[i];

		dmstack_private_name(zname, sizeof(zname), s->name, 'z', i);
		if (l->zfile && !l->part[0]) {	/* a private zfile part (or the lone ZFile) */
			snprintf(p, sizeof(p), "%s %llu", l->lower, (unsigned long long)l->file_size);
			dmstack_set_line(dmstack_add_dev(s, l->lsmt ? zname : s->name, l->lsmt ? (int)i : -1),
					 0, 0, (l->content_size + 511) >> 9, "zfile", p);
		}
		if (!l->lsmt) {		/* a single standalone ZFile */
			free(lsmt_args);
			return 0;
		}
		if (l->virtual_size)
			vsize = l->virtual_size;
		/* what the lsmt device reads: a shared layer's topmost part, a zfile part or the lower */
		used += (size_t)snprintf(lsmt_args + used, PARAMS_MAX - used, "%s%s%s %llu",
					 used ? " " : "", l->part[0] || l->zfile ? "/dev/mapper/" : "",
					 l->part[0] ? l->part : l->zfile ? zname : l->lower,
					 (unsigned long long)(l->zfile ? l->content_size : l->file_size));
		if (used >= PARAMS_MAX) {
			free(lsmt_args);
			dmstack_free(s);
			return failu(why, len, "device paths too long for one table");
		}
	}
	dmstack_set_line(dmstack_add_dev(s, s->name, -1), 0, 0, vsize >> 9, "lsmt", lsmt_args);
	free(lsmt_args);
	return 0;
}

void dmstack_free(struct dmstack *s)
{
	unsigned int i, k;

	for (i = 0; i < s->ndev; i++)
		for (k = 0; k < s->dev[i].nlines; k++)
			free(s->dev[i].params[k]);
	s->ndev = 0;
}

/* "<32 hex>": the manifest digest's, or a digest of the layers' uuids and paths. */
static void dmstack_make_id(struct dmstack *s, char **blobs, const char *manifest)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, mdlen;
	EVP_MD_CTX *ctx;

	if (manifest && !strncmp(manifest, "sha256:", 7) && strlen(manifest) >= 7 + 32) {
		snprintf(s->id, sizeof(s->id), "%.32s", manifest + 7);
		return;
	}
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < s->nlayers; i++) {
		EVP_DigestUpdate(ctx, s->layer[i].uuid, strlen(s->layer[i].uuid));
		EVP_DigestUpdate(ctx, blobs[i], strlen(blobs[i]) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 16; i++)
		sprintf(s->id + 2 * i, "%02x", md[i]);
}

/* ---- removal: by uuid, from the kernel */

/* A part's device name, from its uuid "OVBD-part-<id>-<devname>". */
static const char *dmstack_part_devname(const char *uuid)
{
	size_t p = strlen(OVBD_UUID_PART);

	return strlen(uuid) > p + 33 ? uuid + p + 33 : "";
}

/* "NAME-<kind>NNN", the name of one of NAME's parts of that kind. */
static bool dmstack_part_name(const char *dev, const char *name, char kind)
{
	size_t k = strlen(name);

	return !strncmp(dev, name, k) && dev[k] == '-' && dev[k + 1] == kind &&
	       strlen(dev + k + 2) == 3 && strspn(dev + k + 2, "0123456789") == 3;
}

/*
 * Is the device part (with uuid) one of stack's private parts? Ours carry
 * an OVBD-part uuid; a verity part is named by us but its uuid is
 * libcryptsetup's (CRYPT-VERITY-...).
 */
static bool dmstack_is_part(const char *part, const char *uuid, const char *stack)
{
	return !strncmp(uuid, OVBD_UUID_PART, strlen(OVBD_UUID_PART)) ||
	       (!strncmp(uuid, "CRYPT-VERITY-", 13) && dmstack_part_name(part, stack, 'v'));
}

/* Remove dev and, depth first, the private parts of stack its table uses (loops clear themselves). */
static int dmstack_remove_tree(const char *dev, const char *stack, int depth, char *why, size_t len)
{
	unsigned int ma[DMSTACK_MAX_DEVS], mi[DMSTACK_MAX_DEVS], n, i;
	char part[OVBD_DM_NAME_MAX], uuid[OVBD_DM_UUID_MAX];
	int failed = 0;

	if (depth > 4 || dm_deps(dev, ma, mi, DMSTACK_MAX_DEVS, &n, why, len) ||
	    dm_remove(dev, why, len))
		return -1;
	for (i = 0; i < n; i++)
		if (dm_name_of(ma[i], mi[i], part, sizeof(part)) && !dm_uuid(part, uuid, sizeof(uuid)) &&
		    dmstack_is_part(part, uuid, stack) &&
		    dmstack_remove_tree(part, stack, depth + 1, why, len))
			failed = -1;
	return failed;
}

struct dmstack_leftovers {
	const char *name;
	unsigned int n;
	char dev[DMSTACK_MAX_DEVS][OVBD_DM_NAME_MAX];
};

/* Parts named NAME-z000, NAME-t000 or NAME-v000 whose stack device is gone (a crash mid-open). */
static int dmstack_find_leftover(const char *dev, const char *uuid, void *arg)
{
	struct dmstack_leftovers *l = arg;
	const char *d = !strncmp(uuid, OVBD_UUID_PART, strlen(OVBD_UUID_PART)) ?
			dmstack_part_devname(uuid) : dev;

	if ((dmstack_part_name(d, l->name, 'z') || dmstack_part_name(d, l->name, 't') ||
	     dmstack_part_name(d, l->name, 'v')) && dmstack_is_part(dev, uuid, l->name) &&
	    !strcmp(d, dev) && l->n < DMSTACK_MAX_DEVS)
		snprintf(l->dev[l->n++], OVBD_DM_NAME_MAX, "%s", dev);
	return 0;
}

/*
 * Remove leftover parts of NAME, holders first: zfile parts (which hold
 * tails and verity parts), then tails, then verity parts. Returns how many.
 */
static int dmstack_remove_leftovers(const char *name, char *why, size_t len)
{
	static struct dmstack_leftovers l;
	static const char order[] = "ztv";
	unsigned int i, removed = 0;
	int pass;

	memset(&l, 0, sizeof(l));
	l.name = name;
	if (dm_each(OVBD_UUID_PART, dmstack_find_leftover, &l, why, len) ||
	    dm_each("CRYPT-VERITY-", dmstack_find_leftover, &l, why, len))
		return -1;
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < l.n; i++) {
			char uuid[OVBD_DM_UUID_MAX];

			if (l.dev[i][strlen(name) + 1] != order[pass] ||
			    dm_uuid(l.dev[i], uuid, sizeof(uuid)))	/* gone with its holder */
				continue;
			if (dmstack_remove_tree(l.dev[i], name, 0, why, len))
				return -1;
			removed++;
		}
	return (int)removed;
}

/* ---- creation */

/*
 * The kernel's reason for the last failed load of device dev: the targets
 * log it as "device-mapper: overlaybd: <dev>: <reason>"; dm core's own
 * line ("device-mapper: table: ...") serves when there is none.
 */
static void dmstack_kernel_reason(const char *dev, char *buf, size_t len)
{
	char *argv[] = { "dmesg", NULL }, *out = xmalloc(1 << 20), *line, *last = NULL, *save;
	char ours[160];

	snprintf(ours, sizeof(ours), "device-mapper: overlaybd: %s: ", dev);
	buf[0] = 0;
	if (run_cmd(argv, out, 1 << 20) == 0)
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strstr(line, ours) || (strstr(line, "device-mapper: table:") &&
						   (!last || !strstr(last, ours))))
				last = line;
	if (last)
		snprintf(buf, len, "; kernel: %s", strstr(last, "device-mapper:"));
	free(out);
}

/* What one dmstack_open() made, for its rollback. */
struct dmstack_made {
	unsigned int ncreated, nfd;
	char created[DMSTACK_MAX_DEVS][OVBD_DM_NAME_MAX];
	int fds[2 * OVBD_LSMT_MAX_LAYERS];
};

/* Create d with its uuid (NULL: the stack's, or its private part's when not the top). */
static int dmstack_create_dev(struct dmstack *s, const struct dmstack_dev *d, const char *given,
			      struct dmstack_made *m, char *why, size_t len)
{
	char uuid[OVBD_DM_UUID_MAX];

	if (given)
		snprintf(uuid, sizeof(uuid), "%s", given);
	else
		snprintf(uuid, sizeof(uuid), "%s%s-%.84s", d->top ? OVBD_UUID_STACK : OVBD_UUID_PART,
			 s->id, d->name);
	if (dm_create(d->name, uuid, d->line, d->nlines, !d->top, why, len))
		return -1;
	snprintf(m->created[m->ncreated++], OVBD_DM_NAME_MAX, "%s", d->name);
	return 0;
}

/* Prefix why with "layer i: ". */
static int dmstack_layer_fail(unsigned int i, const char *what, char *why, size_t len)
{
	char *was = strdup(why);

	failf(why, len, "layer %u: %s%s", i, what, was ? was : "");
	free(was);
	return -1;
}

/*
 * A loop device drops a blob's partial last sector. When a ZFile keeps its
 * trailer fields there, append that sector, zero-padded, with dm-linear,
 * from a 512-byte memfd on its own loop device: dev (NULL: NAME-tNNN),
 * with uuid (NULL: a private part's).
 */
static int dmstack_add_tail(struct dmstack *s, unsigned int i, const char *given, const char *uuid,
			    struct dmstack_made *m, char *why, size_t len)
{
	struct dmstack_layer *l = &s->layer[i];
	u64 whole = l->file_size / DMSTACK_SECTOR;
	char tloop[64], path[64], p[DMSTACK_LOWER_MAX + 8], dev[DMSTACK_NAME_MAX];
	struct dmstack_dev d = { 0 };
	int mfd = memfd_create("ovbd-tail", MFD_CLOEXEC), ret;

	if (mfd < 0 || write(mfd, l->tail_sector, DMSTACK_SECTOR) != DMSTACK_SECTOR) {
		failf(why, len, "layer %u: a memfd for its last sector: %s", i, strerror(errno));
		if (mfd >= 0)
			close(mfd);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ret = loop_attach(path, false, tloop, sizeof(tloop), &m->fds[m->nfd], why, len);
	close(mfd);
	if (ret)
		return dmstack_layer_fail(i, "its last sector: ", why, len);
	m->nfd++;
	if (given)
		snprintf(dev, sizeof(dev), "%s", given);
	else
		dmstack_private_name(dev, sizeof(dev), s->name, 't', i);
	snprintf(d.name, sizeof(d.name), "%s", dev);
	d.layer = (int)i;
	snprintf(p, sizeof(p), "%s 0", l->lower);
	dmstack_set_line(&d, 0, 0, whole, "linear", p);
	snprintf(p, sizeof(p), "%s 0", tloop);
	dmstack_set_line(&d, 1, whole, 1, "linear", p);
	ret = dmstack_create_dev(s, &d, uuid, m, why, len);
	free(d.params[0]);
	free(d.params[1]);
	if (ret)
		return -1;
	snprintf(l->lower, sizeof(l->lower), "/dev/mapper/%s", dev);
	return 0;
}

/* libcryptsetup's messages: its last error, for ours. */
static void dmstack_crypt_log(int level, const char *msg, void *arg)
{
	char *last = arg;

	if (level == CRYPT_LOG_ERROR && msg)
		snprintf(last, 256, "%.*s", (int)strcspn(msg, "\n"), msg);
}

/*
 * Layer i's dm-verity device NAME-vNNN (libcryptsetup): the blob's loop
 * device as data, the tree file on a loop device of its own as hashes,
 * every parameter from the manifest's annotations and none from the tree's
 * superblock, and the manifest's root hash; read-only.
 */
static int dmstack_add_verity(struct dmstack *s, unsigned int i, const struct layer_verity *v,
			      const char *given, struct dmstack_made *m, char *why, size_t len)
{
	struct dmstack_layer *l = &s->layer[i];
	struct crypt_params_verity p = {
		.hash_name = "sha256",
		.data_device = l->lower,
		.salt = (const char *)v->salt,
		.salt_size = v->salt_size,
		.hash_type = 1,
		.data_block_size = v->data_block_size,
		.hash_block_size = VERITY_HASH_BLOCK,
		.data_size = v->data_blocks,
		.hash_area_offset = v->hash_offset,
		.flags = CRYPT_VERITY_NO_HEADER,
	};
	char tloop[4200], dev[DMSTACK_NAME_MAX], last[256] = "";
	struct crypt_device *cd = NULL;
	struct stat st;
	int r;

	if (!stat(v->tree, &st) && S_ISBLK(st.st_mode)) {	/* an nbd device (--lazy): as it is */
		snprintf(tloop, sizeof(tloop), "%s", v->tree);
	} else {
		if (loop_attach(v->tree, false, tloop, sizeof(tloop), &m->fds[m->nfd], why, len))
			return dmstack_layer_fail(i, "its verity tree: ", why, len);
		m->nfd++;
	}
	if (given)
		snprintf(dev, sizeof(dev), "%s", given);
	else
		dmstack_private_name(dev, sizeof(dev), s->name, 'v', i);
	if (ovbd_step("verity create", dev, why, len))
		return -1;
	r = crypt_init_data_device(&cd, tloop, l->lower);
	if (!r) {
		crypt_set_log_callback(cd, dmstack_crypt_log, last);
		r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, NULL, NULL, 0, &p);
	}
	if (!r)
		r = crypt_activate_by_volume_key(cd, dev, (const char *)v->root, VERITY_DIGEST,
						 CRYPT_ACTIVATE_READONLY);
	crypt_free(cd);
	if (r < 0)
		return failf(why, len, "layer %u: dm-verity device %s: %s%s", i, dev,
			     last[0] ? last : strerror(-r),
			     r == -EPERM ? " (the root hash does not match the tree: not what the manifest covers)" :
			     strstr(last, "verity") && strstr(last, "target") ?
			     " (modprobe dm-verity)" : "");
	snprintf(m->created[m->ncreated++], OVBD_DM_NAME_MAX, "%s", dev);
	ovbd_step_done();
	snprintf(l->lower, sizeof(l->lower), "/dev/mapper/%s", dev);
	l->verity = v;
	return 0;
}

int dmstack_retarget_verity(struct dmstack *s, unsigned int i, const char *data, const char *tree,
			    char *why, size_t len)
{
	const struct layer_verity *v = i < s->nlayers ? s->layer[i].verity : NULL;
	char dev[DMSTACK_NAME_MAX], root[VERITY_HEX_ROOT], salt[2 * VERITY_SALT + 1], params[1024];
	struct dm_line line;

	if (!v)
		return failf(why, len, "%s: layer %u has no verity device", s->name, i);
	dmstack_private_name(dev, sizeof(dev), s->name, 'v', i);
	verity_hex(v->root, VERITY_DIGEST, root);
	verity_hex(v->salt, v->salt_size, salt);
	/* the table libcryptsetup loaded, with the new devices: dm-verity's format 1 */
	snprintf(params, sizeof(params), "1 %s %s %u %u %llu %llu sha256 %s %s", data, tree,
		 v->data_block_size, VERITY_HASH_BLOCK, (unsigned long long)v->data_blocks,
		 (unsigned long long)(v->hash_offset / VERITY_HASH_BLOCK), root, v->salt_size ? salt : "-");
	line = (struct dm_line){ 0, v->data_blocks * (v->data_block_size / DMSTACK_SECTOR), "verity",
				 params };
	return dm_reload(dev, &line, 1, why, len);
}

/* Remove what m holds, newest first, and close its loop fds (autoclear detaches them). */
static void dmstack_rollback(const char *name, struct dmstack_made *m, char *why, size_t len)
{
	char rb[512];
	unsigned int i;

	while (m->ncreated--)
		if (dm_remove(m->created[m->ncreated], rb, sizeof(rb)))
			snprintf(why + strlen(why), len - strlen(why),
				 "; rollback incomplete (%s): see ovbd close %s", dmstack_one_line(rb), name);
	for (i = 0; i < m->nfd; i++)
		close(m->fds[i]);
}

/* Create d, and on failure add the kernel's reason to why. */
static int dmstack_create_explained(struct dmstack *s, const struct dmstack_dev *d, const char *uuid,
				    struct dmstack_made *m, char *why, size_t len)
{
	char reason[400];

	if (!dmstack_create_dev(s, d, uuid, m, why, len))
		return 0;
	dmstack_kernel_reason(d->name, reason, sizeof(reason));
	snprintf(why + strlen(why), len - strlen(why), "%s%s", reason,
		 strstr(reason, "unknown target type") || strstr(why, "unknown target") ?
		 " (the dm-overlaybd module is not loaded: modprobe dm-overlaybd; "
		 "if it is not found, see dkms status dm-overlaybd)" : "");
	return -1;
}

/* ---- shared parts: one set per layer blob */

/* The parts lock: held while shared parts are found, made or removed. */
static int dmstack_lock(char *why, size_t len)
{
	int fd;

	if (mkdir(OVBD_RUN_DIR, 0700) && errno != EEXIST)
		return failf(why, len, OVBD_RUN_DIR ": %s", strerror(errno));
	fd = open(OVBD_RUN_DIR "/parts.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return failf(why, len, OVBD_RUN_DIR "/parts.lock: %s", strerror(errno));
	while (flock(fd, LOCK_EX))
		if (errno != EINTR) {
			failf(why, len, OVBD_RUN_DIR "/parts.lock: %s", strerror(errno));
			close(fd);
			return -1;
		}
	return fd;
}

static void dmstack_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

/*
 * The names of blob's shared parts: base "ovbd-blob-<24 hex>[-<16 hex>]"
 * (the blob's digest where it is a blob of an OCI layout, else a digest of
 * the file's identity; then the root hash's start under dm-verity) and
 * uuid "OVBD-blob-<64 hex>" (a digest of the identity, the root hash, the
 * salt and the data block size), to which "-<kind>" is appended.
 */
static int dmstack_blob_key(const char *blob, const struct layer_verity *v, char *base, size_t blen,
			    char *uuid, size_t ulen, char *why, size_t len)
{
	char real[PATH_MAX], id[PATH_MAX + 200], hex[2 * EVP_MAX_MD_SIZE + 1], root[2 * VERITY_DIGEST + 1];
	const char *slash, *show;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	struct stat st;

	if (!realpath(blob, real) || stat(real, &st))
		return failf(why, len, "%s: %s", blob, strerror(errno));
	slash = strrchr(real, '/');
	if (slash && strlen(slash + 1) == 64 && strspn(slash + 1, "0123456789abcdef") == 64 &&
	    slash - real >= 7 && !strncmp(slash - 7, "/sha256", 7))
		snprintf(id, sizeof(id), "sha256:%s", slash + 1);	/* content-addressed */
	else
		snprintf(id, sizeof(id), "file:%llx:%llx:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	EVP_Digest(id, strlen(id), md, &mdlen, EVP_sha256(), NULL);
	verity_hex(md, mdlen, hex);
	show = !strncmp(id, "sha256:", 7) ? id + 7 : hex;
	if (v) {
		verity_hex(v->root, VERITY_DIGEST, root);
		snprintf(base, blen, OVBD_BLOB_PREFIX "%.24s-%.16s", show, root);
		snprintf(id + strlen(id), sizeof(id) - strlen(id), " verity %s %u %u ", root,
			 v->data_block_size, v->salt_size);
		verity_hex(v->salt, v->salt_size, id + strlen(id));
		EVP_Digest(id, strlen(id), md, &mdlen, EVP_sha256(), NULL);
		verity_hex(md, mdlen, hex);
	} else {
		snprintf(base, blen, OVBD_BLOB_PREFIX "%.24s", show);
	}
	snprintf(uuid, ulen, OVBD_UUID_BLOB "%.64s", hex);
	return 0;
}

/*
 * Is the shared part dev there, as this open would make it? 1: no such
 * device; 0: yes (its table has target and length, and its first line's
 * parameters end with tail, or hold it for dm-verity's root hash); -1 with
 * why set: a device of that name that is something else (fail closed).
 */
static int dmstack_part_found(const char *dev, const char *uuid, const char *target, u64 sectors,
			      const char *tail, char *why, size_t len)
{
	char have[OVBD_DM_UUID_MAX], table[2048], t[32], e[300];
	unsigned long long start, length;
	int pos = 0;
	size_t k;

	if (dm_uuid(dev, have, sizeof(have)))
		return 1;
	if (dm_query(dev, true, table, sizeof(table), e, sizeof(e)) ||
	    sscanf(table, "%llu %llu %31s %n", &start, &length, t, &pos) != 3)
		return failf(why, len, "/dev/mapper/%s: its table: %s", dev, e);
	table[strcspn(table, "\n")] = 0;
	k = tail ? strlen(tail) : 0;
	if ((uuid && strcmp(have, uuid)) || (!uuid && strncmp(have, "CRYPT-VERITY-", 13)) ||
	    strcmp(t, target) || length != sectors ||
	    (tail && !strcmp(target, "verity") && !strstr(table + pos, tail)) ||
	    (tail && strcmp(target, "verity") &&
	     (strlen(table + pos) < k || strcmp(table + pos + strlen(table + pos) - k, tail))))
		return failf(why, len, "/dev/mapper/%s exists, but not as this layer's shared part "
			     "(uuid '%s', table '%.200s'): refusing to use it", dev, have, table);
	return 0;
}

/*
 * Layer i (the file blob) through its shared parts: found when they are
 * there, else made from the bottom up (loop, dm-verity or tail, then zfile
 * or linear); its topmost part goes in l->part. The parts lock is held.
 */
static int dmstack_share_layer(struct dmstack *s, unsigned int i, const char *blob,
			       const struct dmstack_opts *o, struct dmstack_made *m, char *why,
			       size_t len)
{
	struct dmstack_layer *l = &s->layer[i];
	const struct layer_verity *v = o->verity && o->verity[i].set ? &o->verity[i] : NULL;
	char base[DMSTACK_NAME_MAX - 4], uuid[80], dev[DMSTACK_NAME_MAX],
	     u[OVBD_DM_UUID_MAX], root[2 * VERITY_DIGEST + 3], size[32], p[DMSTACK_LOWER_MAX + 32];
	char kind = l->zfile ? 'z' : v ? 'v' : 'l';
	struct dmstack_dev d = { 0 };
	u64 sectors;
	int r;

	if (dmstack_blob_key(blob, v, base, sizeof(base), uuid, sizeof(uuid), why, len))
		return dmstack_layer_fail(i, "", why, len);
	if (v) {
		root[0] = ' ';
		verity_hex(v->root, VERITY_DIGEST, root + 1);
		strcat(root, " ");
	}
	snprintf(size, sizeof(size), " %llu", (unsigned long long)l->file_size);
	snprintf(dev, sizeof(dev), "%s-%c", base, kind);
	snprintf(u, sizeof(u), "%s-%c", uuid, kind);
	sectors = kind == 'z' ? (l->content_size + 511) >> 9 :
		  kind == 'v' ? v->data_blocks * (v->data_block_size / DMSTACK_SECTOR) :
		  l->file_size / DMSTACK_SECTOR;
	r = dmstack_part_found(dev, kind == 'v' ? NULL : u, kind == 'v' ? "verity" : kind == 'z' ?
			       "zfile" : "linear", sectors, kind == 'v' ? root : kind == 'z' ? size : " 0",
			       why, len);
	if (r <= 0)
		goto found;
	/* what the top part reads: the verity or tail part (found or made), else a loop */
	snprintf(dev, sizeof(dev), "%s-%c", base, v ? 'v' : 't');
	snprintf(u, sizeof(u), "%s-t", uuid);
	r = 1;	/* kind 'v': the verity part itself was looked for above */
	if (v && kind != 'v')
		r = dmstack_part_found(dev, NULL, "verity",
				       v->data_blocks * (v->data_block_size / DMSTACK_SECTOR), root, why, len);
	else if (l->tail)
		r = dmstack_part_found(dev, u, "linear", l->file_size / DMSTACK_SECTOR + 1, NULL, why, len);
	if (r < 0)
		return dmstack_layer_fail(i, "", why, len);
	if (!r) {
		snprintf(l->lower, sizeof(l->lower), "/dev/mapper/%s", dev);
		l->verity = v;
	} else {
		if (loop_attach(blob, o->direct_io, l->lower, sizeof(l->lower), &m->fds[m->nfd], why, len))
			return dmstack_layer_fail(i, "", why, len);
		m->nfd++;
		if (v && dmstack_add_verity(s, i, v, dev, m, why, len))
			return -1;
		if (!v && l->tail && dmstack_add_tail(s, i, dev, u, m, why, len))
			return -1;
	}
	if (kind == 'v') {	/* an LSMT layer under dm-verity: the lsmt device reads it */
		snprintf(l->part, sizeof(l->part), "%s", dev);
		return 0;
	}
	snprintf(d.name, sizeof(d.name), "%s-%c", base, kind);
	d.layer = (int)i;
	snprintf(p, sizeof(p), "%s%s", l->lower, kind == 'z' ? size : " 0");
	dmstack_set_line(&d, 0, 0, sectors, kind == 'z' ? "zfile" : "linear", p);
	snprintf(u, sizeof(u), "%s-%c", uuid, kind);
	r = dmstack_create_explained(s, &d, u, m, why, len);
	free(d.params[0]);
	if (r)
		return -1;
	snprintf(l->part, sizeof(l->part), "%s", d.name);
	return 0;
found:
	if (r < 0)
		return dmstack_layer_fail(i, "", why, len);
	snprintf(l->part, sizeof(l->part), "%s", dev);
	l->verity = v;
	return 0;
}

/* A shared part: ours by uuid, or a dm-verity part by its name. */
static bool dmstack_is_shared(const char *dev, const char *uuid)
{
	return !strncmp(uuid, OVBD_UUID_BLOB, strlen(OVBD_UUID_BLOB)) ||
	       (!strncmp(uuid, "CRYPT-VERITY-", 13) &&
		!strncmp(dev, OVBD_BLOB_PREFIX, strlen(OVBD_BLOB_PREFIX)));
}

struct dmstack_parts {
	unsigned int n, cap;
	char (*dev)[OVBD_DM_NAME_MAX];
};

static int dmstack_collect_part(const char *dev, const char *uuid, void *arg)
{
	struct dmstack_parts *p = arg;

	if (!dmstack_is_shared(dev, uuid))
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->dev = xrealloc(p->dev, p->cap * sizeof(*p->dev));
	}
	snprintf(p->dev[p->n++], OVBD_DM_NAME_MAX, "%s", dev);
	return 0;
}

/* Remove the shared parts that nothing opens, holders before what they hold. The lock is held. */
static int dmstack_prune_locked(unsigned int *removed, char *why, size_t len)
{
	struct dmstack_parts p = { 0 };
	unsigned int i, n = 0;
	bool again = true;
	int ret = 0;

	if (dm_each(OVBD_UUID_BLOB, dmstack_collect_part, &p, why, len) ||
	    dm_each("CRYPT-VERITY-", dmstack_collect_part, &p, why, len))
		ret = -1;
	while (!ret && again) {
		again = false;
		for (i = 0; i < p.n; i++) {
			if (!p.dev[i][0] || dm_open_count(p.dev[i]) != 0)
				continue;	/* gone (-1), or used */
			if (dm_remove(p.dev[i], why, len)) {
				ret = -1;
				break;
			}
			p.dev[i][0] = 0;
			n++;
			again = true;
		}
	}
	free(p.dev);
	if (removed)
		*removed = n;
	return ret;
}

/* fn(arg) with the parts lock held. */
static int dmstack_under_lock(int (*fn)(void *arg, char *why, size_t len), void *arg, char *why,
			      size_t len)
{
	int fd = dmstack_lock(why, len), r;

	if (fd < 0)
		return -1;
	r = fn(arg, why, len);
	dmstack_unlock(fd);
	return r;
}

static int dmstack_prune_fn(void *removed, char *why, size_t len)
{
	return dmstack_prune_locked(removed, why, len);
}

int dmstack_prune(unsigned int *removed, char *why, size_t len)
{
	return dmstack_under_lock(dmstack_prune_fn, removed, why, len);
}

int dmstack_open(struct dmstack *s, const char *name, char **blobs, unsigned int n,
		 const struct dmstack_opts *o, char *why, size_t len)
{
	static struct dmstack_made m;
	char uuid[OVBD_DM_UUID_MAX];
	unsigned int i;
	int ret = -1, lock;

	memset(&m, 0, sizeof(m));
	if (dmstack_check_name(name, why, len))
		return -2;
	if (!dm_uuid(name, uuid, sizeof(uuid)))
		return failf(why, len, "/dev/mapper/%s exists already%s", name,
			     strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK)) ?
			     " (not made by ovbd)" : " (ovbd close it first)");
	if (dmstack_remove_leftovers(name, why, len) < 0)
		return -1;
	ret = dmstack_probe(s, name, blobs, n, why, len);	/* validates before creating */
	if (ret)
		return ret;
	lock = dmstack_lock(why, len);
	if (lock < 0)
		return -1;
	ret = -1;	/* a failure from here on rolls back and says so */
	dmstack_make_id(s, blobs, o->manifest);
	for (i = 0; i < n; i++) {
		struct dmstack_layer *l = &s->layer[i];
		struct stat st;
		bool dev = !stat(blobs[i], &st) && S_ISBLK(st.st_mode);

		if (o->verity && o->verity[i].set) {
			if (l->tail) {	/* verity needs a whole number of blocks: no partial sector */
				failf(why, len, "layer %u: a verified blob must be a multiple of 512 bytes", i);
				goto rollback;
			}
			/*
			 * the zfile target reads aligned to its lower device's
			 * blocks; the lsmt target reads an uncompressed payload
			 * at sector granularity, so it must start on a block
			 */
			if (!l->zfile && l->payload_off % o->verity[i].data_block_size) {
				failf(why, len, "layer %u: dm-verity data blocks of %u bytes, but its payload starts at byte %llu: reads would not be aligned to them",
				      i, o->verity[i].data_block_size, (unsigned long long)l->payload_off);
				goto rollback;
			}
		}
		if (!dev && l->lsmt && !o->private_parts) {
			if (dmstack_share_layer(s, i, blobs[i], o, &m, why, len))
				goto rollback;
			continue;
		}
		if (dev) {	/* an nbd device (--lazy): as it is */
			snprintf(l->lower, sizeof(l->lower), "%s", blobs[i]);
		} else {
			if (loop_attach(blobs[i], o->direct_io, l->lower, sizeof(l->lower), &m.fds[m.nfd],
					why, len)) {
				dmstack_layer_fail(i, "", why, len);
				goto rollback;
			}
			m.nfd++;
		}
		if (o->verity && o->verity[i].set &&
		    dmstack_add_verity(s, i, &o->verity[i], NULL, &m, why, len))
			goto rollback;
		if (l->tail && dmstack_add_tail(s, i, NULL, NULL, &m, why, len))
			goto rollback;
	}
	if ((ret = dmstack_render(s, why, len)))
		goto rollback;
	ret = -1;
	for (i = 0; i < s->ndev; i++)
		if (dmstack_create_explained(s, &s->dev[i], NULL, &m, why, len))
			goto rollback;
	dmstack_unlock(lock);
	for (i = 0; i < m.nfd; i++)	/* the dm devices hold the loops now */
		close(m.fds[i]);
	return 0;
rollback:
	dmstack_rollback(name, &m, why, len);
	dmstack_unlock(lock);
	dmstack_free(s);
	return ret;
}

int dmstack_retarget(struct dmstack *s, unsigned int i, const char *dev, char *why, size_t len)
{
	char was[DMSTACK_LOWER_MAX];
	unsigned int k;

	if (i >= s->nlayers)
		return failf(why, len, "%s: no layer %u", s->name, i);
	snprintf(was, sizeof(was), "%s", s->layer[i].lower);
	snprintf(s->layer[i].lower, sizeof(s->layer[i].lower), "%s", dev);
	if (dmstack_render(s, why, len))
		goto undo;
	/* the zfile device of a compressed layer reads it, else the top */
	for (k = 0; k < s->ndev; k++)
		if (s->dev[k].layer == (int)i || (s->dev[k].top && !s->layer[i].zfile))
			break;
	if (k == s->ndev) {
		failf(why, len, "%s: no device reads layer %u", s->name, i);
		goto undo;
	}
	if (!dm_reload(s->dev[k].name, s->dev[k].line, s->dev[k].nlines, why, len))
		return 0;
undo:
	snprintf(s->layer[i].lower, sizeof(s->layer[i].lower), "%s", was);
	dmstack_render(s, why + strlen(why), len - strlen(why));
	return -1;
}

/*
 * The handover of layer i onto the stored blob's shared parts: found or
 * made under the parts lock (with dm-verity from v where the layer has
 * it), the lsmt device reloaded onto them (its suspend drains the I/O in
 * flight), then the private parts that read the layer until now removed.
 * 0; 1 when a private part could not be removed (why says which; it goes
 * with the stack); -1 on failure, when nothing changed.
 */
int dmstack_share_handover(struct dmstack *s, unsigned int i, const char *blob,
			   const struct layer_verity *v, char *why, size_t len)
{
	static struct dmstack_made m;
	struct dmstack_opts o = { 0 };
	struct layer_verity *vs = NULL;
	struct dmstack_layer *l, saved;
	char old[3][DMSTACK_NAME_MAX + 8], u[OVBD_DM_UUID_MAX], rb[300];
	unsigned int k, nold = 0;
	int lock, ret = -1;

	if (i >= s->nlayers || !s->layer[i].lsmt || s->layer[i].part[0])
		return failf(why, len, "%s: layer %u has no private parts to hand over", s->name, i);
	l = &s->layer[i];
	memset(&m, 0, sizeof(m));
	if (v) {	/* dmstack_share_layer reads the verity of layer i from an array */
		vs = calloc(s->nlayers, sizeof(*vs));
		if (!vs)
			return failf(why, len, "out of memory");
		vs[i] = *v;
		vs[i].set = true;
		o.verity = vs;
	}
	/* what reads layer i now: its zfile part, and its verity or tail part */
	if (l->zfile)
		dmstack_private_name(old[nold++], sizeof(old[0]), s->name, 'z', i);
	dmstack_private_name(old[nold++], sizeof(old[0]), s->name, 'v', i);
	dmstack_private_name(old[nold++], sizeof(old[0]), s->name, 't', i);
	saved = *l;
	lock = dmstack_lock(why, len);
	if (lock < 0)
		goto out;
	if (dmstack_share_layer(s, i, blob, &o, &m, why, len) || dmstack_render(s, why, len))
		goto rollback;
	for (k = 0; k < s->ndev && !s->dev[k].top; k++)
		;
	if (k == s->ndev) {
		failf(why, len, "%s: no lsmt device", s->name);
		goto rollback;
	}
	if (dm_reload(s->dev[k].name, s->dev[k].line, s->dev[k].nlines, why, len))
		goto rollback;
	dmstack_unlock(lock);
	for (k = 0; k < m.nfd; k++)	/* the tables hold the loops now */
		close(m.fds[k]);
	l->verity = NULL;		/* vs goes; the shared part keeps what it needs */
	/* unused now; what cannot go now goes with the stack (dmstack_close) */
	ret = 0;
	for (k = 0; k < nold; k++)
		if (!dm_uuid(old[k], u, sizeof(u)) && dm_remove(old[k], rb, sizeof(rb)) && !ret) {
			failf(why, len, "%s stays until close: %s", old[k], dmstack_one_line(rb));
			ret = 1;
		}
	goto out;
rollback:
	dmstack_rollback(s->name, &m, why, len);
	dmstack_unlock(lock);
	*l = saved;
	dmstack_render(s, why + strlen(why), len - strlen(why));
out:
	free(vs);
	return ret;
}

/* ---- the record, status and removal */

static void dmstack_record_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, OVBD_RUN_DIR "/%s.image", name);
}

int dmstack_record_image(const char *name, const char *ref, const char *manifest, char *why,
			 size_t len)
{
	char path[256], tmp[300];
	FILE *f;

	dmstack_record_path(path, sizeof(path), name);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	if (mkdir(OVBD_RUN_DIR, 0700) && errno != EEXIST)
		return failf(why, len, OVBD_RUN_DIR ": %s", strerror(errno));
	f = fopen(tmp, "w");
	if (!f)
		return failf(why, len, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%.200s %s\n", ref, manifest);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return failf(why, len, "%s: %s", path, strerror(errno));
	}
	return 0;
}

bool dmstack_image(const char *name, char *ref, size_t reflen, char *manifest, size_t mlen)
{
	char path[256], r[300], d[100];
	bool ok = false;
	FILE *f;

	dmstack_record_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%299s %99s", r, d) == 2) {
			snprintf(ref, reflen, "%s", r);
			snprintf(manifest, mlen, "%s", d);
			ok = true;
		}
		fclose(f);
	}
	return ok;
}

void dmstack_forget_image(const char *name)
{
	char path[256];

	dmstack_record_path(path, sizeof(path), name);
	unlink(path);
}

/* dmstack_close() with the parts lock held (arg: NAME). */
static int dmstack_close_locked(void *arg, char *why, size_t len)
{
	const char *name = arg;
	char uuid[OVBD_DM_UUID_MAX], path[256];
	unsigned int pruned = 0;
	bool found = false;
	int r;

	if (!dm_uuid(name, uuid, sizeof(uuid))) {
		if (strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK)))
			return failf(why, len, "/dev/mapper/%s was not made by ovbd (uuid '%s')", name, uuid);
		if (dmstack_remove_tree(name, name, 0, why, len))
			return -1;
		found = true;
	}
	r = dmstack_remove_leftovers(name, why, len);	/* what a killed open left */
	/*
	 * The shared parts that this close (or a killed open or close) left
	 * unused; what a killed run left counts as found: the close finishes it.
	 */
	if (r < 0 || dmstack_prune_locked(&pruned, why, len))
		return -1;
	r += (int)pruned;
	dmstack_record_path(path, sizeof(path), name);
	if (!unlink(path) && !found && !r)
		return 0;	/* a stale record only */
	return !found && !r ? 1 : 0;
}

int dmstack_close(const char *name, char *why, size_t len)
{
	return dmstack_under_lock(dmstack_close_locked, (void *)name, why, len);
}

bool dmstack_exists(const char *name, char *uuid, size_t len)
{
	return !dm_uuid(name, uuid, len) && !strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK));
}

static void dmstack_dev_node(unsigned int ma, unsigned int mi, char *out, size_t len)
{
	char link[128], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", ma, mi);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		snprintf(out, len, "/dev/%s", strrchr(target, '/') + 1);
	} else {
		snprintf(out, len, "%u:%u", ma, mi);
	}
}

static int dmstack_by_string(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
		      json_object_get_string(*(struct json_object *const *)b));
}

/* The first line of the sysfs file dir/what into buf ("" if none). */
static void dmstack_sys_line(const char *dir, const char *what, char *buf, size_t len)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, what);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f))
		buf[0] = 0;
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/* Add to arr the stacks above the block device whose sysfs directory is sysdir, by its holders. */
static void dmstack_users(const char *sysdir, struct json_object *arr, int depth)
{
	char path[600], uuid[OVBD_DM_UUID_MAX], name[OVBD_DM_NAME_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/holders", sysdir);
	d = depth < 5 ? opendir(path) : NULL;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			char hdir[256];

			snprintf(hdir, sizeof(hdir), "/sys/class/block/%.200s", e->d_name);
			dmstack_sys_line(hdir, "dm/uuid", uuid, sizeof(uuid));
			dmstack_sys_line(hdir, "dm/name", name, sizeof(name));
			if (!strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK)))
				json_object_array_add(arr, json_object_new_string(name));
			else
				dmstack_users(hdir, arr, depth + 1);
		}
	closedir(d);
}

/* Add what dev's table uses to arr: parts (with their status) and loops (with their files). */
static void dmstack_describe_deps(const char *dev, struct json_object *arr, int depth)
{
	unsigned int ma[DMSTACK_MAX_DEVS], mi[DMSTACK_MAX_DEVS], n, i;
	char why[300];

	if (depth > 3 || dm_deps(dev, ma, mi, DMSTACK_MAX_DEVS, &n, why, sizeof(why)))
		return;
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		char name[OVBD_DM_NAME_MAX], file[4096], status[4096], node[300];

		dmstack_dev_node(ma[i], mi[i], node, sizeof(node));
		if (dm_name_of(ma[i], mi[i], name, sizeof(name))) {
			char uuid[OVBD_DM_UUID_MAX];

			json_object_object_add(o, "kind", json_object_new_string("dm"));
			json_object_object_add(o, "name", json_object_new_string(name));
			if (!dm_uuid(name, uuid, sizeof(uuid)) && dmstack_is_shared(name, uuid)) {
				struct json_object *users = json_object_new_array();
				char sys[64];

				/* a blob's part: which stacks use it */
				snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", ma[i], mi[i]);
				dmstack_users(sys, users, 0);
				json_object_array_sort(users, dmstack_by_string);
				json_object_object_add(o, "shared", json_object_new_boolean(
					json_object_array_length(users) > 1));
				json_object_object_add(o, "used_by", users);
			}
			if (!dm_query(name, false, status, sizeof(status), why, sizeof(why))) {
				char kind[32] = "", v = 0;

				json_object_object_add(o, "status",
						       json_object_new_string(dmstack_one_line(status)));
				/* dm-verity's status: V (every block read so far verified) or C (one failed) */
				if (sscanf(status, "%*u %*u %31s %c", kind, &v) == 2 && !strcmp(kind, "verity"))
					json_object_object_add(o, "verity", json_object_new_string(
						v == 'V' ? "verified" : v == 'C' ? "corrupted" : "unknown"));
			}
			json_object_array_add(arr, o);
			dmstack_describe_deps(name, arr, depth + 1);
			continue;
		}
		/* nbd: a layer read from the registry during open --lazy */
		json_object_object_add(o, "kind", json_object_new_string(strncmp(node, "/dev/nbd", 8) ?
									   "loop" : "nbd"));
		json_object_object_add(o, "device", json_object_new_string(node));
		if (loop_backing_file(ma[i], mi[i], file, sizeof(file)))
			json_object_object_add(o, "file", json_object_new_string(file));
		json_object_array_add(arr, o);
	}
}

struct json_object *dmstack_describe(const char *name, const char *uuid)
{
	static const char *const counter[] = { "layers", "sectors", "segments", "reads",
					       "remapped", "zero_filled", "io_errors" };
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();
	char status[4096], why[300], line[600], ref[300], digest[100];
	unsigned long long f[7];
	unsigned int k;

	json_object_object_add(o, "name", json_object_new_string(name));
	snprintf(line, sizeof(line), "/dev/mapper/%s", name);
	json_object_object_add(o, "device", json_object_new_string(line));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	if (dmstack_image(name, ref, sizeof(ref), digest, sizeof(digest))) {
		json_object_object_add(o, "image", json_object_new_string(ref));
		json_object_object_add(o, "manifest", json_object_new_string(digest));
	}
	if (!dm_query(name, false, status, sizeof(status), why, sizeof(why))) {
		json_object_object_add(o, "status", json_object_new_string(dmstack_one_line(status)));
		if (sscanf(status, "%*u %*u lsmt %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
			   &f[3], &f[4], &f[5], &f[6]) == 7)
			for (k = 0; k < 7; k++)
				json_object_object_add(o, counter[k], json_object_new_int64((int64_t)f[k]));
	}
	dmstack_describe_deps(name, devs, 0);
	json_object_object_add(o, "devices", devs);
	return o;
}
