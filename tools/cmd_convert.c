// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd convert SRC DST: an ordinary OCI or Docker image (tar, tar+gzip or
 * tar+zstd layers with overlayfs-style whiteouts) into an OverlayBD image,
 * rootless: the layers are applied in order to one ext4 image file with
 * libext2fs (ext4img.c), read with libarchive, and after each layer the
 * blocks it changed become one sealed OverlayBD layer (layer_write), tar-
 * wrapped, optionally ZFile-compressed. SRC and DST are oci:DIR[:TAG] or
 * registry references. Nothing is tagged until every layer has converted.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "blob.h"
#include "ext4img.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include "writers.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD };

/* The layer mediaTypes convert reads, and how each is compressed. */
static const struct {
	const char *mt;
	enum codec codec;
} media[] = {
	{ "application/vnd.oci.image.layer.v1.tar", CODEC_NONE },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", CODEC_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", CODEC_ZSTD },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", CODEC_NONE },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", CODEC_GZIP },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", CODEC_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar", CODEC_NONE },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", CODEC_GZIP },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", CODEC_GZIP },
};

/* The work directory, removed with all in it on every exit (atexit, signals). */
static char work[4096];
static char work_paths[OVBD_LSMT_MAX_LAYERS + 4][4200];
static unsigned int nwork_paths;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void work_cleanup(void)
{
	if (work[0])
		nftw(work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void on_signal(int sig)
{
	work_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *work_path(const char *fmt, unsigned int i)
{
	char *p = work_paths[nwork_paths++];

	snprintf(p, sizeof(work_paths[0]), "%s/", work);
	snprintf(p + strlen(p), sizeof(work_paths[0]) - strlen(p), fmt, i);
	return p;
}

/* ---- one source layer: the blob through libarchive, hashed twice as it streams */

struct layer_in {
	int fd;
	EVP_MD_CTX *blob_hash, *tar_hash;
	struct archive *raw, *tar;
	u64 tar_bytes;
	u8 buf[1 << 16], tbuf[1 << 16];
};

static la_ssize_t read_blob(struct archive *a, void *p, const void **out)
{
	struct layer_in *li = p;
	ssize_t n = read(li->fd, li->buf, sizeof(li->buf));

	if (n < 0) {
		archive_set_error(a, errno, "reading the blob: %s", strerror(errno));
		return -1;
	}
	EVP_DigestUpdate(li->blob_hash, li->buf, (size_t)n);
	*out = li->buf;
	return n;
}

static la_ssize_t read_tar(struct archive *a, void *p, const void **out)
{
	struct layer_in *li = p;
	la_ssize_t n = archive_read_data(li->raw, li->tbuf, sizeof(li->tbuf));

	if (n < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(li->raw));
		return -1;
	}
	EVP_DigestUpdate(li->tar_hash, li->tbuf, (size_t)n);
	li->tar_bytes += (u64)n;
	*out = li->tbuf;
	return n;
}

/* Open the blob as a tar stream; the raw archive decompresses, the tar one parses. */
static int layer_open(struct layer_in *li, const char *path, enum codec codec, char *why, size_t len)
{
	struct archive_entry *ae;
	int want = codec == CODEC_GZIP ? ARCHIVE_FILTER_GZIP :
		   codec == CODEC_ZSTD ? ARCHIVE_FILTER_ZSTD : ARCHIVE_FILTER_NONE;

	memset(li, 0, sizeof(*li));
	li->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (li->fd < 0)
		return snprintf(why, len, "%.600s: %s", path, strerror(errno)), -1;
	li->blob_hash = EVP_MD_CTX_new();
	li->tar_hash = EVP_MD_CTX_new();
	EVP_DigestInit_ex(li->blob_hash, EVP_sha256(), NULL);
	EVP_DigestInit_ex(li->tar_hash, EVP_sha256(), NULL);
	li->raw = archive_read_new();
	if (codec == CODEC_GZIP)
		archive_read_support_filter_gzip(li->raw);
	if (codec == CODEC_ZSTD)
		archive_read_support_filter_zstd(li->raw);
	archive_read_support_format_raw(li->raw);
	if (archive_read_open(li->raw, li, NULL, read_blob, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(li->raw, &ae) != ARCHIVE_OK)
		return snprintf(why, len, "%s", archive_error_string(li->raw) ?
				archive_error_string(li->raw) : "an empty blob"), -1;
	if (archive_filter_code(li->raw, 0) != want)
		return snprintf(why, len, "its bytes are %s, not what its mediaType says",
				archive_filter_name(li->raw, 0)), -1;
	li->tar = archive_read_new();
	archive_read_support_format_tar(li->tar);
	if (archive_read_open(li->tar, li, NULL, read_tar, NULL) != ARCHIVE_OK)
		return snprintf(why, len, "not a tar stream: %s", archive_error_string(li->tar)), -1;
	return 0;
}

/* Read what follows the tar's end (padding), then the blob's rest: both hashes complete. */
static int layer_finish(struct layer_in *li, char *blob_digest, char *tar_digest, char *why,
			size_t len)
{
	la_ssize_t n;
	ssize_t r;

	while ((n = read_tar(li->tar, li, &(const void *){ NULL })) > 0)
		;
	if (n < 0)
		return snprintf(why, len, "%s", archive_error_string(li->raw)), -1;
	while ((r = read(li->fd, li->buf, sizeof(li->buf))) > 0)
		EVP_DigestUpdate(li->blob_hash, li->buf, (size_t)r);
	if (r < 0)
		return snprintf(why, len, "reading the blob: %s", strerror(errno)), -1;
	oci_sha256_final((struct evp_md_ctx_st *)li->blob_hash, blob_digest);
	oci_sha256_final((struct evp_md_ctx_st *)li->tar_hash, tar_digest);
	return 0;
}

static void layer_close(struct layer_in *li)
{
	if (li->tar)
		archive_read_free(li->tar);
	if (li->raw)
		archive_read_free(li->raw);
	EVP_MD_CTX_free(li->blob_hash);
	EVP_MD_CTX_free(li->tar_hash);
	if (li->fd >= 0)
		close(li->fd);
}

/* A layer's uuid, from its parent's and its source's digest: reproducible. */
static void layer_uuid(const char *parent, const char *diff_id, char *out)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, "ovbd convert\n", 13);
	EVP_DigestUpdate(ctx, parent, strlen(parent));
	EVP_DigestUpdate(ctx, diff_id, strlen(diff_id));
	EVP_DigestFinal_ex(ctx, h, &n);
	EVP_MD_CTX_free(ctx);
	h[6] = (h[6] & 0x0f) | 0x40;
	h[8] = (h[8] & 0x3f) | 0x80;
	snprintf(out, OVBD_LSMT_UUID_LEN,
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
		 h[13], h[14], h[15]);
}

static time_t fs_time(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!sde || !*sde)
		return 0;
	v = strtoll(sde, &end, 10);
	if (*end || v < 0)
		die(EXIT_USAGE, "SOURCE_DATE_EPOCH: expected seconds since 1970, got '%s'", sde);
	return (time_t)v;
}

