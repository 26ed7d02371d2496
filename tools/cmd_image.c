// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd image build: turn layers made by ovbd commit --tar into an OCI image
 * in a layout directory: the blobs, a config whose rootfs.diff_ids are the
 * blobs' digests (an OverlayBD layer is an uncompressed tar) with a history
 * entry per layer, and a manifest whose layer descriptors carry the
 * annotations that mark OverlayBD layers (FORMAT.md), tagged in index.json.
 */
#include "commands.h"
#include "blob.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <time.h>

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
	if (!blob_content_is_lsmt(&b) || blob_open_lsmt(&b) || blob_load_index(&b))
		die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why[0] ? b.why : "expected an LSMT layer");
	snprintf(uuid, OVBD_LSMT_UUID_LEN + 1, "%s", b.layer.tail.uuid);
	snprintf(parent, OVBD_LSMT_UUID_LEN + 1, "%s", b.layer.tail.parent_uuid);
	snprintf(msg, OVBD_LSMT_TAG_LEN + 1, "%s", b.layer.tail.user_tag);
	blob_close(&b);
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
	const char *tag = "latest", *fs_type = "ext4";
	static struct oci_built_layer built[OVBD_LSMT_MAX_LAYERS];
	char mdigest[OCI_DIGEST_LEN + 1], why[600], created[32];
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
	if (stack_check_chain(argv + optind + 1, u, pu, n, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);

	if (oci_layout_open(&lay, argv[optind], why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	for (i = 0; i < n; i++)
		if (oci_put_file(&lay, argv[optind + 1 + i], layers[i].digest, &layers[i].size,
				 why, sizeof(why)))
			die(EXIT_BAD_INPUT, "layer %u: %s", i, why);

	created_time(created, sizeof(created));
	for (i = 0; i < n; i++)
		built[i] = (struct oci_built_layer){ layers[i].digest, layers[i].size, layers[i].message };
	if (oci_write_image(&lay, tag, built, n, fs_type, NULL, created, mdigest, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	printf("%s:%s %s\n", argv[optind], tag, mdigest);
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
