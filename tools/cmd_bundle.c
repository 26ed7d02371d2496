// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd runtime-config / bundle: an image's OCI runtime config, and runtime
 * bundles (a rootfs and a config.json) that runc and crun start, over the
 * library's runtime.c and bundle.c.
 */
#define _GNU_SOURCE
#include "bundle.h"
#include "commands.h"
#include "config.h"
#include "jsonfile.h"
#include "lazy.h"
#include "oci.h"
#include "runtime.h"
#include "dmstack.h"
#include "stack.h"
#include "vimage.h"
#include "vmdisks.h"
#include <openssl/evp.h>
#include "util.h"
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_runtime_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rootless", no_argument, NULL, 'r' },
		{ "rootfs", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct runtime_opts ro = { 0 };
	struct json_object *ic, *spec;
	struct oci_image img;
	struct stack st;
	char why[1024], **paths;
	unsigned int n;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'r')
			ro.rootless = true;
		else if (c == 'f')
			ro.rootfs = optarg;
		else
			usage_of("runtime-config", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc - 2)
		usage_of("runtime-config", EXIT_USAGE);
	/* the image (a registry reference is pulled into the store, as open pulls it) */
	if (cli_layer_args(argv + optind, 1, &img, &paths, &n, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "runtime-config %s: %s", argv[optind], why);
	if (!img.n)
		die(EXIT_USAGE, "runtime-config %s: an image (oci:DIR[:TAG] or a registry reference), not a layer file",
		    argv[optind]);
	ic = runtime_image_config(img.dir, img.manifest_digest, why, sizeof(why));
	if (!ic)
		die(EXIT_BAD_INPUT, "runtime-config %s: %s", argv[optind], why);
	/* users by name: looked up in the image's own file system, read through its layers */
	if (!ro.rootfs) {
		if (stack_open(&st, paths, n, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "runtime-config %s: %s", argv[optind], why);
		ro.image = &st;
	}
	c = runtime_config(ic, &ro, &spec, why, sizeof(why));
	if (ro.image)
		stack_close(&st);
	json_object_put(ic);
	oci_image_free(&img);
	if (c)
		die(EXIT_BAD_INPUT, "runtime-config %s: %s", argv[optind], why);
	if (!strcmp(argv[optind + 1], "-"))
		printf("%s\n", json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (json_write_file(argv[optind + 1], spec, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "runtime-config: %s", why);
	json_object_put(spec);
	return 0;
}

int cmd_bundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", no_argument, NULL, 'x' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "tmpfs", no_argument, NULL, 't' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "require-verity", no_argument, NULL, 'R' },
		{ "direct-io", no_argument, NULL, 'D' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct bundle_opts bo = { 0 };
	struct ovbd_settings set;
	bool rm = false, lazy = false, plain = false;
	char why[1024];
	int c, r;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'x')
			rm = true;
		else if (c == 'L')
			lazy = true;
		else if (c == 't')
			bo.tmpfs = true;
		else if (c == 'r')
			bo.rootless = true;
		else if (c == 'R')
			bo.require_verity = true;
		else if (c == 'D')
			bo.direct_io = true;
		else if (c == 'P')
			plain = true;
		else
			usage_of("bundle", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (rm ? (optind != argc - 1 || lazy || bo.tmpfs || bo.rootless || bo.require_verity) :
		 optind != argc - 2)
		usage_of("bundle", EXIT_USAGE);
	if (geteuid() != 0)
		die(EXIT_BAD_INPUT, "bundle: needs root: it maps the image and mounts it");
	if (rm) {
		r = bundle_remove(argv[optind], why, sizeof(why));
		if (r < 0)
			die(EXIT_BAD_INPUT, "bundle --remove %s: %s", argv[optind], why);
		if (r > 0)
			die(EXIT_BAD_INPUT, "bundle --remove %s: not a bundle (no %s/" BUNDLE_STATE "/bundle.json)",
			    argv[optind], argv[optind]);
		return 0;
	}
	if (settings_load(&set, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	bo.require_verity |= set.require_verity;
	bo.ref = argv[optind];
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "bundle: /dev/mapper/control is missing: device-mapper is not loaded (modprobe dm-mod)");
	if (lazy) {
		struct lazy_opts lo = { .plain_http = plain, .require_verity = bo.require_verity,
					.notes = &cli_notes };

		r = bundle_create_lazy(argv[optind + 1], argv[optind], &bo, &lo, why, sizeof(why));
	} else {
		struct oci_image img;
		char **paths;
		unsigned int n;

		r = cli_layer_args(argv + optind, 1, &img, &paths, &n, why, sizeof(why));
		if (!r)
			r = bundle_create(argv[optind + 1], &img, n, paths, &bo, why, sizeof(why));
		oci_image_free(&img);
	}
	if (r)
		die(EXIT_OF(r), "bundle %s: %s", argv[optind + 1], why);
	printf("%s\n", argv[optind + 1]);
	return 0;
}

/* One layer as Kata Containers' KataVirtualVolume (layer_raw_block, dm_verity). */
static void print_kata(unsigned int i, const char *blob, const char *fs_type,
		       const struct layer_verity *v)
{
	struct json_object *o = json_object_new_object(), *opts = json_object_new_array();
	const char *text;
	unsigned char *b64;
	size_t n;

	json_object_object_add(o, "volume_type", json_object_new_string("layer_raw_block"));
	json_object_object_add(o, "source", json_object_new_string(blob));
	json_object_object_add(o, "fs_type", json_object_new_string(fs_type));
	json_object_array_add(opts, json_object_new_string("ro"));
	json_object_object_add(o, "options", opts);
	if (v && v->set) {
		struct json_object *d = json_object_new_object();
		char root[2 * VERITY_DIGEST + 1];

		verity_hex(v->root, VERITY_DIGEST, root);
		json_object_object_add(d, "hashtype", json_object_new_string("sha256"));
		json_object_object_add(d, "hash", json_object_new_string(root));
		json_object_object_add(d, "blocknum", json_object_new_int64((int64_t)v->data_blocks));
		json_object_object_add(d, "blocksize", json_object_new_int64(v->data_block_size));
		json_object_object_add(d, "hashsize", json_object_new_int64(4096));
		json_object_object_add(d, "offset", json_object_new_int64((int64_t)v->hash_offset));
		json_object_object_add(o, "dm_verity", d);
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(text);
	b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)n);
	printf("# layer %u: %s\nio.katacontainers.volume=%s\n", i, text, b64);
	free(b64);
	json_object_put(o);
}

int cmd_vm_disks(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "qemu", no_argument, NULL, 'q' },
		{ "guest", no_argument, NULL, 'g' },
		{ "kata", no_argument, NULL, 'k' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	static struct layer_verity v[OVBD_LSMT_MAX_LAYERS];
	static struct vm_disk d[OVBD_LSMT_MAX_LAYERS];
	static char spec[OVBD_LSMT_MAX_LAYERS * 240];
	const struct layer_verity *verity;
	const char *prefix = "ovbd", *name = "img";
	bool qemu = false, guest = false, kata = false;
	struct oci_image img;
	char why[1024], **paths;
	unsigned int n, i;
	int c, r;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'q')
			qemu = true;
		else if (c == 'g')
			guest = true;
		else if (c == 'k')
			kata = true;
		else if (c == 'p')
			prefix = optarg;
		else if (c == 'n')
			name = optarg;
		else
			usage_of("vm-disks", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc - 1 || qemu + guest + kata > 1)
		usage_of("vm-disks", EXIT_USAGE);
	if (!qemu && !guest && !kata)
		qemu = guest = true;
	if (cli_layer_args(argv + optind, 1, &img, &paths, &n, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "vm-disks %s: %s", argv[optind], why);
	if (!img.n)
		die(EXIT_USAGE, "vm-disks %s: an image (oci:DIR[:TAG] or a registry reference), not a layer file",
		    argv[optind]);
	r = vimage_stack_verity(&img, n, paths, false, v, &verity, why, sizeof(why));
	if (!r)
		r = vmdisk_name(prefix, n, verity, d, why, sizeof(why));
	if (!r)
		r = vmdisk_spec(n, d, verity, spec, sizeof(spec), why, sizeof(why));
	if (r)
		die(EXIT_OF(r), "vm-disks %s: %s", argv[optind], why);
	if (qemu && guest)
		printf("# QEMU: each layer blob%s as a read-only virtio-blk disk, named by its serial\n",
		       verity ? " and its dm-verity tree" : "");
	for (i = 0; qemu && i < n; i++) {
		/* node names and serials are ours; a path with ',' is doubled, as QEMU's options want */
		char abs[2][PATH_MAX];
		const char *files[2] = { realpath(paths[i], abs[0]) ? abs[0] : paths[i],
					 verity && verity[i].set ?
					 (realpath(verity[i].tree, abs[1]) ? abs[1] : verity[i].tree) : NULL };
		const char *serials[2] = { d[i].serial, d[i].tree_serial };

		for (int k = 0; k < 2 && files[k]; k++) {
			printf("-blockdev driver=raw,node-name=%s,read-only=on,file.driver=file,file.read-only=on,file.filename=",
			       serials[k]);
			for (const char *p = files[k]; *p; p++)
				printf(*p == ',' ? ",," : "%c", *p);
			printf("\n-device virtio-blk-pci,drive=%s,serial=%s\n", serials[k], serials[k]);
		}
	}
	if (qemu && guest)
		printf("# in the guest, with the root hashes of the manifest %s:\n", img.manifest_digest);
	if (guest) {
		printf("ovbd open --disks %s %s\n", name, spec);
		if (qemu)
			printf("# or, mapped at boot, a line of the guest's /etc/ovbdtab:\n%s disks:%s\n", name, spec);
	}
	for (i = 0; kata && i < n; i++)
		print_kata(i, paths[i], "ext4", verity && verity[i].set ? &verity[i] : NULL);
	oci_image_free(&img);
	return 0;
}
