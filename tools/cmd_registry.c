// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd pull and ovbd push: OverlayBD images between a registry and an OCI
 * image layout (the store), through the OCI distribution API.
 */
#include "commands.h"
#include "jsonfile.h"
#include "oci.h"
#include "registry.h"
#include "util.h"
#include <getopt.h>
#include <pthread.h>
#include <time.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

static u64 jsize(struct json_object *o)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "size", &v) ? (u64)json_object_get_int64(v) : 0;
}

/* One line on a terminal for the whole pull; a line per blob otherwise. */
static struct {
	pthread_mutex_t lock;
	bool tty;
	u64 done, total;
	struct timespec last;
	const char *what;
} prog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void show_progress(bool final)
{
	fprintf(stderr, "\r%s: pulling %s: %.1f / %.1f MB%s", ovbd_prog, prog.what,
		prog.done / 1e6, prog.total / 1e6, final ? "\n" : "\033[K");
}

static void on_progress(void *arg, uint64_t bytes)
{
	struct timespec now;

	(void)arg;
	pthread_mutex_lock(&prog.lock);
	prog.done += bytes;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - prog.last.tv_sec) * 1000000000L + now.tv_nsec - prog.last.tv_nsec > 100000000L) {
		show_progress(false);
		prog.last = now;
	}
	pthread_mutex_unlock(&prog.lock);
}

/*
 * Fetch one blob into the store, unless it is there already: 0, or -1 with
 * the message in err (a download thread must not exit the process under the
 * others: the first failure ends the command once they have stopped).
 */
