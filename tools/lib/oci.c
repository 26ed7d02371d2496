// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: OCI image layouts, written with json-c and hashed with libcrypto. */
#include "oci.h"
#include "jsonfile.h"
#include "util.h"
#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK	(1u << 20)
#define INDEX_MAX	(4u << 20)	/* bytes of index.json we read */

static int mkdir_p(const char *path)
{
	char *p = strdup(path), *s;
	int ret = 0;

	if (!p)
		return -1;
	for (s = p + 1; *s && !ret; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0755) && errno != EEXIST)
				ret = -1;
			*s = '/';
		}
	if (!ret && mkdir(p, 0755) && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/* Write buf to dir/name through a temporary file and a rename. */
static int write_atomic(const char *dir, const char *name, const void *buf, size_t n,
			char *why, size_t len)
{
	char tmp[4096], dst[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	fd = mkstemp(tmp);
	if (fd < 0)
		return failf(why, len, "%s: %s", dst, strerror(errno));
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd) || close(fd) ||
	    chmod(tmp, 0644) || rename(tmp, dst)) {
		int e = errno;

		unlink(tmp);
		return failf(why, len, "%s: %s", dst, strerror(e));
	}
	return 0;
}

int oci_layout_open(struct oci_layout *l, const char *dir, char *why, size_t len)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char path[4096];
	struct stat st;

	l->dir = NULL;
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	if (stat(path, &st)) {
		if (!dir_empty(dir))
			return failf(why, len, "%s: not an OCI image layout (no oci-layout file) and not empty",
				     dir);
		snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
		if (mkdir_p(path))
			return failf(why, len, "%s: %s", path, strerror(errno));
		if (write_atomic(dir, "oci-layout", layout, sizeof(layout) - 1, why, len))
			return -1;
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	if (mkdir_p(path))
		return failf(why, len, "%s: %s", path, strerror(errno));
	l->dir = strdup(dir);
	return l->dir ? 0 : failf(why, len, "%s: out of memory", dir);
}

void oci_layout_close(struct oci_layout *l)
{
	free(l->dir);
	l->dir = NULL;
}

void oci_sha256_final(EVP_MD_CTX *ctx, char *digest)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(ctx, md, &n);
	strcpy(digest, "sha256:");
	for (i = 0; i < n; i++)
		sprintf(digest + 7 + 2 * i, "%02x", md[i]);
}

/* Rename the complete temporary copy to its digest's name, or drop it if stored. */
static int commit_blob(struct oci_layout *l, const char *tmp, const char *digest,
		       char *why, size_t len)
{
	char dst[4096];

	snprintf(dst, sizeof(dst), "%s/blobs/sha256/%s", l->dir, digest + 7);
	if (!access(dst, F_OK)) {	/* content-addressed: already there */
		unlink(tmp);
		return 0;
	}
	if (chmod(tmp, 0644) || rename(tmp, dst)) {
		int e = errno;

		unlink(tmp);
		return failf(why, len, "%s: %s", dst, strerror(e));
	}
	return 0;
}

/* Where store_stream() reads: a file, or a decompressed stream. */
struct source {
	const char *path;
	int fd;
	struct archive *a;
};

/* Up to n bytes; -1 with why set (naming the source) on a read error. */
static ssize_t source_read(struct source *src, void *buf, size_t n, char *why, size_t len)
{
	ssize_t r;

	if (!src->a) {
		r = read(src->fd, buf, n);
		if (r < 0)
			failf(why, len, "%s: %s", src->path, strerror(errno));
		return r;
	}
	r = archive_read_data(src->a, buf, n);
	if (r < 0)
		failf(why, len, "%s: a corrupt compressed stream: %s", src->path,
		     archive_error_string(src->a) ? archive_error_string(src->a) : "?");
	return r;
}

/*
 * Copy src into the store through a temporary file, hashing as it streams,
 * and rename it to its digest once complete; with want, only if the digest
 * is want. digest receives "sha256:<hex>", size the length.
 */
