// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: pull and push of OverlayBD images (pull.h). */
#include "pull.h"
#include "blob.h"
#include "jsonfile.h"
#include "oci.h"
#include "registry.h"
#include "regconf.h"
#include "util.h"
#include "vimage.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#define PULL_THREADS	4

static u64 pull_jsize(struct json_object *o)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "size", &v) ? (u64)json_object_get_int64(v) : 0;
}

static void pull_say(const struct xfer_notes *nt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pull_say(const struct xfer_notes *nt, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!nt || !nt->line)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nt->line(nt->arg, msg);
}

static void pull_bytes(const struct xfer_notes *nt, u64 n)
{
	if (nt && nt->bytes)
		nt->bytes(nt->arg, n);
}

/* The registry client's progress callback: bytes as they arrive. */
static void pull_on_progress(void *arg, uint64_t bytes)
{
	pull_bytes(arg, bytes);
}

/*
 * A layer's dm-verity tree, made as its blob streams in (reg_tap): the blob
 * is stored only when the tree's root hash is the manifest's. The hashing
 * runs in a thread of its own, fed 1 MiB chunks through a ring of
 * PT_CHUNKS, so that it overlaps the download and the blob's sha256
 * instead of adding to them (bench/analysis.md).
 */
#define PT_CHUNKS	8
#define PT_CHUNK	(1u << 20)

struct pull_tree {
	struct verity_builder vb;
	const struct layer_verity *want;
	char tmp[4200];
	int fd;
	bool begun;
	u8 root[VERITY_DIGEST];
	/* the hashing thread and its ring: under mu */
	pthread_t th;
	bool running, closing, failed;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	u8 *chunk[PT_CHUNKS];
	size_t fill[PT_CHUNKS];
	unsigned int head, count;	/* head: the next chunk to hash; count: chunks queued */
	char why[300];
};

