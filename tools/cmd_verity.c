// SPDX-License-Identifier: GPL-2.0-only
/* ovbd verity: dm-verity hash trees of layer blobs (lib/verity.c). */
#include "commands.h"
#include "oci.h"
#include "util.h"
#include "verity.h"
#include "vimage.h"
#include <getopt.h>
#include <json-c/json.h>

/* ovbd verity tree [--salt HEX] BLOB TREE: what veritysetup format BLOB TREE writes. */
static int verity_tree_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "salt", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	u8 salt[VERITY_SALT], root[VERITY_DIGEST];
	char why[1024], hex[2 * VERITY_SALT + 1], rhex[VERITY_HEX_ROOT];
	struct verity_params p;
	bool have_salt = false;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 's') {
			if (!verity_unhex(optarg, salt, VERITY_SALT))
				die(EXIT_USAGE, "verity tree: --salt: expected %d hex digits, got '%.80s'",
				    2 * VERITY_SALT, optarg);
			have_salt = true;
		} else {
			usage_of("verity", c == 'h' ? 0 : EXIT_USAGE);
		}
	}
	if (argc - optind != 2)
		usage_of("verity", EXIT_USAGE);
	if (!have_salt && verity_salt(salt, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "verity tree: %s", why);
	if (verity_tree_file(argv[optind], argv[optind + 1], 0, salt, VERITY_SALT, &p, root, why,
			     sizeof(why)))
		die(EXIT_BAD_INPUT, "verity tree: %s", why);
	verity_hex(salt, VERITY_SALT, hex);
	verity_hex(root, VERITY_DIGEST, rhex);
	printf("root_hash %s\nsalt %s\ndata_block_size %u\ndata_blocks %llu\nhash_block_size %u\n"
	       "hash_offset %llu\ntree_size %llu\n", rhex, hex, p.data_block_size,
	       (unsigned long long)p.data_blocks, VERITY_HASH_BLOCK,
	       (unsigned long long)p.hash_offset, (unsigned long long)p.tree_size);
	return 0;
}

/* [oci:]DIR[:TAG] into dir and tag; dies when malformed. */
static char *verity_image_arg(const char *arg, const char **tag)
{
	char *dir = oci_split_ref(arg, tag);

	if (!dir)
		die(EXIT_BAD_INPUT, "out of memory");
	return dir;
}

/* ovbd verity add [--tag NEW] [oci:]DIR[:TAG]: root hashes into the manifest, trees beside it. */
static int verity_add_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	char why[1024], mdigest[OCI_DIGEST_LEN + 1], *dir;
	const char *tag, *newtag = NULL;
	int c;

	while ((c = ovbd_getopt(argc, argv, "t:h", opts)) != -1) {
		if (c == 't')
			newtag = optarg;
		else
			usage_of("verity", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 1)
		usage_of("verity", EXIT_USAGE);
	dir = verity_image_arg(argv[optind], &tag);
	if (vimage_add(dir, tag, newtag, mdigest, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "verity add %s: %s", argv[optind], why);
	printf("oci:%s:%s %s\n", dir, newtag ? newtag : tag ? tag : "latest", mdigest);
	free(dir);
	return 0;
}

/* ovbd verity show [--json] [oci:]DIR[:TAG]: each layer's verity, for veritysetup verify. */
static int verity_show_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	static struct layer_verity v[OVBD_LSMT_MAX_LAYERS];
	struct json_object *out, *arr;
	struct oci_image img;
	unsigned int i, nver;
	const char *tag;
	bool json = false;
	char why[1024], *dir;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'j')
			json = true;
		else
			usage_of("verity", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 1)
		usage_of("verity", EXIT_USAGE);
	dir = verity_image_arg(argv[optind], &tag);
	if (oci_resolve(dir, tag, &img, why, sizeof(why)) ||
	    vimage_layers(dir, img.manifest_digest, v, img.n, &nver, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "verity show %s: %s", argv[optind], why);
	out = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(out, "manifest", json_object_new_string(img.manifest_digest));
	for (i = 0; i < img.n; i++) {
		struct json_object *l = json_object_new_object();
		char hex[2 * VERITY_SALT + 1];

		json_object_object_add(l, "layer", json_object_new_int((int)i));
		json_object_object_add(l, "blob", json_object_new_string(img.blobs[i]));
		json_object_object_add(l, "verity", json_object_new_boolean(v[i].set));
		if (v[i].set) {
			json_object_object_add(l, "tree", json_object_new_string(v[i].tree));
			json_object_object_add(l, "hash_offset", json_object_new_int64((int64_t)v[i].hash_offset));
			json_object_object_add(l, "hash_block_size", json_object_new_int(VERITY_HASH_BLOCK));
			json_object_object_add(l, "data_block_size", json_object_new_int((int)v[i].data_block_size));
			json_object_object_add(l, "data_blocks", json_object_new_int64((int64_t)v[i].data_blocks));
			verity_hex(v[i].salt, v[i].salt_size, hex);
			json_object_object_add(l, "salt", json_object_new_string(hex));
			verity_hex(v[i].root, VERITY_DIGEST, hex);
			json_object_object_add(l, "root_hash", json_object_new_string(hex));
		}
		json_object_array_add(arr, l);
	}
	json_object_object_add(out, "layers", arr);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
				JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("manifest %s: %u of %u layers verified\n", img.manifest_digest, nver, img.n);
		for (i = 0; i < img.n; i++) {
			char root[VERITY_HEX_ROOT];

			verity_hex(v[i].root, VERITY_DIGEST, root);
			if (v[i].set)
				printf("layer %u %s: root %s, %u-byte blocks x %llu, tree %s\n", i, img.blobs[i],
				       root, v[i].data_block_size, (unsigned long long)v[i].data_blocks, v[i].tree);
			else
				printf("layer %u %s: no root hash\n", i, img.blobs[i]);
		}
	}
	json_object_put(out);
	oci_image_free(&img);
	free(dir);
	return 0;
}

int cmd_verity(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "tree"))
		return verity_tree_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return verity_add_cmd(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return verity_show_cmd(argc - 1, argv + 1);
	usage_of("verity", argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ?
		 0 : EXIT_USAGE);
}
