// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: verified images (vimage.h). */
#include "vimage.h"
#include "blob.h"
#include "oci.h"
#include "config.h"
#include "dmstack.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

/* "{}": the config of an artifact (the OCI 1.1 empty descriptor) */
#define EMPTY_JSON	"{}"

int vimage_desc_verity(struct json_object *desc, uint64_t size, struct layer_verity *v,
		       char *why, size_t len)
{
	struct json_object *a;
	const char *root, *salt, *dbs;
	unsigned long d;

	memset(v, 0, sizeof(*v));
	if (!json_object_object_get_ex(desc, "annotations", &a))
		return 0;
	root = oci_jstr(a, OVBD_ANN_VERITY_ROOT);
	salt = oci_jstr(a, OVBD_ANN_VERITY_SALT);
	dbs = oci_jstr(a, OVBD_ANN_VERITY_DBS);
	if (!root && !salt && !dbs)
		return 0;
	if (!verity_unhex(root, v->root, VERITY_DIGEST))
		return failf(why, len, "%s: expected 64 lower-case hex digits, got '%.80s'",
			     OVBD_ANN_VERITY_ROOT, root ? root : "none");
	if (!salt || strlen(salt) > 2 * VERITY_SALT || strlen(salt) % 2 ||
	    !verity_unhex(salt, v->salt, strlen(salt) / 2))
		return failf(why, len, "%s: expected up to 64 lower-case hex digits, got '%.80s'",
			     OVBD_ANN_VERITY_SALT, salt ? salt : "none");
	v->salt_size = (u32)strlen(salt) / 2;
	d = dbs ? strtoul(dbs, NULL, 10) : 0;
	if (!dbs || (strcmp(dbs, "4096") && strcmp(dbs, "512")))
		return failf(why, len, "%s: expected 4096 or 512, got '%.20s'", OVBD_ANN_VERITY_DBS,
			     dbs ? dbs : "none");
	/* every byte of the blob in a data block: a blob that is no multiple of it is refused */
	if (!size || size % d)
		return failf(why, len, "%s %lu: the blob's %llu bytes are no multiple of it",
			     OVBD_ANN_VERITY_DBS, d, (unsigned long long)size);
	v->data_block_size = (u32)d;
	v->data_blocks = size / d;
	v->hash_offset = VERITY_HASH_BLOCK;
	v->set = true;
	return 0;
}

void vimage_annotate(struct json_object *desc, const struct layer_verity *v)
{
	char root[VERITY_HEX_ROOT], salt[2 * VERITY_SALT + 1], dbs[16];
	struct json_object *a;

	if (!json_object_object_get_ex(desc, "annotations", &a)) {
		a = json_object_new_object();
		json_object_object_add(desc, "annotations", a);
	}
	verity_hex(v->root, VERITY_DIGEST, root);
	verity_hex(v->salt, v->salt_size, salt);
	snprintf(dbs, sizeof(dbs), "%u", v->data_block_size);
	json_object_object_add(a, OVBD_ANN_VERITY_ROOT, json_object_new_string(root));
	json_object_object_add(a, OVBD_ANN_VERITY_SALT, json_object_new_string(salt));
	json_object_object_add(a, OVBD_ANN_VERITY_DBS, json_object_new_string(dbs));
}

int vimage_make_tree(struct oci_layout *lay, const char *blob_digest, u32 dbs, const u8 *salt,
		     struct layer_verity *v, char *tree_digest, uint64_t *tree_size, char *why,
		     size_t len)
{
	char blob[4200], tmp[4300];
	struct verity_params p;
	int fd, ret;

	snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", lay->dir, blob_digest + 7);
	if (!dbs) {	/* 4096 where the blob's size and payload allow it */
		struct blob b;

		if (blob_open(&b, blob)) {
			failf(why, len, "%s", b.why);
			blob_close(&b);
			return -1;
		}
		dbs = verity_data_block_size(b.file_size, b.payload_off, b.zfile);
		blob_close(&b);
	}
	snprintf(tmp, sizeof(tmp), "%s/blobs/sha256/.verity.XXXXXX", lay->dir);
	fd = mkstemp(tmp);
	if (fd < 0)
		return failf(why, len, "%s: %s", tmp, strerror(errno));
	close(fd);
	memset(v, 0, sizeof(*v));
	ret = verity_tree_file(blob, tmp, dbs, salt, VERITY_SALT, &p, v->root, why, len);
	if (!ret)
		ret = oci_put_file(lay, tmp, tree_digest, tree_size, why, len);
	unlink(tmp);
	if (ret)
		return -1;
	memcpy(v->salt, salt, VERITY_SALT);
	v->salt_size = VERITY_SALT;
	v->data_block_size = p.data_block_size;
	v->data_blocks = p.data_blocks;
	v->hash_offset = p.hash_offset;
	snprintf(v->tree, sizeof(v->tree), "%s/blobs/sha256/%s", lay->dir, tree_digest + 7);
	v->set = true;
	return 0;
}