static void *pull_tree_thread(void *arg)
{
	struct pull_tree *t = arg;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		unsigned int k;

		while (!t->count && !t->closing)
			pthread_cond_wait(&t->cv, &t->mu);
		if (!t->count)
			break;
		k = t->head;
		pthread_mutex_unlock(&t->mu);
		/* after a failure the chunks are only drained (failed is only set here) */
		if (!t->failed && verity_update(&t->vb, t->chunk[k], t->fill[k], t->why, sizeof(t->why))) {
			pthread_mutex_lock(&t->mu);
			t->failed = true;
			pthread_mutex_unlock(&t->mu);
		}
		pthread_mutex_lock(&t->mu);
		t->fill[k] = 0;
		t->head = (t->head + 1) % PT_CHUNKS;
		t->count--;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Queue the chunk being filled (the one after the queued ones), waiting for room: -1 once hashing failed. */
static int pull_tree_queue(struct pull_tree *t)
{
	bool failed;

	pthread_mutex_lock(&t->mu);
	t->count++;
	pthread_cond_broadcast(&t->cv);
	while (t->count == PT_CHUNKS)
		pthread_cond_wait(&t->cv, &t->mu);
	failed = t->failed;
	pthread_mutex_unlock(&t->mu);
	return failed ? -1 : 0;
}

static int pull_tree_data(void *arg, const void *buf, size_t n)
{
	struct pull_tree *t = arg;
	const u8 *p = buf;

	while (n) {
		unsigned int k = (t->head + t->count) % PT_CHUNKS;	/* only this thread adds */
		size_t take = PT_CHUNK - t->fill[k] < n ? PT_CHUNK - t->fill[k] : n;

		memcpy(t->chunk[k] + t->fill[k], p, take);
		t->fill[k] += take;
		p += take;
		n -= take;
		if (t->fill[k] == PT_CHUNK && pull_tree_queue(t))
			return -1;
	}
	return 0;
}

/* Hash what is left and stop the thread: the tree has every byte it was given. */
static void pull_tree_stop(struct pull_tree *t)
{
	if (!t->running)
		return;
	if (t->fill[(t->head + t->count) % PT_CHUNKS])
		pull_tree_queue(t);
	pthread_mutex_lock(&t->mu);
	t->closing = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	t->running = false;
}

static int pull_tree_verdict(void *arg, char *why, size_t len)
{
	struct pull_tree *t = arg;
	char got[VERITY_HEX_ROOT], want[VERITY_HEX_ROOT];

	pull_tree_stop(t);
	if (t->failed)
		return failf(why, len, "its dm-verity tree: %s", t->why);
	t->begun = false;
	if (verity_finish(&t->vb, t->root, why, len))
		return -1;
	if (memcmp(t->root, t->want->root, VERITY_DIGEST)) {
		verity_hex(t->root, VERITY_DIGEST, got);
		verity_hex(t->want->root, VERITY_DIGEST, want);
		return failf(why, len, "its dm-verity root hash is %s, the manifest's %s: refused, nothing stored",
			     got, want);
	}
	return 0;
}

static int pull_tree_end(struct pull_tree *t, struct oci_layout *lay, bool keep, char *tree_digest,
			 u64 *tree_size, char *why, size_t len);

/* Start t for a blob of size bytes in the store dir. */
static int pull_tree_begin(struct pull_tree *t, const struct layer_verity *want, const char *dir,
			   u64 size, char *why, size_t len)
{
	unsigned int k;

	memset(t, 0, sizeof(*t));
	t->want = want;
	snprintf(t->tmp, sizeof(t->tmp), "%s/blobs/sha256/.verity.XXXXXX", dir);
	t->fd = mkstemp(t->tmp);
	if (t->fd < 0)
		return failf(why, len, "%s: %s", t->tmp, strerror(errno));
	if (verity_begin(&t->vb, size, want->data_block_size, want->salt, want->salt_size, t->fd, t->tmp,
			 why, len)) {
		close(t->fd);
		unlink(t->tmp);
		return -1;
	}
	t->begun = true;
	for (k = 0; k < PT_CHUNKS; k++)
		t->chunk[k] = xmalloc(PT_CHUNK);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->running = !pthread_create(&t->th, NULL, pull_tree_thread, t);
	if (!t->running) {
		failf(why, len, "a thread for its dm-verity tree: %s", strerror(errno));
		pull_tree_end(t, NULL, false, NULL, NULL, why + strlen(why), len - strlen(why));
		return -1;
	}
	return 0;
}

/* Store t's tree as a blob of the layout lay (tree_digest, tree_size), and drop the temporary. */
static int pull_tree_end(struct pull_tree *t, struct oci_layout *lay, bool keep, char *tree_digest,
			 u64 *tree_size, char *why, size_t len)
{
	unsigned int k;
	int r = 0;

	pull_tree_stop(t);	/* a download that failed: the verdict never came */
	for (k = 0; k < PT_CHUNKS; k++)
		free(t->chunk[k]);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	if (t->begun)
		verity_abort(&t->vb);
	if (keep)
		r = fsync(t->fd) ? failf(why, len, "%s: %s", t->tmp, strerror(errno)) :
		    oci_put_file(lay, t->tmp, tree_digest, tree_size, why, len);
	close(t->fd);
	unlink(t->tmp);
	return r;
}

/*
 * Fetch one blob into the store, unless it is there already: 0, or -1 with
 * err set. With want (a layer of a verified image), its tree is made as it
 * streams (or from the stored blob) and stored in lay, and a blob whose root
 * hash is not want's is refused.
 */
static int pull_fetch_blob(struct reg_client *c, const struct xfer_notes *nt, struct oci_layout *lay,
			   const char *what, const char *digest, u64 size,
			   const struct layer_verity *want, char *tree_digest, u64 *tree_size,
			   char *err, size_t errlen)
{
	char path[4096], why[1024];
	struct reg_tap tap = { pull_tree_data, pull_tree_verdict, NULL };
	struct pull_tree t;
	struct stat st;
	u64 got;
	int r;

	if (!oci_digest_ok(digest))
		return failf(err, errlen, "%s/%s: %s digest '%.80s': expected sha256: and 64 hex digits",
			     c->ref.host, c->ref.repo, what, digest ? digest : "none");
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", lay->dir, digest + 7);
	if (!stat(path, &st) && (u64)st.st_size == size) {	/* stored, and checked when it was */
		pull_bytes(nt, size);
		if (want && want->set) {	/* its tree, from the stored bytes: they must give the root */
			struct layer_verity made;

			if (vimage_make_tree(lay, digest, want->data_block_size, want->salt, &made,
					     tree_digest, tree_size, why, sizeof(why)))
				return failf(err, errlen, "%s: %s", what, why);
			if (memcmp(made.root, want->root, VERITY_DIGEST))
				return failf(err, errlen, "%s %.19s...: the stored blob's dm-verity root hash is not the manifest's: remove it (ovbd gc) and pull again",
					     what, digest);
		}
		pull_say(nt, "%s %.19s...: present%s", what, digest,
			 want && want->set ? ", dm-verity root hash checked" : "");
		return 0;
	}
	if (want && want->set) {
		if (pull_tree_begin(&t, want, lay->dir, size, why, sizeof(why)))
			return failf(err, errlen, "%s: %s", what, why);
		tap.arg = &t;
	}
	r = reg_get_blob(c, digest, size, path, tap.arg ? &tap : NULL, &got, why, sizeof(why));
	if (r)
		failf(err, errlen, "%s/%s: %s: %s", c->ref.host, c->ref.repo, what, why);
	if (tap.arg && pull_tree_end(&t, lay, !r, tree_digest, tree_size, why, sizeof(why)) && !r) {
		unlink(path);
		return failf(err, errlen, "%s: %s", what, why);
	}
	if (r)
		return -1;
	pull_say(nt, "%s %.19s...: %llu bytes fetched, sha256%s checked", what, digest,
		 (unsigned long long)got, tap.arg ? " and dm-verity root hash" : "");
	return 0;
}

int pull_blob(struct reg_client *c, struct oci_layout *lay, const char *digest, uint64_t size,
	      const struct layer_verity *want, char *tree_digest, uint64_t *tree_size, char *why,
	      size_t len)
{
	return pull_fetch_blob(c, NULL, lay, "blob", digest, size, want, tree_digest, tree_size, why,
			       len);
}

/* The blobs of one pull, fetched by up to PULL_THREADS threads. */
struct pull_job {
	struct reg_client *client;
	struct oci_layout *lay;
	const struct xfer_notes *notes;
	const char *dir;
	unsigned int n;
	/* a layer recompressed in transit: fetched, then stored decompressed as want */
	bool unpack[OVBD_LSMT_MAX_LAYERS + 1];
	const char *want[OVBD_LSMT_MAX_LAYERS + 1];
	u64 usize[OVBD_LSMT_MAX_LAYERS + 1];
	const char *what[OVBD_LSMT_MAX_LAYERS + 1];
	const char *digest[OVBD_LSMT_MAX_LAYERS + 1];
	u64 size[OVBD_LSMT_MAX_LAYERS + 1];
	/* a verified image's layers: what the manifest says, and the trees made */
	struct layer_verity verity[OVBD_LSMT_MAX_LAYERS + 1];
	char tree[OVBD_LSMT_MAX_LAYERS + 1][OCI_DIGEST_LEN + 1];
	u64 tree_size[OVBD_LSMT_MAX_LAYERS + 1];
	unsigned int next;		/* under lock */
	int failed;			/* set under lock, read atomically: downloads stop */
	char err[4096];			/* the first failure's message, under lock */
	pthread_mutex_t lock;
};

/*
 * A layer recompressed in transit: fetch the compressed stream (checked
 * against its descriptor), decompress it into the store, checked against
 * what the image says the layer is (its annotation, or the config's
 * diff_id), and keep it only if it is an OverlayBD blob.
 */
static int pull_fetch_unpacked(struct reg_client *c, struct pull_job *j, unsigned int i,
			       char *err, size_t errlen)
{
	char zpath[4096], path[4096], why[1024];
	struct blob b;
	struct stat st;

	if (!oci_digest_ok(j->want[i]))
		return failf(err, errlen, "%s: the uncompressed digest '%.80s' is no sha256", j->what[i],
			     j->want[i] ? j->want[i] : "none");
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", j->dir, j->want[i] + 7);
	if (!stat(path, &st)) {
		j->usize[i] = (u64)st.st_size;
		pull_say(j->notes, "%s %.19s...: present (decompressed)", j->what[i], j->want[i]);
		return 0;
	}
	if (pull_fetch_blob(c, j->notes, j->lay, j->what[i], j->digest[i], j->size[i], NULL, NULL,
			    NULL, err, errlen))
		return -1;
	snprintf(zpath, sizeof(zpath), "%s/blobs/sha256/%s", j->dir, j->digest[i] + 7);
	if (oci_put_decompressed(j->lay, zpath, j->want[i], &j->usize[i], why, sizeof(why)))
		return failf(err, errlen, "%s: %s", j->what[i], why);
	unlink(zpath);
	if (blob_open(&b, path) || !b.tar) {
		blob_close(&b);
		unlink(path);
		return failf(err, errlen, "%s: decompressed, it is no tar-wrapped OverlayBD blob but an ordinary image layer: convert the image first",
			     j->what[i]);
	}
	blob_close(&b);
	pull_say(j->notes, "%s: recompressed in transit, stored decompressed as %.19s... (%llu bytes, sha256 checked)",
		 j->what[i], j->want[i], (unsigned long long)j->usize[i]);
	return 0;
}

static bool pull_compressed_layer(const char *mt)
{
	return strstr(mt, "+gzip") || strstr(mt, "+zstd") || strstr(mt, "tar.gzip");
}

/* The first failure of a download thread: kept, and the others stop. */
static void pull_job_fail(struct pull_job *j, const char *err)
{
	pthread_mutex_lock(&j->lock);
	if (!j->failed) {
		snprintf(j->err, sizeof(j->err), "%s", err);
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&j->lock);
}

static void *pull_worker(void *arg)
{
	struct pull_job *j = arg;
	struct reg_client c;
	char err[4096];

	if (reg_clone(&c, j->client)) {
		pull_job_fail(j, "out of memory");
		return NULL;
	}
	c.cancel = &j->failed;
	for (;;) {
		unsigned int i;

		pthread_mutex_lock(&j->lock);
		i = j->failed ? j->n : j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->n)
			break;
		/* a failure ends the pull; finished blobs stay, partial ones resume */
		if (j->unpack[i] ? pull_fetch_unpacked(&c, j, i, err, sizeof(err)) :
		    pull_fetch_blob(&c, j->notes, j->lay, j->what[i], j->digest[i], j->size[i],
				    &j->verity[i], j->tree[i], &j->tree_size[i], err, sizeof(err))) {
			pull_job_fail(j, err);
			break;
		}
	}
	reg_close(&c);
	return NULL;
}