static bool is_layout(const char *ref)
{
	return !strncmp(ref, "oci:", 4);
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zfile", no_argument, NULL, 'z' },
		{ "algo", required_argument, NULL, 'a' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "tmpdir", required_argument, NULL, 'T' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	static char uuid[OVBD_LSMT_MAX_LAYERS][OVBD_LSMT_UUID_LEN + 1];
	static char digests[OVBD_LSMT_MAX_LAYERS][OCI_DIGEST_LEN + 1];
	static struct oci_built_layer built[OVBD_LSMT_MAX_LAYERS];
	static char *paths[OVBD_LSMT_MAX_LAYERS];
	struct zfile_opts zo = { OVBD_ZF_ALGO_LZ4, 4096, true, true };
	bool zfile = false, codec_opt = false, plain = false;
	const char *src, *dst, *stag, *dtag, *tmpdir = NULL, *fsimg;
	char why[1024], sref[4300], mdigest[OCI_DIGEST_LEN + 1], *sdir, *ddir = NULL;
	struct json_object *config, *diff_ids = NULL, *rootfs, *cfgd;
	u64 fs_size = 64ull << 30;
	struct oci_manifest mf;
	struct oci_layout lay;
	unsigned int i, n;
	time_t now = fs_time();
	int c, raw;

	while ((c = ovbd_getopt(argc, argv, "za:b:s:h", opts)) != -1) {
		switch (c) {
		case 'z': zfile = true; break;
		case 'a': zo.algo = parse_algo(optarg); codec_opt = true; break;
		case 'b': zo.block_size = parse_block_size(optarg); codec_opt = true; break;
		case 's':
			if (!parse_size(optarg, &fs_size) || fs_size < EXT4IMG_MIN_SIZE ||
			    fs_size > EXT4IMG_MAX_SIZE || fs_size % 4096)
				die(EXIT_USAGE, "--size: expected 64M..4T in 4 KiB units, got '%s'", optarg);
			break;
		case 'T': tmpdir = optarg; break;
		case 'P': plain = true; break;
		default: usage_of("convert", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (argc - optind != 2)
		usage_of("convert", EXIT_USAGE);
	if (codec_opt && !zfile)
		die(EXIT_USAGE, "--algo and --block-size set the ZFile compression: give --zfile too");
	src = argv[optind];
	dst = argv[optind + 1];

	/* the work directory: --tmpdir, else beside a layout DST, else $TMPDIR or /var/tmp */
	if (is_layout(dst)) {
		struct stat st;

		ddir = oci_split_ref(dst, &dtag);
		if (!ddir)
			die(EXIT_BAD_INPUT, "out of memory");
		if (!tmpdir && !stat(ddir, &st) && S_ISDIR(st.st_mode))
			tmpdir = ddir;
	}
	if (!tmpdir)
		tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	snprintf(work, sizeof(work), "%s/.ovbd-convert.XXXXXX", tmpdir);
	if (!mkdtemp(work)) {
		int e = errno;

		work[0] = 0;
		die(EXIT_BAD_INPUT, "convert: a work directory in %s: %s", tmpdir, strerror(e));
	}
	atexit(work_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	/* the source: a layout, or a registry image pulled into the work directory */
	if (is_layout(src)) {
		sdir = oci_split_ref(src, &stag);
	} else {
		cli_pull(src, work_path("source", 0), plain, true, sref, sizeof(sref), NULL);
		sdir = oci_split_ref(sref, &stag);
	}
	if (!sdir)
		die(EXIT_BAD_INPUT, "out of memory");
	if (oci_load_manifest(sdir, stag, &mf, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "convert %s: %s", src, why);
	n = (unsigned int)json_object_array_length(mf.layers);
	if (n > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_BAD_INPUT, "convert %s: %u layers; an OverlayBD image holds 1..255", src, n);
	if (!json_object_object_get_ex(mf.manifest, "config", &cfgd) ||
	    !(config = oci_read_json_blob(sdir, oci_jstr(cfgd, "digest"), why, sizeof(why))))
		die(EXIT_BAD_INPUT, "convert %s: config: %s", src, why);
	if (json_object_object_get_ex(config, "rootfs", &rootfs))
		json_object_object_get_ex(rootfs, "diff_ids", &diff_ids);
	if (!diff_ids || !json_object_is_type(diff_ids, json_type_array) ||
	    json_object_array_length(diff_ids) != n)
		die(EXIT_BAD_INPUT, "convert %s: the config's rootfs.diff_ids do not list the manifest's %u layers",
		    src, n);

	/* refuse what cannot be converted before any work */
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(mf.layers, i), *a;
		const char *mt = oci_jstr(l, "mediaType"), *d = oci_jstr(l, "digest");
		size_t k;

		for (k = 0; mt && k < sizeof(media) / sizeof(media[0]); k++)
			if (!strcmp(mt, media[k].mt))
				break;
		if (!mt || k == sizeof(media) / sizeof(media[0]))
			die(EXIT_BAD_INPUT, "convert %s: layer %u (%.80s): mediaType %.120s is not supported; convert reads tar, tar+gzip and tar+zstd layers%s",
			    src, i, d ? d : "no digest", mt ? mt : "(none)",
			    mt && strstr(mt, "encrypted") ? " (an encrypted layer must be decrypted first)" : "");
		if (json_object_object_get_ex(l, "annotations", &a) && oci_jstr(a, OVBD_ANN_DIGEST))
			die(EXIT_BAD_INPUT, "convert %s: layer %u (%.80s) is already an OverlayBD layer",
			    src, i, d);
		if (!oci_digest_ok(d))
			die(EXIT_BAD_INPUT, "convert %s: layer %u: digest '%.80s' is not sha256: and 64 hex digits",
			    src, i, d ? d : "");
	}

	fsimg = work_path("fs.img", 0);
	if (ext4img_mkfs(fsimg, fs_size, now, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "convert: %s", why);
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(mf.layers, i);
		const char *mt = oci_jstr(l, "mediaType"), *d = oci_jstr(l, "digest");
		const char *diff_id = json_object_get_string(json_object_array_get_idx(diff_ids, i));
		char blob[4200], got_blob[OCI_DIGEST_LEN + 1], got_tar[OCI_DIGEST_LEN + 1];
		struct commit_opts co = { 0 };
		struct byte_range *r = NULL;
		struct stack lower, *lp = NULL;
		struct layer_in li;
		struct ext4img *img;
		enum codec codec = CODEC_NONE;
		size_t nr, k, changed = 0;
		int out;
		u64 size;

		for (k = 0; k < sizeof(media) / sizeof(media[0]); k++)
			if (!strcmp(mt, media[k].mt))
				codec = media[k].codec;
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", sdir, d + 7);
		if (layer_open(&li, blob, codec, why, sizeof(why)) ||
		    ext4img_open(&img, fsimg, now, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "convert %s: layer %u (%.19s..., %s): %s", src, i, d, mt, why);
		if (ext4img_apply(img, li.tar, why, sizeof(why)) ||
		    layer_finish(&li, got_blob, got_tar, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "convert %s: layer %u (%.19s..., %s): %s", src, i, d, mt, why);
		if (strcmp(got_blob, d))
			die(EXIT_BAD_INPUT, "convert %s: layer %u: the blob hashes to %s, its descriptor says %s",
			    src, i, got_blob, d);
		if (!diff_id || strcmp(got_tar, diff_id))
			die(EXIT_BAD_INPUT, "convert %s: layer %u (%.19s...): the uncompressed tar hashes to %s, the config's diff_id says %.80s",
			    src, i, d, got_tar, diff_id ? diff_id : "(none)");
		if (ext4img_close(img, &r, &nr, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "convert %s: layer %u: %s", src, i, why);
		layer_close(&li);

		raw = open(fsimg, O_RDONLY | O_CLOEXEC);
		if (raw < 0)
			die(EXIT_BAD_INPUT, "%s: %s", fsimg, strerror(errno));
		if (i == 0) {	/* the base: all that mke2fs and the layer wrote */
			free(r);
			if (file_data_ranges(raw, fs_size, &r, &nr, why, sizeof(why)))
				die(EXIT_BAD_INPUT, "convert: %s", why);
		} else {
			int sr = stack_open(&lower, paths, i, why, sizeof(why));

			if (sr)
				die(EXIT_OF(sr), "convert: %s", why);
			lp = &lower;
		}
		for (k = 0; k < nr; k++)
			changed += r[k].len;
		layer_uuid(i ? uuid[i - 1] : "", got_tar, uuid[i]);
		co.uuid = uuid[i];
		co.parent = i ? uuid[i - 1] : NULL;
		paths[i] = (char *)work_path("layer-%u.tar", i);
		out = open(paths[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0)
			die(EXIT_BAD_INPUT, "%s: %s", paths[i], strerror(errno));
		size = layer_write(raw, fs_size, lp, r, nr, &co, zfile ? &zo : NULL, true, out, paths[i]);
		if (lp)
			stack_close(lp);
		close(out);
		close(raw);
		free(r);
		printf("[%u/%u] layer %u %.19s...: %llu bytes of tar, %llu KiB of blocks written, %llu bytes stored (%.2f of the tar)\n",
		       i + 1, n, i, d, (unsigned long long)li.tar_bytes, (unsigned long long)(changed >> 10),
		       (unsigned long long)size, li.tar_bytes ? (double)size / (double)li.tar_bytes : 0.0);
		fflush(stdout);
	}

	/* the image: blobs, the source's config with new diff_ids, the manifest, the tag */
	if (!ddir) {
		ddir = strdup(work_path("out", 0));
		dtag = "latest";
	}
	if (!ddir || oci_layout_open(&lay, ddir, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "convert: %s", ddir ? why : "out of memory");
	for (i = 0; i < n; i++) {
		if (oci_put_file(&lay, paths[i], digests[i], &built[i].size, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "convert: layer %u: %s", i, why);
		built[i].digest = digests[i];
		unlink(paths[i]);
	}
	if (oci_write_image(&lay, dtag ? dtag : "latest", built, n, "ext4", config, NULL, mdigest,
			    why, sizeof(why)))
		die(EXIT_BAD_INPUT, "convert: %s", why);
	if (is_layout(dst)) {
		printf("oci:%s:%s %s\n", ddir, dtag ? dtag : "latest", mdigest);
	} else {
		char ref[4200], pushed[1200];

		snprintf(ref, sizeof(ref), "oci:%s:latest", ddir);
		int r = ovbd_push(ref, dst, plain, 0, &cli_notes, pushed, sizeof(pushed), why, sizeof(why));

		if (r)
			die(EXIT_OF(r), "%s", why);
		printf("%s\n", pushed);
	}
	json_object_put(config);
	json_object_put(mf.manifest);
	oci_layout_close(&lay);
	free(sdir);
	free(ddir);
	return 0;
}
