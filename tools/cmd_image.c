// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd image build: turn layers made by ovbd commit --tar into an OCI image
 * in a layout directory: the blobs, a config whose rootfs.diff_ids are the
 * blobs' digests (an OverlayBD layer is an uncompressed tar) with a history
 * entry per layer, and a manifest whose layer descriptors carry the
 * annotations that mark OverlayBD layers (FORMAT.md), tagged in index.json.
 */
#include "commands.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <time.h>

#define OVBD_IMAGE_VERSION	"0.1.0"

struct built_layer {
	char digest[OCI_DIGEST_LEN + 1];
	u64 size;
	char message[OVBD_LSMT_TAG_LEN + 1];
};

/* Open blob i: a tar-wrapped OverlayBD layer; keep its uuids for the chain check. */
static void check_layer(const char *path, unsigned int i, char *uuid, char *parent, char *msg)
{
	struct blob b;

	if (blob_open(&b, path))
		die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why);
	if (!b.tar)
		die(EXIT_BAD_INPUT, "layer %u: %s: not tar-wrapped; an OCI layer is a tar (ovbd commit --tar, or ovbd zfile --tar)",
		    i, path);
	if (!content_is_lsmt(&b) || blob_open_lsmt(&b) || blob_load_index(&b))
		die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why[0] ? b.why : "expected an LSMT layer");
	snprintf(uuid, OVBD_LSMT_UUID_LEN + 1, "%s", b.layer.tail.uuid);
	snprintf(parent, OVBD_LSMT_UUID_LEN + 1, "%s", b.layer.tail.parent_uuid);
	snprintf(msg, OVBD_LSMT_TAG_LEN + 1, "%s", b.layer.tail.user_tag);
	blob_close(&b);
}

static struct json_object *descriptor(const char *mt, const char *digest, u64 size)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
	return d;
}

/* RFC 3339 UTC: SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
static void created_time(char *buf, size_t len)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	struct tm tm;
	char *end;

	if (sde && *sde) {
		long long v = strtoll(sde, &end, 10);

		if (*end || v < 0)
			die(EXIT_USAGE, "SOURCE_DATE_EPOCH: expected seconds since 1970, got '%s'", sde);
		t = (time_t)v;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int image_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "fs-type", required_argument, NULL, 'f' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	static char uuid[OVBD_LSMT_MAX_LAYERS][OVBD_LSMT_UUID_LEN + 1];
	static char parent[OVBD_LSMT_MAX_LAYERS][OVBD_LSMT_UUID_LEN + 1];
	static struct built_layer layers[OVBD_LSMT_MAX_LAYERS];
	const char *u[OVBD_LSMT_MAX_LAYERS], *pu[OVBD_LSMT_MAX_LAYERS];
	const char *tag = "latest", *fs_type = "ext4", *text;
	struct json_object *config, *rootfs, *diff_ids, *history, *manifest, *ls;
	char cdigest[OCI_DIGEST_LEN + 1], mdigest[OCI_DIGEST_LEN + 1], why[600], created[32];
	struct oci_layout lay;
	unsigned int i, n;
	int c;

	while ((c = ovbd_getopt(argc, argv, "t:h", opts)) != -1) {
		switch (c) {
		case 't': tag = optarg; break;
		case 'f': fs_type = optarg; break;
		case 'I': stack_ignore_chain = true; break;
		default: usage_of("image", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (argc - optind < 2)
		usage_of("image", EXIT_USAGE);
	if (strcmp(fs_type, "ext4") && strcmp(fs_type, "erofs"))
		die(EXIT_USAGE, "--fs-type: expected ext4 or erofs, got '%s'", fs_type);
	if (!*tag || strlen(tag) > 128 || strpbrk(tag, "/: \t\n@"))
		die(EXIT_USAGE, "--tag: expected 1..128 characters without '/', ':', '@' or spaces, got '%s'", tag);
	n = (unsigned int)(argc - optind - 1);
	if (n > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "an image has 1..255 layers, not %u", n);
	for (i = 0; i < n; i++) {
		check_layer(argv[optind + 1 + i], i, uuid[i], parent[i], layers[i].message);
		u[i] = uuid[i];
		pu[i] = parent[i];
	}
	stack_check_chain(argv + optind + 1, u, pu, n);

	if (oci_layout_open(&lay, argv[optind], why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	for (i = 0; i < n; i++)
		if (oci_put_file(&lay, argv[optind + 1 + i], layers[i].digest, &layers[i].size,
				 why, sizeof(why)))
			die(EXIT_BAD_INPUT, "layer %u: %s", i, why);

	/* the config: an OverlayBD layer is an uncompressed tar, its diff_id its digest */
	created_time(created, sizeof(created));
	config = json_object_new_object();
	json_object_object_add(config, "created", json_object_new_string(created));
	json_object_object_add(config, "architecture", json_object_new_string("amd64"));
	json_object_object_add(config, "os", json_object_new_string("linux"));
	json_object_object_add(config, "config", json_object_new_object());
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	diff_ids = json_object_new_array();
	history = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *h = json_object_new_object();

		json_object_array_add(diff_ids, json_object_new_string(layers[i].digest));
		json_object_object_add(h, "created", json_object_new_string(created));
		json_object_object_add(h, "created_by", json_object_new_string("ovbd commit"));
		if (layers[i].message[0])
			json_object_object_add(h, "comment", json_object_new_string(layers[i].message));
		json_object_array_add(history, h);
	}
	json_object_object_add(rootfs, "diff_ids", diff_ids);
	json_object_object_add(config, "rootfs", rootfs);
	json_object_object_add(config, "history", history);
	text = json_text(config);
	if (oci_put_bytes(&lay, text, strlen(text), cdigest, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "config: %s", why);

	manifest = json_object_new_object();
	json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
	json_object_object_add(manifest, "mediaType", json_object_new_string(OCI_MT_MANIFEST));
	json_object_object_add(manifest, "config", descriptor(OCI_MT_CONFIG, cdigest, strlen(text)));
	ls = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *d = descriptor(OCI_MT_LAYER_TAR, layers[i].digest, layers[i].size);
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
	json_object_put(config);
	text = json_text(manifest);
	if (oci_put_bytes(&lay, text, strlen(text), mdigest, why, sizeof(why)) ||
	    oci_tag(&lay, tag, mdigest, strlen(text), why, sizeof(why)))
		die(EXIT_BAD_INPUT, "manifest: %s", why);
	printf("%s:%s %s\n", argv[optind], tag, mdigest);
	json_object_put(manifest);
	oci_layout_close(&lay);
	return 0;
}