static int pull_fetch_all(struct pull_job *j, char *why, size_t len)
{
	pthread_t t[PULL_THREADS];
	unsigned int k, nt = j->n < PULL_THREADS ? j->n : PULL_THREADS;

	pthread_mutex_init(&j->lock, NULL);
	for (k = 0; k < nt; k++)
		if (pthread_create(&t[k], NULL, pull_worker, j)) {
			pull_job_fail(j, "cannot start a download thread");
			break;
		}
	nt = k;
	for (k = 0; k < nt; k++)
		pthread_join(t[k], NULL);
	pthread_mutex_destroy(&j->lock);
	return j->failed ? failf(why, len, "%s", j->err) : 0;
}

/* Fetch and parse the manifest named reference into *man and *body. */
static int pull_get_manifest(struct reg_client *c, const char *refstr, const char *reference,
			     struct json_object **man, char **body, size_t *n, char *mt, size_t mtlen,
			     char *digest, char *why, size_t len)
{
	char err[1024];

	*man = NULL;
	*body = NULL;
	if (reg_get_manifest(c, reference, body, n, mt, mtlen, digest, err, sizeof(err)))
		return failf(why, len, "pull %s: %s", refstr, err);
	*man = json_tokener_parse(*body);
	if (!*man || !json_object_is_type(*man, json_type_object)) {
		json_object_put(*man);
		*man = NULL;
		free(*body);
		*body = NULL;
		return failf(why, len, "pull %s: the manifest is not a JSON object", refstr);
	}
	return 0;
}