static int store_stream(struct oci_layout *l, struct source *src, const char *want,
			char *digest, uint64_t *size, char *why, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(COPY_CHUNK);
	char tmp[4096];
	int out = -1, ret = -1;
	ssize_t n;

	*size = 0;
	tmp[0] = 0;
	if (!ctx || !buf) {
		failf(why, len, "%s: out of memory", src->path);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/blobs/sha256/.in-progress.XXXXXX", l->dir);
	out = mkstemp(tmp);
	if (out < 0) {
		failf(why, len, "%s: %s", tmp, strerror(errno));
		tmp[0] = 0;
		goto out;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = source_read(src, buf, COPY_CHUNK, why, len)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (write(out, buf, (size_t)n) != n) {
			failf(why, len, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		*size += (uint64_t)n;
	}
	if (n < 0)
		goto out;
	if (fsync(out) || close(out)) {
		out = -1;
		failf(why, len, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	out = -1;
	oci_sha256_final(ctx, digest);
	if (want && strcmp(digest, want)) {
		snprintf(why, len, "%s: decompressed, its bytes hash to %s, not to %s", src->path,
			 digest, want);
		goto out;
	}
	ret = commit_blob(l, tmp, digest, why, len);
	tmp[0] = 0;
out:
	if (out >= 0)
		close(out);
	if (tmp[0])
		unlink(tmp);
	free(buf);
	EVP_MD_CTX_free(ctx);
	return ret;
}

int oci_put_file(struct oci_layout *l, const char *path, char *digest, uint64_t *size,
		 char *why, size_t len)
{
	struct source src = { .path = path, .fd = open(path, O_RDONLY) };
	int ret;

	*size = 0;
	if (src.fd < 0)
		return failf(why, len, "%s: %s", path, strerror(errno));
	ret = store_stream(l, &src, NULL, digest, size, why, len);
	close(src.fd);
	return ret;
}

int oci_put_bytes(struct oci_layout *l, const void *buf, size_t n, char *digest,
		  char *why, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char dir[4096];

	if (!ctx)
		return failf(why, len, "%s: out of memory", l->dir);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, buf, n);
	oci_sha256_final(ctx, digest);
	EVP_MD_CTX_free(ctx);
	snprintf(dir, sizeof(dir), "%s/blobs/sha256", l->dir);
	return write_atomic(dir, digest + 7, buf, n, why, len);
}

/* index.json with the tag's entry removed, written back; *found tells whether it was there. */
/* Remove the entries of index tagged tag; dropped (if not NULL) receives the last one's digest. */
static bool index_drop_name(struct json_object *index, const char *tag, char *dropped)
{
	struct json_object *manifests, *kept;
	bool found = false;
	size_t i;

	if (!json_object_object_get_ex(index, "manifests", &manifests) ||
	    !json_object_is_type(manifests, json_type_array)) {
		json_object_object_add(index, "manifests", json_object_new_array());
		return false;
	}
	kept = json_object_new_array();
	for (i = 0; i < json_object_array_length(manifests); i++) {
		struct json_object *e = json_object_array_get_idx(manifests, i), *a, *name;

		if (json_object_object_get_ex(e, "annotations", &a) &&
		    json_object_object_get_ex(a, OCI_ANN_REF_NAME, &name) &&
		    !strcmp(json_object_get_string(name), tag)) {
			found = true;
			if (dropped)
				snprintf(dropped, OCI_DIGEST_LEN + 1, "%.*s", OCI_DIGEST_LEN,
					 oci_jstr(e, "digest") ? oci_jstr(e, "digest") : "");
			continue;
		}
		json_object_array_add(kept, json_object_get(e));
	}
	json_object_object_add(index, "manifests", kept);
	return found;
}

static int drop_tag(struct oci_layout *l, const char *tag, bool *found, struct json_object **out,
		    char *dropped, char *why, size_t len)
{
	struct json_object *index;
	char path[4096];

	snprintf(path, sizeof(path), "%s/index.json", l->dir);
	if (access(path, F_OK)) {
		index = json_object_new_object();
		json_object_object_add(index, "schemaVersion", json_object_new_int(2));
	} else if (!(index = json_file_object(path, INDEX_MAX, why, len))) {
		return -1;
	}
	*found = index_drop_name(index, tag, dropped);
	*out = index;
	return 0;
}

static int write_index(struct oci_layout *l, struct json_object *index, char *why, size_t len)
{
	const char *text = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	return write_atomic(l->dir, "index.json", text, strlen(text), why, len);
}

/* Is digest still named by an entry of index that is no artifact? */
static bool still_tagged(struct json_object *index, const char *digest)
{
	struct json_object *manifests;
	size_t i;

	if (!json_object_object_get_ex(index, "manifests", &manifests))
		return false;
	for (i = 0; i < json_object_array_length(manifests); i++) {
		struct json_object *e = json_object_array_get_idx(manifests, i);

		if (!json_object_object_get_ex(e, "artifactType", NULL) && oci_jstr(e, "digest") &&
		    !strcmp(oci_jstr(e, "digest"), digest))
			return true;
	}
	return false;
}

int oci_untag(struct oci_layout *l, const char *tag, char *why, size_t len)
{
	char dropped[OCI_DIGEST_LEN + 1] = "", rtag[80];
	struct json_object *index;
	bool found;
	int ret;

	if (drop_tag(l, tag, &found, &index, dropped, why, len))
		return -1;
	/* no tag names the manifest any more: nor does its referrers tag */
	if (found && oci_digest_ok(dropped) && !still_tagged(index, dropped)) {
		snprintf(rtag, sizeof(rtag), "sha256-%s", dropped + 7);
		index_drop_name(index, rtag, NULL);
	}
	ret = found ? write_index(l, index, why, len) :
		      failf(why, len, "%s: no image tagged '%s'", l->dir, tag);
	json_object_put(index);
	return ret;
}

int oci_tag(struct oci_layout *l, const char *tag, const char *digest, uint64_t size,
	    char *why, size_t len)
{
	return oci_tag_as(l, tag, digest, size, NULL, why, len);
}

int oci_tag_as(struct oci_layout *l, const char *tag, const char *digest, uint64_t size,
	       const char *artifact_type, char *why, size_t len)
{
	struct json_object *index, *manifests, *m, *ann;
	bool found;
	int ret;

	if (drop_tag(l, tag, &found, &index, NULL, why, len))
		return -1;
	json_object_object_get_ex(index, "manifests", &manifests);
	m = json_object_new_object();
	json_object_object_add(m, "mediaType", json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(m, "digest", json_object_new_string(digest));
	json_object_object_add(m, "size", json_object_new_int64((int64_t)size));
	if (artifact_type)
		json_object_object_add(m, "artifactType", json_object_new_string(artifact_type));
	ann = json_object_new_object();
	json_object_object_add(ann, OCI_ANN_REF_NAME, json_object_new_string(tag));
	json_object_object_add(m, "annotations", ann);
	json_object_array_add(manifests, m);
	ret = write_index(l, index, why, len);
	json_object_put(index);
	return ret;
}

#define MANIFEST_MAX	(4u << 20)	/* bytes of one manifest or index */

bool oci_digest_ok(const char *d)
{
	size_t i;

	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != OCI_DIGEST_LEN)
		return false;
	for (i = 7; i < OCI_DIGEST_LEN; i++)
		if (!strchr("0123456789abcdef", d[i]))
			return false;
	return true;
}

const char *oci_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

/* Read the blob digest from the store, check its bytes against it, parse it. */
struct json_object *oci_read_json_blob(const char *dir, const char *digest, char *why, size_t len)
{
	char path[4096], got[OCI_DIGEST_LEN + 1];
	struct json_object *o = NULL;
	EVP_MD_CTX *ctx;
	char *buf;
	size_t n;

	if (!oci_digest_ok(digest)) {
		failf(why, len, "digest '%.80s': expected sha256: and 64 hex digits", digest ? digest : "");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	buf = read_file_bounded(path, MANIFEST_MAX, &n, why, len);
	if (!buf)
		return NULL;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, buf, n);
	oci_sha256_final(ctx, got);
	EVP_MD_CTX_free(ctx);
	if (strcmp(got, digest))
		failf(why, len, "%s: its bytes hash to %s, not to its name", path, got);
	else if (!(o = json_tokener_parse(buf)) ||
		 !json_object_is_type(o, json_type_object)) {
		failf(why, len, "%s: not a JSON object", path);
		json_object_put(o);
		o = NULL;
	}
	free(buf);
	return o;
}

/* The manifest an index entry list names: by tag, else the only one. */
const char *oci_platform_digest(struct json_object *manifests)
{
	size_t i;

	for (i = 0; i < json_object_array_length(manifests); i++) {
		struct json_object *e = json_object_array_get_idx(manifests, i), *p;

		if (json_object_object_get_ex(e, "platform", &p) &&
		    oci_jstr(p, "os") && !strcmp(oci_jstr(p, "os"), "linux") &&
		    oci_jstr(p, "architecture") && !strcmp(oci_jstr(p, "architecture"), "amd64"))
			return oci_jstr(e, "digest");
	}
	return NULL;
}

static const char *pick_manifest(struct json_object *manifests, const char *tag, bool platform,
				 char *why, size_t len)
{
	const char *only = NULL;
	size_t i, n = json_object_array_length(manifests), images = 0;

	if (platform) {
		const char *d = oci_platform_digest(manifests);

		if (!d)
			failf(why, len, "the image index has no linux/amd64 manifest");
		return d;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(manifests, i), *a;
		const char *name = NULL;

		if (json_object_object_get_ex(e, "annotations", &a))
			name = oci_jstr(a, OCI_ANN_REF_NAME);
		if (tag && name && !strcmp(name, tag))
			return oci_jstr(e, "digest");
		/* an artifact (a verified image's trees) is no image of its own */
		if (!json_object_object_get_ex(e, "artifactType", NULL)) {
			images++;
			only = oci_jstr(e, "digest");
		}
	}
	if (images != 1)
		only = NULL;
	if (tag || !only)
		failf(why, len, "no image tagged '%s' in index.json", tag ? tag : "latest");
	return tag ? NULL : only;
}

int oci_load_manifest(const char *dir, const char *tag, struct oci_manifest *mf, char *why,
		      size_t len)
{
	struct json_object *index = NULL, *man = NULL, *list;
	char path[4096];
	const char *digest, *mt;
	int depth;

	memset(mf, 0, sizeof(*mf));
	snprintf(path, sizeof(path), "%s/index.json", dir);
	index = json_file_object(path, INDEX_MAX, why, len);
	if (!index)
		return -1;
	if (!json_object_object_get_ex(index, "manifests", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		failf(why, len, "%s: not an OCI image index: no \"manifests\" array", path);
		goto bad;
	}
	digest = pick_manifest(list, tag, false, why, len);
	if (!digest && !tag)
		digest = pick_manifest(list, "latest", false, why, len);
	for (depth = 0; digest; depth++) {
		char want[OCI_DIGEST_LEN + 2];

		/* the string lives in the document freed below: copy it first */
		snprintf(want, sizeof(want), "%s", digest);
		json_object_put(man);
		digest = want;
		man = oci_read_json_blob(dir, digest, why, len);
		if (!man)
			goto bad;
		snprintf(mf->digest, sizeof(mf->digest), "%.*s", OCI_DIGEST_LEN, digest);
		mt = oci_jstr(man, "mediaType");
		if (depth < 2 && ((mt && strstr(mt, "index")) ||
				  (!mt && json_object_object_get_ex(man, "manifests", &list)))) {
			if (!json_object_object_get_ex(man, "manifests", &list) ||
			    !json_object_is_type(list, json_type_array)) {
				failf(why, len, "%s: an image index without manifests", digest);
				goto bad;
			}
			digest = pick_manifest(list, NULL, true, why, len);
			continue;
		}
		break;
	}
	if (!digest || !man)
		goto bad;
	if (!json_object_object_get_ex(man, "layers", &mf->layers) ||
	    !json_object_is_type(mf->layers, json_type_array) || !json_object_array_length(mf->layers)) {
		failf(why, len, "manifest %s: no layers", mf->digest);
		goto bad;
	}
	json_object_put(index);
	mf->manifest = man;
	return 0;
bad:
	json_object_put(man);
	json_object_put(index);
	return -1;
}

int oci_resolve(const char *dir, const char *tag, struct oci_image *img, char *why, size_t len)
{
	struct oci_manifest mf;
	struct json_object *layers;
	int ret = -1;
	size_t i;

	memset(img, 0, sizeof(*img));
	if (oci_load_manifest(dir, tag, &mf, why, len))
		return -1;
	layers = mf.layers;
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", mf.digest);
	img->dir = strdup(dir);
	img->n = (unsigned int)json_object_array_length(layers);
	img->blobs = calloc(img->n, sizeof(*img->blobs));
	img->sizes = calloc(img->n, sizeof(*img->sizes));
	if (!img->dir || !img->blobs || !img->sizes) {
		failf(why, len, "%s: out of memory", dir);
		goto out;
	}
	for (i = 0; i < img->n; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a, *sz;
		const char *ld = oci_jstr(l, "digest"), *lmt = oci_jstr(l, "mediaType");
		struct stat st;

		if (!json_object_object_get_ex(l, "annotations", &a) || !oci_jstr(a, OVBD_ANN_DIGEST)) {
			snprintf(why, len, "layer %zu (%.80s, %.80s): not an OverlayBD layer: no %s annotation; convert the image first",
				 i, ld ? ld : "no digest", lmt ? lmt : "no mediaType", OVBD_ANN_DIGEST);
			goto out;
		}
		if (!oci_digest_ok(ld)) {
			failf(why, len, "layer digest '%.80s': expected sha256: and 64 hex digits", ld ? ld : "");
			goto out;
		}
		img->blobs[i] = malloc(strlen(dir) + 100);
		if (!img->blobs[i])
			goto out;
		sprintf(img->blobs[i], "%s/blobs/sha256/%s", dir, ld + 7);
		img->sizes[i] = json_object_object_get_ex(l, "size", &sz) ? (uint64_t)json_object_get_int64(sz) : 0;
		if (stat(img->blobs[i], &st)) {
			snprintf(why, len, "layer %zu (%s): not in the store: %s", i, ld, strerror(errno));
			goto out;
		}
		if ((uint64_t)st.st_size != img->sizes[i]) {
			snprintf(why, len, "layer %zu (%s): %llu bytes in the store, the manifest says %llu",
				 i, ld, (unsigned long long)st.st_size, (unsigned long long)img->sizes[i]);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret)
		oci_image_free(img);
	json_object_put(mf.manifest);
	return ret;
}

void oci_image_free(struct oci_image *img)
{
	unsigned int i;

	for (i = 0; img->blobs && i < img->n; i++)
		free(img->blobs[i]);
	free(img->blobs);
	free(img->sizes);
	free(img->dir);
	memset(img, 0, sizeof(*img));
}

char *oci_split_ref(const char *arg, const char **tag)
{
	char *dir = strdup(strncmp(arg, "oci:", 4) ? arg : arg + 4), *colon;

	*tag = NULL;
	if (!dir)
		return NULL;
	colon = strstr(dir, ":sha256:");	/* DIR:sha256:<hex>, a digest as the tag */
	if (!colon)
		colon = strrchr(dir, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = 0;
		*tag = colon + 1;
	}
	return dir;
}

int oci_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		   unsigned int *np, char *why, size_t len)
{
	const char *tag;
	char *dir;
	int ret;

	memset(img, 0, sizeof(*img));
	*paths = args;
	*np = n;
	if (n != 1 || strncmp(args[0], "oci:", 4))
		return 0;
	dir = oci_split_ref(args[0], &tag);
	if (!dir)
		return failf(why, len, "%s: out of memory", args[0]);
	ret = oci_resolve(dir, tag, img, why, len);
	if (ret) {
		char msg[600];

		snprintf(msg, sizeof(msg), "%s", why);
		snprintf(why, len, "%s: %s", args[0], msg);
	} else {
		*paths = img->blobs;
		*np = img->n;
	}
	free(dir);
	return ret;
}

/* Mark an index or manifest digest and what it references. */
static void mark(const char *dir, const char *digest, struct json_object *keep, int depth)
{
	struct json_object *o, *list, *cfg;
	char why[300];
	size_t i;

	if (!oci_digest_ok(digest) || json_object_object_get_ex(keep, digest, NULL))
		return;
	json_object_object_add(keep, digest, NULL);
	if (depth > 3)
		return;
	o = oci_read_json_blob(dir, digest, why, sizeof(why));
	if (!o)
		return;		/* a layer or config: not JSON we follow, or missing */
	if (json_object_object_get_ex(o, "manifests", &list) && json_object_is_type(list, json_type_array))
		for (i = 0; i < json_object_array_length(list); i++)
			mark(dir, oci_jstr(json_object_array_get_idx(list, i), "digest"), keep, depth + 1);
	/* a config and layers are leaves: kept, never read (a layer may be gigabytes) */
	if (json_object_object_get_ex(o, "config", &cfg) && oci_digest_ok(oci_jstr(cfg, "digest")))
		json_object_object_add(keep, oci_jstr(cfg, "digest"), NULL);
	if (json_object_object_get_ex(o, "layers", &list) && json_object_is_type(list, json_type_array))
		for (i = 0; i < json_object_array_length(list); i++) {
			const char *ld = oci_jstr(json_object_array_get_idx(list, i), "digest");

			if (oci_digest_ok(ld))
				json_object_object_add(keep, ld, NULL);
		}
	json_object_put(o);
}

int oci_gc(struct oci_layout *l, unsigned int *removed, uint64_t *freed, unsigned int *kept,
	   char *why, size_t len)
{
	struct json_object *index, *keep = json_object_new_object(), *list;
	char path[4096], name[80];
	struct dirent *e;
	size_t i;
	DIR *d;

	*removed = *kept = 0;
	*freed = 0;
	snprintf(path, sizeof(path), "%s/index.json", l->dir);
	index = json_file_object(path, INDEX_MAX, why, len);
	if (!index) {
		json_object_put(keep);
		return -1;
	}
	if (json_object_object_get_ex(index, "manifests", &list) && json_object_is_type(list, json_type_array))
		for (i = 0; i < json_object_array_length(list); i++)
			mark(l->dir, oci_jstr(json_object_array_get_idx(list, i), "digest"), keep, 0);
	json_object_put(index);
	snprintf(path, sizeof(path), "%s/blobs/sha256", l->dir);
	d = opendir(path);
	if (!d) {
		json_object_put(keep);
		return failf(why, len, "%s: %s", path, strerror(errno));
	}
	while ((e = readdir(d))) {
		struct stat st;
		char file[4400];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(name, sizeof(name), "sha256:%.70s", e->d_name);
		if (oci_digest_ok(name) && json_object_object_get_ex(keep, name, NULL)) {
			(*kept)++;
			continue;
		}
		/* unreferenced blobs, and unfinished downloads and writes */
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (!stat(file, &st) && S_ISREG(st.st_mode) && !unlink(file)) {
			(*removed)++;
			*freed += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	json_object_put(keep);
	return 0;
}

int oci_put_decompressed(struct oci_layout *l, const char *path, const char *want_digest,
			 uint64_t *size, char *why, size_t len)
{
	struct source src = { .path = path, .a = archive_read_new() };
	struct archive_entry *entry;
	char got[OCI_DIGEST_LEN + 1];
	int ret = -1;

	*size = 0;
	if (!src.a)
		return failf(why, len, "%s: out of memory", path);
	/* the raw format: the stream's bytes, whatever compression libarchive finds */
	archive_read_support_filter_all(src.a);
	archive_read_support_format_raw(src.a);
	if (archive_read_open_filename(src.a, path, COPY_CHUNK) != ARCHIVE_OK ||
	    archive_read_next_header(src.a, &entry) != ARCHIVE_OK)
		failf(why, len, "%s: %s", path, archive_error_string(src.a) ?
		     archive_error_string(src.a) : "unreadable");
	else
		ret = store_stream(l, &src, want_digest, got, size, why, len);
	archive_read_free(src.a);
	return ret;
}

struct json_object *oci_descriptor(const char *mt, const char *digest, uint64_t size)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
	return d;
}

const char *oci_json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int oci_write_image(struct oci_layout *lay, const char *tag, const struct oci_built_layer *layers,
		    unsigned int n, const char *fs_type, struct json_object *base_config,
		    const char *created, char *mdigest, char *why, size_t len)
{
	struct json_object *config = NULL, *rootfs, *diff_ids, *history, *manifest, *ls;
	char cdigest[OCI_DIGEST_LEN + 1];
	const char *text;
	unsigned int i;
	size_t clen;
	int ret = -1;

	/* the config: an OverlayBD layer is an uncompressed tar, its diff_id its digest */
	if (base_config) {
		if (json_object_deep_copy(base_config, &config, NULL))
			return failf(why, len, "config: out of memory");
	} else {
		config = json_object_new_object();
		json_object_object_add(config, "created", json_object_new_string(created));
		json_object_object_add(config, "architecture", json_object_new_string("amd64"));
		json_object_object_add(config, "os", json_object_new_string("linux"));
		json_object_object_add(config, "config", json_object_new_object());
	}
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	diff_ids = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(diff_ids, json_object_new_string(layers[i].digest));
	json_object_object_add(rootfs, "diff_ids", diff_ids);
	json_object_object_add(config, "rootfs", rootfs);
	if (!base_config) {	/* a history entry per layer; a converted image keeps its own */
		history = json_object_new_array();
		for (i = 0; i < n; i++) {
			struct json_object *h = json_object_new_object();

			json_object_object_add(h, "created", json_object_new_string(created));
			json_object_object_add(h, "created_by", json_object_new_string("ovbd commit"));
			if (layers[i].comment && layers[i].comment[0])
				json_object_object_add(h, "comment", json_object_new_string(layers[i].comment));
			json_object_array_add(history, h);
		}
		json_object_object_add(config, "history", history);
	}
	text = oci_json_text(config);
	clen = strlen(text);
	if (oci_put_bytes(lay, text, clen, cdigest, why, len)) {
		json_object_put(config);
		return -1;
	}
	json_object_put(config);

	manifest = json_object_new_object();
	json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
	json_object_object_add(manifest, "mediaType", json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(manifest, "config", oci_descriptor(OCI_MT_CONFIG, cdigest, clen));
	ls = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *d = oci_descriptor(OCI_MT_LAYER_TAR, layers[i].digest, layers[i].size);
		struct json_object *a = json_object_new_object();
		char size[24];

		snprintf(size, sizeof(size), "%llu", (unsigned long long)layers[i].size);
		json_object_object_add(a, OVBD_ANN_DIGEST, json_object_new_string(layers[i].digest));
		json_object_object_add(a, OVBD_ANN_SIZE, json_object_new_string(size));
		json_object_object_add(a, OVBD_ANN_FSTYPE, json_object_new_string(fs_type));
		json_object_object_add(a, OVBD_ANN_VERSION, json_object_new_string(OVBD_IMAGE_VERSION));
		json_object_object_add(d, "annotations", a);
		json_object_array_add(ls, d);
	}
	json_object_object_add(manifest, "layers", ls);
	text = oci_json_text(manifest);
	if (!oci_put_bytes(lay, text, strlen(text), mdigest, why, len) &&
	    !oci_tag(lay, tag, mdigest, strlen(text), why, len))
		ret = 0;
	json_object_put(manifest);
	return ret;
}