int vimage_put_artifact(struct oci_layout *lay, const char *mdigest, uint64_t msize,
			const char *const *blob_digest, const char *const *tree_digest,
			const uint64_t *tree_size, unsigned int n, char *why, size_t len)
{
	struct json_object *m = json_object_new_object(), *layers = json_object_new_array(), *subj;
	char edigest[OCI_DIGEST_LEN + 1], adigest[OCI_DIGEST_LEN + 1], tag[80];
	const char *text;
	unsigned int i;
	int ret = -1;

	if (oci_put_bytes(lay, EMPTY_JSON, 2, edigest, why, len))
		goto out;
	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType", json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(m, "artifactType", json_object_new_string(OVBD_AT_VERITY));
	json_object_object_add(m, "config", oci_descriptor(OCI_MT_EMPTY, edigest, 2));
	for (i = 0; i < n; i++) {
		struct json_object *d, *a;

		if (!tree_digest[i])
			continue;
		d = oci_descriptor(OVBD_MT_VERITY_TREE, tree_digest[i], tree_size[i]);
		a = json_object_new_object();
		json_object_object_add(a, OVBD_ANN_VERITY_BLOB, json_object_new_string(blob_digest[i]));
		json_object_object_add(d, "annotations", a);
		json_object_array_add(layers, d);
	}
	json_object_object_add(m, "layers", json_object_get(layers));
	subj = oci_descriptor(OCI_MT_MANIFEST, mdigest, msize);
	json_object_object_add(m, "subject", subj);
	text = oci_json_text(m);
	snprintf(tag, sizeof(tag), "sha256-%.64s", mdigest + 7);
	if (!oci_put_bytes(lay, text, strlen(text), adigest, why, len) &&
	    !oci_tag_as(lay, tag, adigest, strlen(text), OVBD_AT_VERITY, why, len))
		ret = 0;
out:
	json_object_put(layers);
	json_object_put(m);
	return ret;
}

/* The trees the layout's artifact for mdigest names: tree paths by blob digest. */
static void vimage_find_trees(const char *dir, const char *mdigest, struct json_object *layers,
			      struct layer_verity *v, unsigned int n)
{
	struct oci_manifest art;
	char tag[80], why[600];
	unsigned int i;
	size_t k;

	snprintf(tag, sizeof(tag), "sha256-%.64s", mdigest + 7);
	if (oci_load_manifest(dir, tag, &art, why, sizeof(why)))
		return;		/* no artifact: the trees are made */
	for (k = 0; k < json_object_array_length(art.layers); k++) {
		struct json_object *t = json_object_array_get_idx(art.layers, k), *a;
		const char *td = oci_jstr(t, "digest"), *bd;

		if (!json_object_object_get_ex(t, "annotations", &a) ||
		    !(bd = oci_jstr(a, OVBD_ANN_VERITY_BLOB)) || !oci_digest_ok(td))
			continue;
		for (i = 0; i < n; i++) {
			struct json_object *l = json_object_array_get_idx(layers, i);
			char path[4200];

			if (!v[i].set || v[i].tree[0] || !oci_jstr(l, "digest") || strcmp(oci_jstr(l, "digest"), bd))
				continue;
			snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, td + 7);
			if (!access(path, R_OK))
				snprintf(v[i].tree, sizeof(v[i].tree), "%s", path);
		}
	}
	json_object_put(art.manifest);
}

/*
 * The tree file's superblock names v's parameters (the root hash is
 * dm-verity's to check, at activation and on every read): a tree from
 * elsewhere that does not fit the manifest is refused before it is used.
 */