int ovbd_pull_manifest(struct reg_client *c, const char *refstr, struct json_object **man,
		       char **body, size_t *n, char *digest, char *why, size_t len)
{
	const struct reg_ref *ref = &c->ref;
	struct json_object *list;
	char mt[256], cdigest[80];
	const char *pick;

	if (pull_get_manifest(c, refstr, ref->digest[0] ? ref->digest : ref->tag, man, body, n, mt,
			      sizeof(mt), digest, why, len))
		return -1;
	if (!strstr(mt, "index") && !strstr(mt, "manifest.list") &&
	    !json_object_object_get_ex(*man, "manifests", &list))
		return 0;
	/* an index: its linux/amd64 manifest */
	if (!json_object_object_get_ex(*man, "manifests", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		failf(why, len, "pull %s: an image index without manifests", refstr);
		goto bad;
	}
	pick = oci_platform_digest(list);
	if (!oci_digest_ok(pick)) {
		failf(why, len, "pull %s: the image index has no linux/amd64 manifest", refstr);
		goto bad;
	}
	snprintf(cdigest, sizeof(cdigest), "%s", pick);
	json_object_put(*man);
	free(*body);
	return pull_get_manifest(c, refstr, cdigest, man, body, n, mt, sizeof(mt), digest, why, len);
bad:
	json_object_put(*man);
	free(*body);
	*man = NULL;
	*body = NULL;
	return -1;
}

int pull_open_manifest(const char *refstr, bool plain_http, struct reg_client *c,
		       struct json_object **man, char **body, size_t *n, char *digest, char *why,
		       size_t len)
{
	static struct reg_source src[REGCONF_MAX_SOURCES];
	char err[1024], tried[2048] = "";
	unsigned int ns, i;

	if (regconf_sources(refstr, src, REGCONF_MAX_SOURCES, &ns, err, sizeof(err)))
		return failf(why, len, "%s", err);
	for (i = 0; i < ns; i++) {
		if (regconf_open(c, &src[i], plain_http, err, sizeof(err)))
			return failf(why, len, "%s", err);
		if (!ovbd_pull_manifest(c, src[i].name, man, body, n, digest, err, sizeof(err)))
			return 0;
		reg_close(c);
		if (ns == 1)
			return failf(why, len, "%s", err);
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s", i ? "; " : "", err);
	}
	return failf(why, len, "%s: every source failed: %s", refstr, tried);
}

/*
 * Refuse before any download what cannot be an OverlayBD image. A
 * compressed layer may be one recompressed in transit: decided once it is
 * decompressed.
 */
static int pull_check_layers(struct json_object *layers, const char *refstr, char *why,
			     size_t len)
{
	size_t i;

	for (i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a;
		const char *lmt = oci_jstr(l, "mediaType") ? oci_jstr(l, "mediaType") : "no mediaType";
		const char *d = oci_jstr(l, "digest") ? oci_jstr(l, "digest") : "no digest";

		if (pull_compressed_layer(lmt))
			continue;
		if (!strstr(lmt, "tar") || strchr(lmt, '+'))
			return failf(why, len, "pull %s: layer %zu (%.80s): an unsupported mediaType %.80s",
				     refstr, i, d, lmt);
		if (!json_object_object_get_ex(l, "annotations", &a) || !oci_jstr(a, OVBD_ANN_DIGEST))
			return failf(why, len, "pull %s: layer %zu (%.80s, %.80s) has no %s annotation: not an OverlayBD image (convert it first)",
				     refstr, i, d, lmt, OVBD_ANN_DIGEST);
	}
	return 0;
}

/* The manifest's descriptors of the layers that were stored decompressed, as they are stored. */
static void pull_rewrite_unpacked(struct json_object *layers, const struct pull_job *j)
{
	unsigned int i;

	for (i = 0; i < j->n; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a;
		char sz[24];

		if (!j->unpack[i])
			continue;
		snprintf(sz, sizeof(sz), "%llu", (unsigned long long)j->usize[i]);
		json_object_object_add(l, "mediaType", json_object_new_string(OCI_MT_LAYER_TAR));
		json_object_object_add(l, "digest", json_object_new_string(j->want[i]));
		json_object_object_add(l, "size", json_object_new_int64((int64_t)j->usize[i]));
		if (!json_object_object_get_ex(l, "annotations", &a)) {
			a = json_object_new_object();
			json_object_object_add(l, "annotations", a);
		}
		json_object_object_add(a, OVBD_ANN_DIGEST, json_object_new_string(j->want[i]));
		json_object_object_add(a, OVBD_ANN_SIZE, json_object_new_string(sz));
	}
}

/* ovbd_pull from one source, the registry client c (closed here). */
static int pull_from(struct reg_client *c_, const char *refstr, const char *dir,
		     const struct pull_opts *o, char *oci_ref, size_t len, char *manifest_digest,
		     char *why, size_t wlen)
{
	static struct pull_job job;
	static char names[OVBD_LSMT_MAX_LAYERS][24];
	const struct xfer_notes *nt = o->notes;
	struct json_object *man = NULL, *layers, *cfg, *config = NULL, *diff_ids = NULL, *rootfs;
	char err[1024], digest[80], cpath[4096];
	struct reg_client c = *c_;
	struct oci_layout lay = { 0 };
	const struct reg_ref ref = c_->ref;
	bool any_unpack = false, any_verity = false, opened = false;
	char *body = NULL;
	size_t n, i;
	u64 total;
	int ret = -1;

	if (ovbd_pull_manifest(&c, refstr, &man, &body, &n, digest, why, wlen))
		goto out;
	if (!json_object_object_get_ex(man, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) || !json_object_array_length(layers) ||
	    json_object_array_length(layers) > OVBD_LSMT_MAX_LAYERS) {
		failf(why, wlen, "pull %s: a manifest with 1..255 layers expected", refstr);
		goto out;
	}
	if (!o->any_image && pull_check_layers(layers, refstr, why, wlen))
		goto out;
	if (oci_layout_open(&lay, dir, why, wlen))
		goto out;
	opened = true;
	if (!json_object_object_get_ex(man, "config", &cfg)) {
		failf(why, wlen, "pull %s: a manifest without a config", refstr);
		goto out;
	}
	/* the config first (its diff_ids), then the layers in parallel */
	memset(&job, 0, sizeof(job));
	job.client = &c;
	job.lay = &lay;
	job.notes = nt;
	job.dir = lay.dir;
	total = pull_jsize(cfg);
	for (i = 0; i < json_object_array_length(layers); i++)
		total += pull_jsize(json_object_array_get_idx(layers, i));
	if (nt && nt->total)
		nt->total(nt->arg, total);
	if (pull_fetch_blob(&c, nt, &lay, "config", oci_jstr(cfg, "digest"), pull_jsize(cfg), NULL,
			    NULL, NULL, why, wlen))
		goto out;
	snprintf(cpath, sizeof(cpath), "%s/blobs/sha256/%s", lay.dir, oci_jstr(cfg, "digest") + 7);
	config = json_file_object(cpath, 4u << 20, err, sizeof(err));
	if (config && json_object_object_get_ex(config, "rootfs", &rootfs))
		json_object_object_get_ex(rootfs, "diff_ids", &diff_ids);
	for (i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a, *d;
		const char *lmt = oci_jstr(l, "mediaType") ? oci_jstr(l, "mediaType") : "";

		snprintf(names[i], sizeof(names[i]), "layer %u", (unsigned int)i);
		job.what[i] = names[i];
		job.digest[i] = oci_jstr(l, "digest");
		job.size[i] = pull_jsize(l);
		if (!o->any_image && vimage_desc_verity(l, job.size[i], &job.verity[i], err, sizeof(err))) {
			failf(why, wlen, "pull %s: layer %zu: %s", refstr, i, err);
			goto out;
		}
		any_verity |= job.verity[i].set;
		if (!pull_compressed_layer(lmt) || o->any_image)	/* stored as it is */
			continue;
		/* what the layer is, uncompressed: the annotation, else the diff_id */
		job.unpack[i] = any_unpack = true;
		if (json_object_object_get_ex(l, "annotations", &a) && oci_jstr(a, OVBD_ANN_DIGEST)) {
			job.want[i] = oci_jstr(a, OVBD_ANN_DIGEST);
		} else if (diff_ids && (d = json_object_array_get_idx(diff_ids, i))) {
			job.want[i] = json_object_get_string(d);
		} else {
			failf(why, wlen, "pull %s: layer %zu is compressed, and neither an annotation nor the config names its uncompressed digest",
			      refstr, i);
			goto out;
		}
	}
	job.n = (unsigned int)i;
	c.progress = nt && nt->bytes ? pull_on_progress : NULL;
	c.progress_arg = (void *)nt;
	if (pull_fetch_all(&job, why, wlen))
		goto out;
	if (any_unpack) {	/* the manifest of what is stored: uncompressed OverlayBD blobs */
		pull_rewrite_unpacked(layers, &job);
		free(body);
		body = strdup(json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!body) {
			failf(why, wlen, "out of memory");
			goto out;
		}
		n = strlen(body);
	}
	/* the manifest last, so that a tag only ever names a complete image */
	if (oci_put_bytes(&lay, body, n, digest, why, wlen))
		goto out;
	if (any_verity) {	/* the trees made as the blobs came: where open finds them */
		const char *bd[OVBD_LSMT_MAX_LAYERS], *td[OVBD_LSMT_MAX_LAYERS];

		for (i = 0; i < job.n; i++) {
			bd[i] = job.digest[i];
			td[i] = job.verity[i].set && job.tree[i][0] ? job.tree[i] : NULL;
		}
		if (vimage_put_artifact(&lay, digest, n, bd, td, job.tree_size, job.n, why, wlen))
			goto out;
	}
	if (oci_tag(&lay, ref.digest[0] ? ref.digest : ref.tag, digest, n, why, wlen))
		goto out;
	snprintf(oci_ref, len, "oci:%s:%s", lay.dir, ref.digest[0] ? ref.digest : ref.tag);
	if (manifest_digest)
		snprintf(manifest_digest, OCI_DIGEST_LEN + 1, "%.*s", OCI_DIGEST_LEN, digest);
	ret = 0;
out:
	json_object_put(config);
	json_object_put(man);
	free(body);
	if (opened)
		oci_layout_close(&lay);
	reg_close(&c);
	return ret;
}

int ovbd_pull(const char *refstr, const char *dir, const struct pull_opts *o, char *oci_ref,
	      size_t len, char *manifest_digest, char *why, size_t wlen)
{
	static struct reg_source src[REGCONF_MAX_SOURCES];
	char err[1024], tried[2048] = "";
	struct reg_client c;
	unsigned int n, i;

	int r = regconf_sources(refstr, src, REGCONF_MAX_SOURCES, &n, err, sizeof(err));

	if (r == -2)
		return failu(why, wlen, "pull: %s", err);
	if (r)
		return failf(why, wlen, "pull %s: %s", refstr, err);
	/*
	 * Each source in turn: its mirrors, then the registry. What one
	 * source served and the next verifies stays (finished blobs are
	 * kept, each checked against its digest and root hash), so a mirror
	 * that is down, lacks the image or serves a tampered blob costs only
	 * what it failed to serve.
	 */
	for (i = 0; i < n; i++) {
		if (regconf_open(&c, &src[i], o->plain_http, err, sizeof(err)) ||
		    pull_from(&c, src[i].name, dir, o, oci_ref, len, manifest_digest, err, sizeof(err))) {
			if (n == 1)
				return failf(why, wlen, "%s", err);
			snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s", i ? "; " : "", err);
			if (o->notes && i + 1 < n)
				pull_say(o->notes, "pull %s: %s%s failed, trying %s", refstr,
					 src[i].mirror ? "the mirror " : "", src[i].name, src[i + 1].name);
			continue;
		}
		return 0;
	}
	return failf(why, wlen, "pull %s: every source failed: %s", refstr, tried);
}

/*
 * Push the manifest mdigest of the layout dir under reference (a tag):
 * the blobs the registry lacks (config, then layers), then the manifest.
 * what names it in messages ("" for the image, "verity " for its trees).
 */
static int push_manifest(struct reg_client *c, const char *dir, const char *mdigest,
			 const char *reference, const char *what, const char *dst,
			 const struct xfer_notes *notes, char *why, size_t len)
{
	char err[1024], path[4096], *body;
	struct json_object *man, *layers, *cfg;
	const char *mt;
	size_t i, n;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, mdigest + 7);
	body = read_file_bounded(path, 4u << 20, &n, err, sizeof(err));
	if (!body)
		return failf(why, len, "push: %s", err);
	man = json_tokener_parse(body);
	if (!man || !json_object_object_get_ex(man, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) ||
	    !json_object_object_get_ex(man, "config", &cfg)) {
		failf(why, len, "push: %s: not an image manifest", path);
		goto out;
	}
	for (i = 0; i <= json_object_array_length(layers); i++) {
		struct json_object *desc = i ? json_object_array_get_idx(layers, i - 1) : cfg;
		const char *digest = oci_jstr(desc, "digest");
		char name[48], blob[4096];
		bool has;

		if (i)
			snprintf(name, sizeof(name), "%s%s %zu", what, *what ? "tree" : "layer", i - 1);
		else
			snprintf(name, sizeof(name), "%sconfig", what);
		if (!oci_digest_ok(digest)) {
			failf(why, len, "push: %s: a digest that is no sha256", name);
			goto out;
		}
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", dir, digest + 7);
		if (reg_has_blob(c, digest, &has, err, sizeof(err))) {
			failf(why, len, "push %s: %s: %s", dst, name, err);
			goto out;
		}
		if (has) {
			pull_say(notes, "%s %.19s...: already in the registry", name, digest);
			continue;
		}
		if (reg_put_blob(c, digest, blob, err, sizeof(err))) {
			failf(why, len, "push %s: %s: %s", dst, name, err);
			goto out;
		}
		pull_say(notes, "%s %.19s...: %llu bytes uploaded", name, digest,
			 (unsigned long long)pull_jsize(desc));
	}
	mt = oci_jstr(man, "mediaType") ? oci_jstr(man, "mediaType") : OCI_MT_MANIFEST;
	if (reg_put_manifest(c, reference, body, n, mt, err, sizeof(err))) {
		failf(why, len, "push %s: %smanifest: %s", dst, what, err);
		goto out;
	}
	ret = 0;
out:
	json_object_put(man);
	free(body);
	return ret;
}

