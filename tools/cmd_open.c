// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd open / close / status / list: the commands over the library's
 * device stacks (lib/dmstack.c) and lazy opens (lib/lazy.c). The kernel
 * is the record: close, status and list read DM UUIDs and nothing else,
 * but an image reference, which the kernel cannot hold (/run/ovbd).
 */
#define _GNU_SOURCE
#include "commands.h"
#include "config.h"
#include "dmstack.h"
#include "lazy.h"
#include "oci.h"
#include "stack.h"
#include "util.h"
#include "vimage.h"
#include "vmdisks.h"
#include <getopt.h>
#include <json-c/json.h>
#include <unistd.h>

/* Newlines to spaces: messages are one line. */
static char *one_line(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

static void write_result(const char *path, const char *text)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s", text);
		fclose(f);
	}
}

/* open --disks: each layer (and tree) by its disk's serial, verified with the spec's root hashes. */
static int open_disks(struct dmstack *s, const char *name, const char *spec, bool require,
		      struct dmstack_opts *so, char *why, size_t len)
{
	static struct vm_disk d[OVBD_LSMT_MAX_LAYERS];
	static struct layer_verity v[OVBD_LSMT_MAX_LAYERS];
	static char devs[OVBD_LSMT_MAX_LAYERS][64];
	char *paths[OVBD_LSMT_MAX_LAYERS];
	unsigned int n, i, nver = 0;
	int r = vmdisk_parse(spec, d, v, OVBD_LSMT_MAX_LAYERS, &n, why, len);

	if (r)
		return r;
	for (i = 0; i < n; i++) {
		if (require && !v[i].set)
			return failf(why, len, "layer %u (disk %s): the spec carries no dm-verity root hash for it: verity is required",
				     i, d[i].serial);
		if (vmdisk_find(d[i].serial, v[i].set ? v[i].data_blocks * v[i].data_block_size : 512,
				devs[i], sizeof(devs[i]), why, len))
			return -1;
		paths[i] = devs[i];
		if (v[i].set) {
			if (vmdisk_find(d[i].tree_serial, v[i].hash_offset + 4096, v[i].tree, sizeof(v[i].tree),
					why, len))
				return -1;
			nver++;
		}
	}
	so->verity = nver ? v : NULL;
	return dmstack_open(s, name, paths, n, so, why, len);
}