static int vimage_check_tree(const struct layer_verity *v, unsigned int i, char *why, size_t len)
{
	struct verity_params p;
	char err[600];

	if (verity_read_superblock(v->tree, &p, err, sizeof(err)))
		return failf(why, len, "layer %u: %s", i, err);
	if (p.data_block_size != v->data_block_size || p.data_blocks != v->data_blocks ||
	    p.salt_size != v->salt_size || memcmp(p.salt, v->salt, v->salt_size))
		return failf(why, len, "layer %u: the tree %s is for other parameters than the manifest's (data blocks %u x %llu, salt)",
			     i, v->tree, v->data_block_size, (unsigned long long)v->data_blocks);
	return 0;
}

int vimage_layers(const char *dir, const char *mdigest, struct layer_verity *v, unsigned int n,
		  unsigned int *nverified, char *why, size_t len)
{
	struct oci_manifest mf;
	struct oci_layout lay = { 0 };
	const char *bd[256], *td[256];
	char tds[256][OCI_DIGEST_LEN + 1];
	uint64_t ts[256];
	unsigned int i, made = 0;
	char err[1024];
	int ret = -1;

	*nverified = 0;
	memset(&mf, 0, sizeof(mf));
	mf.manifest = oci_read_json_blob(dir, mdigest, why, len);
	if (!mf.manifest)
		return -1;
	snprintf(mf.digest, sizeof(mf.digest), "%s", mdigest);
	if (!json_object_object_get_ex(mf.manifest, "layers", &mf.layers) ||
	    !json_object_is_type(mf.layers, json_type_array) ||
	    json_object_array_length(mf.layers) != n || n > 255) {
		failf(why, len, "manifest %s: %zu layers, expected %u", mdigest,
		      json_object_is_type(mf.layers, json_type_array) ?
		      json_object_array_length(mf.layers) : 0, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(mf.layers, i), *sz;
		uint64_t size = json_object_object_get_ex(l, "size", &sz) ? (uint64_t)json_object_get_int64(sz) : 0;

		if (vimage_desc_verity(l, size, &v[i], err, sizeof(err))) {
			failf(why, len, "layer %u: %s", i, err);
			goto out;
		}
		*nverified += v[i].set;
	}
	if (!*nverified) {
		ret = 0;
		goto out;
	}
	vimage_find_trees(dir, mf.digest, mf.layers, v, n);
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(mf.layers, i);
		struct layer_verity want = v[i];

		bd[i] = oci_jstr(l, "digest");
		td[i] = NULL;
		ts[i] = 0;
		if (!v[i].set)
			continue;
		if (!v[i].tree[0]) {	/* no tree in the layout: made from the stored blob */
			if (!lay.dir && oci_layout_open(&lay, dir, why, len))
				goto out;
			if (vimage_make_tree(&lay, bd[i], want.data_block_size, want.salt, &v[i], tds[i],
					     &ts[i], err, sizeof(err))) {
				failf(why, len, "layer %u: %s", i, err);
				goto out;
			}
			td[i] = tds[i];
			made++;
			/* the stored blob gave another root: it is not what the manifest covers */
			if (memcmp(v[i].root, want.root, VERITY_DIGEST) || v[i].salt_size != want.salt_size ||
			    v[i].data_block_size != want.data_block_size) {
				char got[VERITY_HEX_ROOT], exp[VERITY_HEX_ROOT];

				verity_hex(v[i].root, VERITY_DIGEST, got);
				verity_hex(want.root, VERITY_DIGEST, exp);
				failf(why, len, "layer %u (%.19s...): its stored blob's root hash is %s, the manifest's %s: the blob was changed",
				      i, bd[i], got, exp);
				goto out;
			}
		}
		if (vimage_check_tree(&v[i], i, why, len))
			goto out;
	}
	if (made) {	/* recorded, so that the next open finds them */
		struct stat st;
		char mpath[4200];

		for (i = 0; i < n; i++)		/* the trees found: named again in the new artifact */
			if (v[i].set && !td[i]) {
				const char *base = strrchr(v[i].tree, '/');

				snprintf(tds[i], sizeof(tds[i]), "sha256:%s", base ? base + 1 : "");
				td[i] = tds[i];
				ts[i] = !stat(v[i].tree, &st) ? (uint64_t)st.st_size : 0;
			}
		snprintf(mpath, sizeof(mpath), "%s/blobs/sha256/%s", dir, mf.digest + 7);
		if (stat(mpath, &st) ||
		    vimage_put_artifact(&lay, mf.digest, (uint64_t)st.st_size, bd, td, ts, n, why, len))
			goto out;
	}
	ret = 0;
out:
	if (lay.dir)
		oci_layout_close(&lay);
	json_object_put(mf.manifest);
	return ret;
}