int ovbd_push(const char *src, const char *dst, bool plain_http, uint64_t chunk,
	      const struct xfer_notes *notes, char *pushed, size_t plen, char *why, size_t len)
{
	char err[1024], dir[3968], rtag[80], *d;
	struct oci_image img = { 0 };
	struct oci_manifest art;
	struct reg_client c;
	struct reg_ref ref;
	const char *tag;
	int ret = -1;

	static struct reg_source rs[REGCONF_MAX_SOURCES];
	unsigned int nrs, k;

	/* registries.conf: the registry itself (never a mirror), not blocked */
	if (regconf_sources(dst, rs, REGCONF_MAX_SOURCES, &nrs, err, sizeof(err)))
		return failf(why, len, "push %s: %s", dst, err);
	for (k = 0; k < nrs && rs[k].mirror; k++)
		;
	if (k == nrs)
		return failf(why, len, "push %s: no registry to push to", dst);
	ref = rs[k].ref;
	if (ref.digest[0])
		return failu(why, len, "push: %s: push to a tag, not a digest", dst);
	/* [oci:]DIR[:TAG]: the image, and where its manifest's bytes are */
	d = oci_split_ref(src, &tag);
	if (!d)
		return failf(why, len, "out of memory");
	if (oci_resolve(d, tag, &img, err, sizeof(err))) {
		free(d);
		return failf(why, len, "push: %s: %s", src, err);
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)sizeof(dir) - 100, d);
	free(d);
	if (regconf_open(&c, &rs[k], plain_http, why, len))
		goto out;
	c.chunk_size = chunk;
	if (push_manifest(&c, dir, img.manifest_digest, ref.tag, "", dst, notes, why, len))
		goto close;
	/*
	 * A verified image's trees: the artifact whose subject is the image,
	 * under the referrers tag schema's tag (sha256-<hex>), which every
	 * registry takes and a registry with the referrers API also indexes
	 */
	snprintf(rtag, sizeof(rtag), "sha256-%.64s", img.manifest_digest + 7);
	if (!oci_load_manifest(dir, rtag, &art, err, sizeof(err))) {
		int r = push_manifest(&c, dir, art.digest, rtag, "verity ", dst, notes, why, len);

		json_object_put(art.manifest);
		if (r)
			goto close;
	}
	snprintf(pushed, plen, "%s/%s:%s %s", ref.host, ref.repo, ref.tag, img.manifest_digest);
	ret = 0;