static int fetch_blob(struct reg_client *c, const char *dir, const char *what,
		      const char *digest, u64 size, char *err, size_t errlen)
{
	char path[4096], why[1024];
	struct stat st;
	u64 got;

	if (!oci_digest_ok(digest)) {
		snprintf(err, errlen, "%s/%s: %s digest '%.80s': expected sha256: and 64 hex digits",
			 c->ref.host, c->ref.repo, what, digest ? digest : "none");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	if (!stat(path, &st) && (u64)st.st_size == size) {	/* stored, and checked when it was */
		if (prog.tty) {
			pthread_mutex_lock(&prog.lock);
			prog.done += size;
			pthread_mutex_unlock(&prog.lock);
		} else {
			fprintf(stderr, "%s: %s %.19s...: present\n", ovbd_prog, what, digest);
		}
		return 0;
	}
	if (reg_get_blob(c, digest, size, path, &got, why, sizeof(why))) {
		snprintf(err, errlen, "%s/%s: %s: %s", c->ref.host, c->ref.repo, what, why);
		return -1;
	}
	if (!prog.tty)
		fprintf(stderr, "%s: %s %.19s...: %llu bytes fetched, sha256 checked\n", ovbd_prog,
			what, digest, (unsigned long long)got);
	return 0;
}

/* The failure of a fetch in the main thread ends the command. */
static void fetch_fail(const char *err)
{
	if (prog.tty)
		fputc('\n', stderr);
	die(EXIT_BAD_INPUT, "%s", err);
}

#define PULL_THREADS	4

/* The blobs of one pull, fetched by up to PULL_THREADS threads. */
struct pull_job {
	struct reg_client *client;
	struct oci_layout *lay;
	const char *dir;
	unsigned int n;
	/* a layer recompressed in transit: fetched, then stored decompressed as want */
	bool unpack[OVBD_LSMT_MAX_LAYERS + 1];
	const char *want[OVBD_LSMT_MAX_LAYERS + 1];
	u64 usize[OVBD_LSMT_MAX_LAYERS + 1];
	const char *what[OVBD_LSMT_MAX_LAYERS + 1];
	const char *digest[OVBD_LSMT_MAX_LAYERS + 1];
	u64 size[OVBD_LSMT_MAX_LAYERS + 1];
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
static int fetch_unpacked(struct reg_client *c, struct pull_job *j, unsigned int i,
			  char *err, size_t errlen)
{
	char zpath[4096], path[4096], why[1024];
	struct blob b;
	struct stat st;

	if (!oci_digest_ok(j->want[i])) {
		snprintf(err, errlen, "%s: the uncompressed digest '%.80s' is no sha256", j->what[i],
			 j->want[i] ? j->want[i] : "none");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", j->dir, j->want[i] + 7);
	if (!stat(path, &st)) {
		j->usize[i] = (u64)st.st_size;
		if (!prog.tty)
			fprintf(stderr, "%s: %s %.19s...: present (decompressed)\n", ovbd_prog, j->what[i],
				j->want[i]);
		return 0;
	}
	if (fetch_blob(c, j->dir, j->what[i], j->digest[i], j->size[i], err, errlen))
		return -1;
	snprintf(zpath, sizeof(zpath), "%s/blobs/sha256/%s", j->dir, j->digest[i] + 7);
	if (oci_put_decompressed(j->lay, zpath, j->want[i], &j->usize[i], why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", j->what[i], why);
		return -1;
	}
	unlink(zpath);
	if (blob_open(&b, path) || !b.tar) {
		unlink(path);
		snprintf(err, errlen, "%s: decompressed, it is no tar-wrapped OverlayBD blob but an ordinary image layer: convert the image first",
			 j->what[i]);
		return -1;
	}
	blob_close(&b);
	if (!prog.tty)
		fprintf(stderr, "%s: %s: recompressed in transit, stored decompressed as %.19s... (%llu bytes, sha256 checked)\n",
			ovbd_prog, j->what[i], j->want[i], (unsigned long long)j->usize[i]);
	return 0;
}

static bool compressed_layer(const char *mt)
{
	return strstr(mt, "+gzip") || strstr(mt, "+zstd") || strstr(mt, "tar.gzip");
}

/* The first failure of a download thread: kept, and the others stop. */
static void job_fail(struct pull_job *j, const char *err)
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
		job_fail(j, "out of memory");
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
		/* a failure ends the command; finished blobs stay, partial ones resume */
		if (j->unpack[i] ? fetch_unpacked(&c, j, i, err, sizeof(err)) :
		    fetch_blob(&c, j->dir, j->what[i], j->digest[i], j->size[i], err, sizeof(err))) {
			job_fail(j, err);
			break;
		}
	}
	reg_close(&c);
	return NULL;
}

static void fetch_all(struct pull_job *j)
{
	pthread_t t[PULL_THREADS];
	unsigned int k, nt = j->n < PULL_THREADS ? j->n : PULL_THREADS;

	pthread_mutex_init(&j->lock, NULL);
	for (k = 0; k < nt; k++)
		if (pthread_create(&t[k], NULL, pull_worker, j)) {
			job_fail(j, "cannot start a download thread");
			break;
		}
	nt = k;
	for (k = 0; k < nt; k++)
		pthread_join(t[k], NULL);
	pthread_mutex_destroy(&j->lock);
	if (j->failed)
		fetch_fail(j->err);
}

struct json_object *ovbd_pull_manifest(struct reg_client *c, const char *refstr, char **body, size_t *n,
				  char *digest)
{
	const struct reg_ref *ref = &c->ref;
	struct json_object *man, *layers;
	char why[1024], mt[256], cdigest[80];

	if (reg_get_manifest(c, ref->digest[0] ? ref->digest : ref->tag, body, n, mt, sizeof(mt),
			     digest, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "pull %s: %s", refstr, why);
	man = json_tokener_parse(*body);
	if (!man || !json_object_is_type(man, json_type_object))
		die(EXIT_BAD_INPUT, "pull %s: the manifest is not a JSON object", refstr);
	if (strstr(mt, "index") || strstr(mt, "manifest.list") ||
	    json_object_object_get_ex(man, "manifests", &layers)) {
		/* an index: its linux/amd64 manifest */
		struct json_object *list;
		const char *pick;

		if (!json_object_object_get_ex(man, "manifests", &list) ||
		    !json_object_is_type(list, json_type_array))
			die(EXIT_BAD_INPUT, "pull %s: an image index without manifests", refstr);
		pick = oci_platform_digest(list);
		if (!oci_digest_ok(pick))
			die(EXIT_BAD_INPUT, "pull %s: the image index has no linux/amd64 manifest", refstr);
		snprintf(cdigest, sizeof(cdigest), "%s", pick);
		json_object_put(man);
		free(*body);
		if (reg_get_manifest(c, cdigest, body, n, mt, sizeof(mt), digest, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "pull %s: %s", refstr, why);
		man = json_tokener_parse(*body);
		if (!man || !json_object_is_type(man, json_type_object))
			die(EXIT_BAD_INPUT, "pull %s: the manifest is not a JSON object", refstr);
	}
	return man;
}

void ovbd_pull(const char *refstr, const char *dir, bool plain, bool any_image, char *oci_ref,
	       size_t len, char *manifest_digest)
{
	char why[1024], digest[80];
	struct json_object *man, *layers, *cfg;
	struct reg_client c;
	struct oci_layout lay;
	struct reg_ref ref;
	char *body;
	size_t n, i;

	if (reg_parse_ref(refstr, &ref, why, sizeof(why)))
		die(EXIT_USAGE, "pull: %s", why);
	if (reg_open(&c, &ref, plain, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	man = ovbd_pull_manifest(&c, refstr, &body, &n, digest);
	if (!json_object_object_get_ex(man, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) || !json_object_array_length(layers) ||
	    json_object_array_length(layers) > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_BAD_INPUT, "pull %s: a manifest with 1..255 layers expected", refstr);
	/*
	 * Refuse before any download what cannot be an OverlayBD image. A
	 * compressed layer may be one recompressed in transit: decided once
	 * it is decompressed.
	 */
	for (i = 0; !any_image && i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a;
		const char *lmt = oci_jstr(l, "mediaType") ? oci_jstr(l, "mediaType") : "no mediaType";

		if (compressed_layer(lmt))
			continue;
		if (!strstr(lmt, "tar") || strchr(lmt, '+'))
			die(EXIT_BAD_INPUT, "pull %s: layer %zu (%.80s): an unsupported mediaType %.80s",
			    refstr, i, oci_jstr(l, "digest") ? oci_jstr(l, "digest") : "no digest", lmt);
		if (!json_object_object_get_ex(l, "annotations", &a) || !oci_jstr(a, OVBD_ANN_DIGEST))
			die(EXIT_BAD_INPUT, "pull %s: layer %zu (%.80s, %.80s) has no %s annotation: not an OverlayBD image (convert it first)",
			    refstr, i, oci_jstr(l, "digest") ? oci_jstr(l, "digest") : "no digest", lmt,
			    OVBD_ANN_DIGEST);
	}
	if (oci_layout_open(&lay, dir, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	if (!json_object_object_get_ex(man, "config", &cfg))
		die(EXIT_BAD_INPUT, "pull %s: a manifest without a config", refstr);
	{	/* the config first (its diff_ids), then the layers in parallel */
		static struct pull_job job;
		static char names[OVBD_LSMT_MAX_LAYERS][24];
		struct json_object *config = NULL, *diff_ids = NULL, *rootfs;
		char cpath[4096];
		bool any_unpack = false;

		memset(&job, 0, sizeof(job));
		job.client = &c;
		job.lay = &lay;
		job.dir = lay.dir;
		prog.tty = isatty(STDERR_FILENO);
		prog.what = refstr;
		prog.done = 0;
		prog.total = jsize(cfg);
		if (fetch_blob(&c, lay.dir, "config", oci_jstr(cfg, "digest"), jsize(cfg), job.err,
			       sizeof(job.err)))
			fetch_fail(job.err);
		snprintf(cpath, sizeof(cpath), "%s/blobs/sha256/%s", lay.dir, oci_jstr(cfg, "digest") + 7);
		config = json_file_object(cpath, 4u << 20, why, sizeof(why));
		if (config && json_object_object_get_ex(config, "rootfs", &rootfs))
			json_object_object_get_ex(rootfs, "diff_ids", &diff_ids);
		for (i = 0; i < json_object_array_length(layers); i++) {
			struct json_object *l = json_object_array_get_idx(layers, i), *a, *d;
			const char *lmt = oci_jstr(l, "mediaType") ? oci_jstr(l, "mediaType") : "";

			snprintf(names[i], sizeof(names[i]), "layer %u", (unsigned int)i);
			job.what[i] = names[i];
			job.digest[i] = oci_jstr(l, "digest");
			job.size[i] = jsize(l);
			prog.total += job.size[i];
			if (!compressed_layer(lmt) || any_image)	/* stored as it is */
				continue;
			/* what the layer is, uncompressed: the annotation, else the diff_id */
			job.unpack[i] = any_unpack = true;
			if (json_object_object_get_ex(l, "annotations", &a) && oci_jstr(a, OVBD_ANN_DIGEST))
				job.want[i] = oci_jstr(a, OVBD_ANN_DIGEST);
			else if (diff_ids && (d = json_object_array_get_idx(diff_ids, i)))
				job.want[i] = json_object_get_string(d);
			else
				die(EXIT_BAD_INPUT, "pull %s: layer %zu is compressed, and neither an annotation nor the config names its uncompressed digest",
				    refstr, i);
		}
		job.n = (unsigned int)i;
		if (prog.tty)
			c.progress = on_progress;
		fetch_all(&job);
		if (prog.tty)
			show_progress(true);
		if (any_unpack) {	/* the manifest of what is stored: uncompressed OverlayBD blobs */
			for (i = 0; i < job.n; i++) {
				struct json_object *l = json_object_array_get_idx(layers, i), *a;
				char sz[24];

				if (!job.unpack[i])
					continue;
				snprintf(sz, sizeof(sz), "%llu", (unsigned long long)job.usize[i]);
				json_object_object_add(l, "mediaType", json_object_new_string(OCI_MT_LAYER_TAR));
				json_object_object_add(l, "digest", json_object_new_string(job.want[i]));
				json_object_object_add(l, "size", json_object_new_int64((int64_t)job.usize[i]));
				if (!json_object_object_get_ex(l, "annotations", &a)) {
					a = json_object_new_object();
					json_object_object_add(l, "annotations", a);
				}
				json_object_object_add(a, OVBD_ANN_DIGEST, json_object_new_string(job.want[i]));
				json_object_object_add(a, OVBD_ANN_SIZE, json_object_new_string(sz));
			}
			free(body);
			body = strdup(json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
			n = strlen(body);
		}
		json_object_put(config);
	}
	/* the manifest last, so that a tag only ever names a complete image */
	if (oci_put_bytes(&lay, body, n, digest, why, sizeof(why)) ||
	    oci_tag(&lay, ref.digest[0] ? ref.digest : ref.tag, digest, n, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	snprintf(oci_ref, len, "oci:%s:%s", lay.dir, ref.digest[0] ? ref.digest : ref.tag);
	if (manifest_digest)
		snprintf(manifest_digest, OCI_DIGEST_LEN + 1, "%.*s", OCI_DIGEST_LEN, digest);
	json_object_put(man);
	free(body);
	oci_layout_close(&lay);
	reg_close(&c);
}


static int pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	char out[4200], digest[OCI_DIGEST_LEN + 1];
	bool plain = false;
	int opt;

	while ((opt = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (opt == 'P')
			plain = true;
		else
			usage_of("pull", opt == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 2)
		usage_of("pull", EXIT_USAGE);
	ovbd_pull(argv[optind], argv[optind + 1], plain, false, out, sizeof(out), digest);
	printf("%s %s\n", out, digest);
	return 0;
}

void ovbd_push(const char *src, const char *dst, bool plain, uint64_t chunk)
{
	char why[1024], path[4096], dir[3968], *body;
	struct json_object *man, *layers, *cfg;
	const char *mt;
	struct oci_image img;
	struct reg_client c;
	struct reg_ref ref;
	size_t i, n;

	if (reg_parse_ref(dst, &ref, why, sizeof(why)))
		die(EXIT_USAGE, "push: %s", why);
	if (ref.digest[0])
		die(EXIT_USAGE, "push: %s: push to a tag, not a digest", dst);
	{	/* [oci:]DIR[:TAG]: the image, and where its manifest's bytes are */
		const char *tag;
		char *d = oci_split_ref(src, &tag);

		if (!d)
			die(EXIT_BAD_INPUT, "out of memory");
		if (oci_resolve(d, tag, &img, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "push: %s: %s", src, why);
		snprintf(dir, sizeof(dir), "%.*s", (int)sizeof(dir) - 100, d);
		free(d);
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, img.manifest_digest + 7);
	}
	body = read_file_bounded(path, 4u << 20, &n, why, sizeof(why));
	if (!body)
		die(EXIT_BAD_INPUT, "push: %s", why);
	man = json_tokener_parse(body);
	if (!man || !json_object_object_get_ex(man, "layers", &layers) ||
	    !json_object_object_get_ex(man, "config", &cfg))
		die(EXIT_BAD_INPUT, "push: %s: not an image manifest", path);
	if (reg_open(&c, &ref, plain, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	c.chunk_size = chunk;
	for (i = 0; i <= json_object_array_length(layers); i++) {
		struct json_object *d = i ? json_object_array_get_idx(layers, i - 1) : cfg;
		const char *digest = oci_jstr(d, "digest");
		char what[32], blob[4096];
		bool has;

		if (i)
			snprintf(what, sizeof(what), "layer %zu", i - 1);
		else
			snprintf(what, sizeof(what), "config");
		if (!oci_digest_ok(digest))
			die(EXIT_BAD_INPUT, "push: %s: a digest that is no sha256", what);
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", dir, digest + 7);
		if (reg_has_blob(&c, digest, &has, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "push %s: %s: %s", dst, what, why);
		if (has) {
			fprintf(stderr, "%s: %s %.19s...: already in the registry\n", ovbd_prog, what, digest);
			continue;
		}
		if (reg_put_blob(&c, digest, blob, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "push %s: %s: %s", dst, what, why);
		fprintf(stderr, "%s: %s %.19s...: %llu bytes uploaded\n", ovbd_prog, what, digest,
			(unsigned long long)jsize(d));
	}
	mt = oci_jstr(man, "mediaType") ? oci_jstr(man, "mediaType") : OCI_MT_MANIFEST;
	if (reg_put_manifest(&c, ref.tag, body, n, mt, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "push %s: manifest: %s", dst, why);
	printf("%s/%s:%s %s\n", ref.host, ref.repo, ref.tag, img.manifest_digest);
	json_object_put(man);
	free(body);
	oci_image_free(&img);
	reg_close(&c);
}

static int push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plain-http", no_argument, NULL, 'P' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	bool plain = false;
	u64 chunk = 0;
	int opt;

	while ((opt = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (opt == 'P')
			plain = true;
		else if (opt == 'c') {
			if (!parse_size(optarg, &chunk) || chunk < 4096 || chunk > (1ull << 32))
				die(EXIT_USAGE, "--chunk-size: expected 4K..4G, got '%s'", optarg);
		} else
			usage_of("push", opt == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 2)
		usage_of("push", EXIT_USAGE);
	ovbd_push(argv[optind], argv[optind + 1], plain, chunk);
	return 0;
}

int cmd_pull(int argc, char **argv)
{
	return pull(argc, argv);
}

int cmd_push(int argc, char **argv)
{
	return push(argc, argv);
}

const char *ovbd_store(void)
{
	const char *s = getenv("OVBD_STORE");

	return s && *s ? s : OVBD_DEFAULT_STORE;
}

int image_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		     unsigned int *np, char *why, size_t len)
{
	static char oci_ref[4200];
	struct reg_ref ref;
	struct stat st;
	char *arg = oci_ref;

	/* one argument that is no file and reads as host[:port]/repo[:tag]: a registry */
	if (n == 1 && strncmp(args[0], "oci:", 4) && stat(args[0], &st) &&
	    !reg_parse_ref(args[0], &ref, why, len) &&
	    (strchr(ref.host, '.') || strchr(ref.host, ':') || !strcmp(ref.host, "localhost"))) {
		char dig[OCI_DIGEST_LEN + 1];

		ovbd_pull(args[0], ovbd_store(), false, false, oci_ref, sizeof(oci_ref), dig);
		return oci_layer_args(&arg, 1, img, paths, np, why, len);
	}
	return oci_layer_args(args, n, img, paths, np, why, len);
}