int vimage_add(const char *dir, const char *tag, const char *newtag, char *mdigest, char *why,
	       size_t len)
{
	struct oci_manifest mf;
	struct oci_layout lay;
	const char *bd[256], *td[256], *text, *at;
	char tds[256][OCI_DIGEST_LEN + 1], err[1024];
	struct json_object *m = NULL, *layers;
	uint64_t ts[256];
	unsigned int i, n;
	int ret = -1;

	if (oci_load_manifest(dir, tag, &mf, why, len))
		return -1;
	if (oci_layout_open(&lay, dir, why, len)) {
		json_object_put(mf.manifest);
		return -1;
	}
	at = oci_jstr(mf.manifest, "artifactType");
	if (at && !strcmp(at, OVBD_AT_VERITY)) {
		failf(why, len, "%s: a verity artifact, not an image", tag ? tag : dir);
		goto out;
	}
	if (json_object_deep_copy(mf.manifest, &m, NULL)) {
		failf(why, len, "out of memory");
		goto out;
	}
	json_object_object_get_ex(m, "layers", &layers);
	n = (unsigned int)json_object_array_length(layers);
	if (n > 255) {
		failf(why, len, "manifest %s: %u layers, at most 255", mf.digest, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a;
		struct layer_verity v;
		u8 salt[VERITY_SALT];

		bd[i] = oci_jstr(l, "digest");
		if (!oci_digest_ok(bd[i])) {
			failf(why, len, "layer %u: digest '%.80s' is no sha256", i, bd[i] ? bd[i] : "");
			goto out;
		}
		if (!json_object_object_get_ex(l, "annotations", &a) || !oci_jstr(a, OVBD_ANN_DIGEST)) {
			failf(why, len, "layer %u (%.19s...): not an OverlayBD layer (no %s annotation)", i,
			      bd[i], OVBD_ANN_DIGEST);
			goto out;
		}
		if (verity_salt(salt, why, len))
			goto out;
		if (vimage_make_tree(&lay, bd[i], 0, salt, &v, tds[i], &ts[i], err, sizeof(err))) {
			failf(why, len, "layer %u: %s", i, err);
			goto out;
		}
		td[i] = tds[i];
		vimage_annotate(l, &v);
	}
	text = oci_json_text(m);
	if (oci_put_bytes(&lay, text, strlen(text), mdigest, why, len) ||
	    vimage_put_artifact(&lay, mdigest, strlen(text), bd, td, ts, n, why, len) ||
	    oci_tag(&lay, newtag ? newtag : tag ? tag : "latest", mdigest, strlen(text), why, len))
		goto out;
	ret = 0;
out:
	json_object_put(m);
	json_object_put(mf.manifest);
	oci_layout_close(&lay);
	return ret;
}

int vimage_stack_verity(const struct oci_image *img, unsigned int n, char **paths, bool require,
			struct layer_verity *v, const struct layer_verity **verity, char *why,
			size_t len)
{
	unsigned int i, nver = 0;

	*verity = NULL;
	if (img->dir && vimage_layers(img->dir, img->manifest_digest, v, img->n, &nver, why, len))
		return -1;
	*verity = nver ? v : NULL;
	for (i = 0; require && i < n; i++)
		if (!img->dir || !v[i].set)
			return failf(why, len, "layer %u (%s): %s: verity is required (--require-verity, or \"require-verity\" in %s)",
				     i, paths[i], img->dir ? "the manifest carries no dm-verity root hash for it" :
				     "no image manifest, so no dm-verity root hash", OVBD_CONF_DEFAULT);
	return 0;
}

int vimage_open_stack(struct dmstack *s, const char *name, const struct oci_image *img,
		      unsigned int n, char **paths, const char *ref, bool require,
		      struct dmstack_opts *so, char *why, size_t len)
{
	static struct layer_verity v[OVBD_LSMT_MAX_LAYERS];
	int ret;

	so->manifest = img->n ? img->manifest_digest : NULL;
	ret = vimage_stack_verity(img, n, paths, require, v, &so->verity, why, len);
	if (!ret)
		ret = dmstack_open(s, name, paths, n, so, why, len);
	/* by reference: the one thing the kernel cannot tell */
	if (!ret && img->n && ref && dmstack_record_image(name, ref, img->manifest_digest, why, len))
		ret = 1;
	return ret;
}