close:
	reg_close(&c);
out:
	oci_image_free(&img);
	return ret;
}

const char *ovbd_store(void)
{
	const char *s = getenv("OVBD_STORE");

	return s && *s ? s : OVBD_DEFAULT_STORE;
}

int image_layer_args(char **args, unsigned int n, const struct xfer_notes *notes,
		     struct oci_image *img, char ***paths, unsigned int *np, char *why, size_t len)
{
	static char oci_ref[4200];
	struct reg_ref ref;
	struct stat st;
	char *arg = oci_ref;

	/* one argument that is no file and reads as host[:port]/repo[:tag]: a registry */
	/* or a short name that registries.conf resolves (an alias, search registries) */
	if (n == 1 && strncmp(args[0], "oci:", 4) && stat(args[0], &st) &&
	    ((!reg_parse_ref(args[0], &ref, why, len) &&
	      (strchr(ref.host, '.') || strchr(ref.host, ':') || !strcmp(ref.host, "localhost"))) ||
	     regconf_short_resolves(args[0]))) {
		struct pull_opts po = { .notes = notes };
		char dig[OCI_DIGEST_LEN + 1];

		memset(img, 0, sizeof(*img));
		if (ovbd_pull(args[0], ovbd_store(), &po, oci_ref, sizeof(oci_ref), dig, why, len))
			return -1;
		return oci_layer_args(&arg, 1, img, paths, np, why, len);
	}
	return oci_layer_args(args, n, img, paths, np, why, len);
}
