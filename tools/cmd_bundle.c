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
#include "stack.h"
#include "util.h"
#include <getopt.h>
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
	if (runtime_config(ic, &ro, &spec, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "runtime-config %s: %s", argv[optind], why);
	if (ro.image)
		stack_close(&st);
	json_object_put(ic);
	oci_image_free(&img);
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