int cmd_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "direct-io", no_argument, NULL, 'D' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "require-verity", no_argument, NULL, 'R' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "timings", no_argument, NULL, 'T' },
		{ "disks", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	static struct dmstack s;
	struct ovbd_settings set;
	struct image_config cfg = { 0 };
	struct dmstack_opts so = { 0 };
	const char *config = NULL, *name;
	bool lazy = false, plain = false, require = false, timings = false, disks = false;
	char why[1024];
	int c, ret;

	while ((c = ovbd_getopt(argc, argv, "c:h", opts)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'I')
			stack_ignore_chain = true;
		else if (c == 'D')
			so.direct_io = true;
		else if (c == 'L')
			lazy = true;
		else if (c == 'R')
			require = true;
		else if (c == 'P')
			plain = true;
		else if (c == 'T')
			timings = true;
		else if (c == 'K')
			disks = true;
		else
			usage_of("open", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind >= argc || (config && optind != argc - 1) || (!config && optind == argc - 1))
		usage_of("open", EXIT_USAGE);
	if (timings && !lazy)
		die(EXIT_USAGE, "open: --timings goes with --lazy");
	name = argv[optind];
	if (dmstack_check_name(name, why, sizeof(why)))
		die(EXIT_USAGE, "open: %s", why);
	if (settings_load(&set, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	require |= set.require_verity;
	/* the user's file first: reading it needs no privilege */
	if (config && config_load(config, &cfg, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	if (geteuid() != 0)
		die(EXIT_BAD_INPUT, "open %s: needs root: it creates loop and device-mapper devices", name);
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "open %s: /dev/mapper/control is missing: device-mapper is not loaded (modprobe dm-mod)",
		    name);
	if (lazy) {
		struct lazy_timings t;
		struct lazy_opts lo = { .plain_http = plain, .require_verity = require,
					.notes = &cli_notes, .timings = timings ? &t : NULL };

		if (config || argc - optind != 2)
			die(EXIT_USAGE, "open --lazy NAME REF: one registry reference, no --config");
		ret = lazy_open(name, argv[optind + 1], &lo, why, sizeof(why));
		if (ret)
			die(EXIT_OF(ret), "open --lazy %s: %s", name, one_line(why));
		if (timings) {	/* one line on stderr: phase=seconds ... total=seconds */
			fprintf(stderr, "timings:");
			for (int p = 0; p < LAZY_NPHASES; p++)
				fprintf(stderr, " %s=%.3f", lazy_phase_name(p), t.s[p]);
			fprintf(stderr, " total=%.3f\n", t.total);
		}
		printf("/dev/mapper/%s\n", name);
		return 0;
	}
	if (disks) {	/* a VM guest: the layers are disks found by their serials (ovbd vm-disks) */
		if (config || argc - optind != 2)
			die(EXIT_USAGE, "open --disks NAME SPEC: one disk spec (ovbd vm-disks prints it), no --config");
		ret = open_disks(&s, name, argv[optind + 1], require, &so, why, sizeof(why));
		dmstack_free(&s);
		if (ret)
			die(EXIT_OF(ret), "open --disks %s: %s", name, one_line(why));
		printf("/dev/mapper/%s\n", name);
		return 0;
	}
	if (config) {
		ovbd_result_file = cfg.result_file;
		if (cfg.has_upper)
			fprintf(stderr, "%s: %s: the writable upper layer is ignored: devices are read-only\n",
				ovbd_prog, config);
		ret = require ? failf(why, sizeof(why), "layer 0 (%s): no manifest, so no dm-verity root hash: verity is required",
				      cfg.nlowers ? cfg.lowers[0] : "none") :
		      dmstack_open(&s, name, cfg.lowers, cfg.nlowers, &so, why, sizeof(why));
		if (!ret)
			write_result(cfg.result_file, "success");
		ovbd_result_file = NULL;
		if (ret)
			write_result(cfg.result_file, why);
		config_free(&cfg);
	} else {
		struct oci_image img;
		char **paths;
		unsigned int n;

		dmstack_forget_image(name);	/* a record left by a crash: the kernel says what is open */
		ret = cli_layer_args(argv + optind + 1, (unsigned int)(argc - optind - 1), &img,
				     &paths, &n, why, sizeof(why));
		if (!ret)
			ret = vimage_open_stack(&s, name, &img, n, paths, argv[optind + 1], require, &so,
						why, sizeof(why));
		if (ret == 1) {
			fprintf(stderr, "%s: open %s: %s (status will not name the image)\n", ovbd_prog,
				name, why);
			ret = 0;
		}
		oci_image_free(&img);
	}
	dmstack_free(&s);
	if (ret)
		die(EXIT_OF(ret), "open %s: %s", name, one_line(why));
	printf("/dev/mapper/%s\n", name);
	return 0;
}

int cmd_close(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	char why[600];
	int c, r;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1)
		usage_of("close", c == 'h' ? 0 : EXIT_USAGE);
	if (optind != argc - 1)
		usage_of("close", EXIT_USAGE);
	r = lazy_close(argv[optind], why, sizeof(why));
	if (r < 0)
		die(EXIT_BAD_INPUT, "close %s: %s", argv[optind], one_line(why));
	if (r > 0)
		die(EXIT_BAD_INPUT, "%s: not open (no device-mapper device with an ovbd uuid of that name)",
		    argv[optind]);
	return 0;
}

/* ---- status and list: read from the kernel (libdevmapper, sysfs) */

/* One stack as JSON: dmstack_describe(), and its lazy state where it has one. */
static struct json_object *describe(const char *name, const char *uuid)
{
	struct json_object *o = dmstack_describe(name, uuid), *lz = lazy_status(name);

	if (lz)
		json_object_object_add(o, "lazy", lz);
	return o;
}

static const char *jtext(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void print_text(struct json_object *o)
{
	struct json_object *devs, *v;
	size_t i;

	if (json_object_object_get_ex(o, "image", &v))
		printf("image %s manifest %s\n", json_object_get_string(v),
		       oci_jstr(o, "manifest") ? oci_jstr(o, "manifest") : "?");
	json_object_object_get_ex(o, "devices", &devs);
	for (i = json_object_array_length(devs); i-- > 0;) {	/* bottom up, as they were made */
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (!strcmp(oci_jstr(d, "kind"), "nbd"))
			printf("nbd   %s (from the registry)\n", oci_jstr(d, "device"));
		else if (!strcmp(oci_jstr(d, "kind"), "loop"))
			printf("loop  %s %s\n", oci_jstr(d, "device"),
			       oci_jstr(d, "file") ? oci_jstr(d, "file") : "(detached)");
		else {
			struct json_object *users;
			size_t k;

			printf("dm    %s: %s%s%s", oci_jstr(d, "name"),
			       oci_jstr(d, "status") ? oci_jstr(d, "status") : "?",
			       oci_jstr(d, "verity") ? ": dm-verity " : "",
			       oci_jstr(d, "verity") ? oci_jstr(d, "verity") : "");
			if (json_object_object_get_ex(d, "used_by", &users)) {	/* a blob's part */
				printf(" (used by");
				for (k = 0; k < json_object_array_length(users); k++)
					printf("%s %s", k ? "," : "",
					       json_object_get_string(json_object_array_get_idx(users, k)));
				printf(")");
			}
			printf("\n");
		}
	}
	printf("dm    %s: %s\n", oci_jstr(o, "name"), oci_jstr(o, "status") ? oci_jstr(o, "status") : "?");
	printf("uuid  %s\n", oci_jstr(o, "uuid"));
	if (json_object_object_get_ex(o, "lazy", &v)) {	/* remote, downloading N%, local */
		struct json_object *ls, *p;

		json_object_object_get_ex(v, "layers", &ls);
		for (i = 0; i < json_object_array_length(ls); i++) {
			struct json_object *l = json_object_array_get_idx(ls, i);

			printf("layer %zu %.19s... %s", i, oci_jstr(l, "digest"), oci_jstr(l, "state"));
			if (json_object_object_get_ex(l, "percent", &p))
				printf(" %d%%", json_object_get_int(p));
			if (oci_jstr(l, "nbd"))
				printf(" %s", oci_jstr(l, "nbd"));
			if (oci_jstr(l, "tree_nbd"))
				printf(", dm-verity tree %s", oci_jstr(l, "tree_nbd"));
			if (oci_jstr(l, "note"))
				printf(" (%s)", oci_jstr(l, "note"));
			printf("\n");
		}
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	char uuid[OVBD_DM_UUID_MAX];
	struct json_object *o;
	bool json = false;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'j')
			json = true;
		else
			usage_of("status", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc - 1)
		usage_of("status", EXIT_USAGE);
	if (!dmstack_exists(argv[optind], uuid, sizeof(uuid)))
		die(EXIT_BAD_INPUT, "%s: not open (no device-mapper device with an ovbd uuid of that name)",
		    argv[optind]);
	o = describe(argv[optind], uuid);
	if (json)
		printf("%s\n", jtext(o));
	else
		print_text(o);
	json_object_put(o);
	return 0;
}

static int add_stack(const char *name, const char *uuid, void *arg)
{
	json_object_array_add(arg, describe(name, uuid));
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(oci_jstr(*(struct json_object *const *)a, "name"),
		      oci_jstr(*(struct json_object *const *)b, "name"));
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "prune", no_argument, NULL, 'p' },
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	struct json_object *all = json_object_new_array();
	bool json = false, prune = false;
	unsigned int pruned = 0;
	char why[600];
	size_t i;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'p')
			prune = true;
		else
			usage_of("list", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc)
		usage_of("list", EXIT_USAGE);
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "list: /dev/mapper/control is missing: device-mapper is not loaded");
	if (prune) {	/* the shared parts that no stack uses (what a killed open or close left) */
		if (dmstack_prune(&pruned, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "list --prune: %s", one_line(why));
		if (pruned)
			fprintf(stderr, "ovbd: list --prune: removed %u unused shared part%s\n", pruned,
				pruned == 1 ? "" : "s");
	}
	if (dm_each(OVBD_UUID_STACK, add_stack, all, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "list: %s", why);
	json_object_array_sort(all, by_name);
	if (json) {
		printf("%s\n", jtext(all));
	} else {
		if (json_object_array_length(all))
			printf("%-20s %6s %10s %10s %8s  %s\n", "NAME", "LAYERS", "READS", "ZERO", "ERRORS",
			       "IMAGE");
		for (i = 0; i < json_object_array_length(all); i++) {
			struct json_object *o = json_object_array_get_idx(all, i), *v;
			long long f[4] = { 0 };
			const char *k[] = { "layers", "reads", "zero_filled", "io_errors" };
			int j;

			for (j = 0; j < 4; j++)
				if (json_object_object_get_ex(o, k[j], &v))
					f[j] = json_object_get_int64(v);
			printf("%-20s %6lld %10lld %10lld %8lld  %s\n", oci_jstr(o, "name"), f[0], f[1], f[2],
			       f[3], oci_jstr(o, "image") ? oci_jstr(o, "image") : "-");
		}
	}
	json_object_put(all);
	return 0;
}