static void gc_report(struct oci_layout *lay)
{
	unsigned int removed, kept;
	char why[600];
	u64 freed;

	if (oci_gc(lay, &removed, &freed, &kept, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "gc: %s", why);
	printf("%s: removed %u unreferenced blob%s (%llu bytes), kept %u\n", lay->dir, removed,
	       removed == 1 ? "" : "s", (unsigned long long)freed, kept);
}

/* ovbd gc [DIR] and ovbd rmi DIR:TAG: untag (rmi), then remove what nothing references */
static int gc_or_rmi(int argc, char **argv, const char *cmd, bool rmi)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct oci_layout lay;
	char why[600];
	const char *tag;
	char *dir;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1)
		usage_of(cmd, c == 'h' ? 0 : EXIT_USAGE);
	if (rmi ? argc - optind != 1 : argc - optind > 1)
		usage_of(cmd, EXIT_USAGE);
	dir = oci_split_ref(argc > optind ? argv[optind] : ovbd_store(), &tag);
	if (!dir)
		die(EXIT_BAD_INPUT, "out of memory");
	if (rmi && !tag)
		die(EXIT_USAGE, "rmi %s: name the image as DIR:TAG", argv[optind]);
	if (oci_layout_open(&lay, dir, why, sizeof(why)) ||
	    (rmi && oci_untag(&lay, tag, why, sizeof(why))))
		die(EXIT_BAD_INPUT, "%s: %s", cmd, why);
	gc_report(&lay);
	oci_layout_close(&lay);
	free(dir);
	return 0;
}

int cmd_gc(int argc, char **argv)
{
	return gc_or_rmi(argc, argv, "gc", false);
}

int cmd_rmi(int argc, char **argv)
{
	return gc_or_rmi(argc, argv, "rmi", true);
}

int cmd_image(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "build"))
		return image_build(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		usage_of("image", 0);
	usage_of("image", EXIT_USAGE);
}
