// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd open / close / status: set a device stack up and down.
 *
 * open attaches each layer blob to a read-only, autoclearing loop device
 * (loop ioctls), creates one zfile device per compressed layer and the lsmt
 * device /dev/mapper/NAME (libdevmapper, with udev cookies). Each device's
 * DM UUID names ovbd, its role and its stack (devices.h), so close, status
 * and list read the kernel and nothing else: a killed open leaves parts
 * that close (or the next open) finds by uuid, and loop devices that clear
 * themselves. Only an image reference, which the kernel cannot hold, is
 * kept in /run/ovbd/NAME.image.
 */
#define _GNU_SOURCE
#include "commands.h"
#include "config.h"
#include "dmplan.h"
#include "oci.h"
#include "stack.h"
#include "run.h"
#include "util.h"
#include "devices.h"
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_DIR		"/run/ovbd"	/* only NAME.image: what the kernel cannot tell */
#define MAX_PARTS	(2 * OVBD_LSMT_MAX_LAYERS + 1)

/* Newlines to spaces: messages are one line. */
static char *one_line(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

/*
 * A test hook for crash safety: OVBD_TEST_KILL_AT=k kills ovbd open with
 * SIGKILL after its k-th step (a loop attach or a device load), as a power
 * cut or the OOM killer would.
 */
static void kill_point(void)
{
	static int step;
	const char *k = getenv("OVBD_TEST_KILL_AT");

	if (k && ++step == atoi(k))
		raise(SIGKILL);
}

/*
 * The kernel's reason for the last failed load of device dev: the targets
 * log it as "device-mapper: overlaybd: <dev>: <reason>"; dm core's own
 * line ("device-mapper: table: ...") serves when there is none.
 */
static void kernel_reason(const char *dev, char *buf, size_t len)
{
	char *argv[] = { "dmesg", NULL }, *out = xmalloc(1 << 20), *line, *last = NULL;
	char ours[160];

	snprintf(ours, sizeof(ours), "device-mapper: overlaybd: %s: ", dev);
	buf[0] = 0;
	if (run_cmd(argv, out, 1 << 20) == 0)
		for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
			if (strstr(line, ours) || (strstr(line, "device-mapper: table:") &&
						   (!last || !strstr(last, ours))))
				last = line;
	if (last)
		snprintf(buf, len, "; kernel: %s", strstr(last, "device-mapper:"));
	free(out);
}

static void image_record_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, RUN_DIR "/%s.image", name);
}

/* "<32 hex>": the manifest digest's, or a digest of the layers' uuids and paths. */
static void stack_id(char *id, const struct dm_plan *plan, char **blobs, unsigned int n,
		     const char *manifest)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, mdlen;
	EVP_MD_CTX *ctx;

	if (manifest && !strncmp(manifest, "sha256:", 7) && strlen(manifest) >= 7 + 32) {
		snprintf(id, 33, "%.32s", manifest + 7);
		return;
	}
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < n; i++) {
		EVP_DigestUpdate(ctx, plan->layer[i].uuid, strlen(plan->layer[i].uuid));
		EVP_DigestUpdate(ctx, blobs[i], strlen(blobs[i]) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 16; i++)
		sprintf(id + 2 * i, "%02x", md[i]);
}

/* A part's device name, from its uuid "OVBD-part-<id>-<devname>". */
static const char *part_devname(const char *uuid)
{
	size_t p = strlen(OVBD_UUID_PART);

	return strlen(uuid) > p + 33 ? uuid + p + 33 : "";
}

/* Remove dev and, depth first, the private parts its table uses (loops clear themselves). */
static int remove_tree(const char *dev, int depth, char *why, size_t len)
{
	unsigned int ma[MAX_PARTS], mi[MAX_PARTS], n, i;
	char part[OVBD_DM_NAME_MAX], uuid[OVBD_DM_UUID_MAX];
	int failed = 0;

	if (depth > 3 || dm_deps(dev, ma, mi, MAX_PARTS, &n, why, len) || dm_remove(dev, why, len))
		return -1;
	for (i = 0; i < n; i++)
		if (dm_name_of(ma[i], mi[i], part, sizeof(part)) && !dm_uuid(part, uuid, sizeof(uuid)) &&
		    !strncmp(uuid, OVBD_UUID_PART, strlen(OVBD_UUID_PART)) &&
		    remove_tree(part, depth + 1, why, len))
			failed = -1;
	return failed;
}

struct leftovers {
	const char *name;
	unsigned int n;
	char dev[MAX_PARTS][OVBD_DM_NAME_MAX];
};

/* Parts named NAME-z000 or NAME-t000 whose stack device is gone (a crash mid-open). */
static int find_leftover(const char *dev, const char *uuid, void *arg)
{
	struct leftovers *l = arg;
	const char *d = part_devname(uuid);
	size_t k = strlen(l->name);

	if (!strncmp(d, l->name, k) && d[k] == '-' && (d[k + 1] == 'z' || d[k + 1] == 't') &&
	    strlen(d + k + 2) == 3 && strspn(d + k + 2, "0123456789") == 3 &&
	    !strcmp(d, dev) && l->n < MAX_PARTS)
		snprintf(l->dev[l->n++], OVBD_DM_NAME_MAX, "%s", dev);
	return 0;
}

/* Remove leftover parts of NAME: zfile parts (which hold tails) first. Returns how many. */
static int remove_leftovers(const char *name, char *why, size_t len)
{
	static struct leftovers l;
	unsigned int i, removed = 0;
	int pass;

	memset(&l, 0, sizeof(l));
	l.name = name;
	if (dm_each(OVBD_UUID_PART, find_leftover, &l, why, len))
		return -1;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l.n; i++) {
			char uuid[OVBD_DM_UUID_MAX];

			if (l.dev[i][strlen(name) + 1] != (pass ? 't' : 'z') ||
			    dm_uuid(l.dev[i], uuid, sizeof(uuid)))	/* gone with its holder */
				continue;
			if (remove_tree(l.dev[i], 0, why, len))
				return -1;
			removed++;
		}
	return (int)removed;
}

/* "0 <sectors> <target> <args>" (dmplan's one-line tables) as a dm_line. */
static void parse_table(const char *table, struct dm_line *l, char *target, size_t tlen)
{
	unsigned long long start, length;
	int off = 0;

	if (sscanf(table, "%llu %llu %63s %n", &start, &length, target, &off) < 3 || !off)
		die(EXIT_BAD_INPUT, "internal error: table '%.80s'", table);
	(void)tlen;
	l->start = start;
	l->length = length;
	l->target = target;
	l->params = table + off;
}

/* Set up the stack, or roll back and return -1 with why set. */
int ovbd_open_stack(const char *name, char **blobs, unsigned int n, const char *manifest,
		    bool direct_io, char *why, size_t whylen)
{
	static struct dm_plan plan;
	static char loops[OVBD_LSMT_MAX_LAYERS][64], mapped[OVBD_LSMT_MAX_LAYERS][OVBD_DM_NAME_MAX + 16];
	static char created[MAX_PARTS][OVBD_DM_NAME_MAX];
	char *devs[OVBD_LSMT_MAX_LAYERS], id[33], uuid[OVBD_DM_UUID_MAX], rb[512];
	int fds[2 * OVBD_LSMT_MAX_LAYERS];
	unsigned int i, nfd = 0, ncreated = 0;

	if (!dm_uuid(name, uuid, sizeof(uuid))) {
		snprintf(why, whylen, "/dev/mapper/%s exists already%s", name,
			 strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK)) ? " (not made by ovbd)" :
			 " (ovbd close it first)");
		return -1;
	}
	if (remove_leftovers(name, why, whylen) < 0)
		return -1;
	dmplan_probe(&plan, name, blobs, n);	/* validates before creating */
	stack_id(id, &plan, blobs, n, manifest);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (!stat(blobs[i], &st) && S_ISBLK(st.st_mode)) {	/* an nbd device (--lazy): as it is */
			snprintf(mapped[i], sizeof(mapped[i]), "%s", blobs[i]);
			devs[i] = mapped[i];
			continue;
		}
		if (loop_attach(blobs[i], direct_io, loops[i], sizeof(loops[i]), &fds[nfd], why, whylen)) {
			snprintf(rb, sizeof(rb), "%s", why);
			snprintf(why, whylen, "layer %u: %s", i, rb);
			goto rollback;
		}
		nfd++;
		kill_point();
		snprintf(mapped[i], sizeof(mapped[i]), "%s", loops[i]);
		if (plan.layer[i].tail) {
			/*
			 * A loop device drops a blob's partial last sector. When a ZFile
			 * keeps its trailer fields there, append that sector, zero-padded,
			 * with dm-linear, from a 512-byte memfd on its own loop device.
			 */
			u64 whole = plan.layer[i].file_size / DMPLAN_SECTOR;
			char tloop[64], path[64], dev[OVBD_DM_NAME_MAX], p0[80], p1[80];
			struct dm_line lines[2];
			int mfd = memfd_create("ovbd-tail", MFD_CLOEXEC);

			if (mfd < 0 || write(mfd, plan.layer[i].tail_sector, DMPLAN_SECTOR) != DMPLAN_SECTOR) {
				snprintf(why, whylen, "layer %u: a memfd for its last sector: %s", i, strerror(errno));
				if (mfd >= 0)
					close(mfd);
				goto rollback;
			}
			snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
			if (loop_attach(path, false, tloop, sizeof(tloop), &fds[nfd], why, whylen)) {
				close(mfd);
				snprintf(rb, sizeof(rb), "%s", why);
				snprintf(why, whylen, "layer %u: its last sector: %s", i, rb);
				goto rollback;
			}
			close(mfd);
			nfd++;
			kill_point();
			snprintf(dev, sizeof(dev), "%s-t%03u", name, i);
			snprintf(uuid, sizeof(uuid), OVBD_UUID_PART "%s-%.85s", id, dev);
			snprintf(p0, sizeof(p0), "%s 0", loops[i]);
			snprintf(p1, sizeof(p1), "%s 0", tloop);
			lines[0] = (struct dm_line){ 0, whole, "linear", p0 };
			lines[1] = (struct dm_line){ whole, 1, "linear", p1 };
			if (dm_create(dev, uuid, lines, 2, true, why, whylen))
				goto rollback;
			snprintf(created[ncreated++], OVBD_DM_NAME_MAX, "%s", dev);
			kill_point();
			snprintf(mapped[i], sizeof(mapped[i]), "/dev/mapper/%s", dev);
		}
		devs[i] = mapped[i];
	}
	dmplan_render(&plan, name, devs);
	for (i = 0; i < plan.n; i++) {
		bool top = i == plan.n - 1;
		char target[64];
		struct dm_line line;

		parse_table(plan.dev[i].table, &line, target, sizeof(target));
		snprintf(uuid, sizeof(uuid), "%s%s-%.84s", top ? OVBD_UUID_STACK : OVBD_UUID_PART, id,
			 plan.dev[i].name);
		if (dm_create(plan.dev[i].name, uuid, &line, 1, !top, why, whylen)) {
			char reason[400];

			kernel_reason(plan.dev[i].name, reason, sizeof(reason));
			snprintf(why + strlen(why), whylen - strlen(why), "%s%s", reason,
				 strstr(reason, "unknown target type") || strstr(why, "unknown target") ?
				 " (the dm-overlaybd module is not loaded: modprobe dm-overlaybd; "
				 "if it is not found, see dkms status dm-overlaybd)" : "");
			dmplan_free(&plan);
			goto rollback;
		}
		snprintf(created[ncreated++], OVBD_DM_NAME_MAX, "%s", plan.dev[i].name);
		kill_point();
	}
	dmplan_free(&plan);
	for (i = 0; i < nfd; i++)	/* the dm devices hold the loops now */
		close(fds[i]);
	return 0;
rollback:
	while (ncreated--)
		if (dm_remove(created[ncreated], rb, sizeof(rb)))
			snprintf(why + strlen(why), whylen - strlen(why),
				 "; rollback incomplete (%s): see ovbd close %s", one_line(rb), name);
	for (i = 0; i < nfd; i++)	/* autoclear detaches them */
		close(fds[i]);
	return -1;
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

int cmd_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "direct-io", no_argument, NULL, 'D' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct image_config cfg = { 0 };
	const char *config = NULL, *name;
	bool direct_io = false, lazy = false, plain = false;
	char why[1024];
	int c, ret;

	while ((c = ovbd_getopt(argc, argv, "c:h", opts)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'I')
			stack_ignore_chain = true;
		else if (c == 'D')
			direct_io = true;
		else if (c == 'L')
			lazy = true;
		else if (c == 'P')
			plain = true;
		else
			usage_of("open", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind >= argc || (config && optind != argc - 1) || (!config && optind == argc - 1))
		usage_of("open", EXIT_USAGE);
	name = argv[optind];
	/* the DM UUID (128 bytes) holds "OVBD-part-<32 hex>-NAME-z000" */
	if (!*name || strlen(name) > 80 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		die(EXIT_USAGE, "open: NAME: 1..80 characters without '/', got '%.120s'", name);
	/* the user's file first: reading it needs no privilege */
	if (config && config_load(config, &cfg, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	if (geteuid() != 0)
		die(EXIT_BAD_INPUT, "open %s: needs root: it creates loop and device-mapper devices", name);
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "open %s: /dev/mapper/control is missing: device-mapper is not loaded (modprobe dm-mod)",
		    name);
	if (lazy) {
		if (config || argc - optind != 2)
			die(EXIT_USAGE, "open --lazy NAME REF: one registry reference, no --config");
		if (dm_uuid(name, why, sizeof(why)) == 0)
			die(EXIT_BAD_INPUT, "open %s: /dev/mapper/%s exists already", name, name);
		if (lazy_open(name, argv[optind + 1], plain, why, sizeof(why)))
			die(EXIT_BAD_INPUT, "open --lazy %s: %s", name, why);
		printf("/dev/mapper/%s\n", name);
		return 0;
	}
	if (config) {
		ovbd_result_file = cfg.result_file;
		if (cfg.has_upper)
			fprintf(stderr, "%s: %s: the writable upper layer is ignored: devices are read-only\n",
				ovbd_prog, config);
		ret = ovbd_open_stack(name, cfg.lowers, cfg.nlowers, NULL, direct_io, why, sizeof(why));
		if (!ret)
			write_result(cfg.result_file, "success");
		ovbd_result_file = NULL;
		if (ret)
			write_result(cfg.result_file, why);
		config_free(&cfg);
	} else {
		struct oci_image img;
		char **paths, rec[256];
		unsigned int n;

		image_record_path(rec, sizeof(rec), name);
		unlink(rec);	/* a record left by a crash: the kernel says what is open */
		ret = image_layer_args(argv + optind + 1, (unsigned int)(argc - optind - 1), &img,
				     &paths, &n, why, sizeof(why));
		if (!ret)
			ret = ovbd_open_stack(name, paths, n, img.n ? img.manifest_digest : NULL, direct_io,
					 why, sizeof(why));
		if (!ret && img.n) {	/* by reference: the one thing the kernel cannot tell */
			FILE *f;

			mkdir(RUN_DIR, 0700);
			f = fopen(rec, "w");
			if (f) {
				fprintf(f, "%.200s %s\n", argv[optind + 1], img.manifest_digest);
				fclose(f);
			}
		}
		oci_image_free(&img);
	}
	if (ret)
		die(EXIT_BAD_INPUT, "open %s: %s", name, why);
	printf("/dev/mapper/%s\n", name);
	return 0;
}

int ovbd_close_stack(const char *name, char *why, size_t whylen)
{
	char uuid[OVBD_DM_UUID_MAX], rec[256];
	bool found = false;
	int r;

	if (!dm_uuid(name, uuid, sizeof(uuid))) {
		if (strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK))) {
			snprintf(why, whylen, "/dev/mapper/%s was not made by ovbd (uuid '%s')", name, uuid);
			return -1;
		}
		if (remove_tree(name, 0, why, whylen))
			return -1;
		found = true;
	}
	r = remove_leftovers(name, why, whylen);	/* what a killed open left */
	if (r < 0)
		return -1;
	image_record_path(rec, sizeof(rec), name);
	if (!unlink(rec) && !found && !r)
		return 0;	/* a stale record only */
	return !found && !r ? 1 : 0;
}

int cmd_close(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	char why[600];
	bool lazy;
	int c, r;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1)
		usage_of("close", c == 'h' ? 0 : EXIT_USAGE);
	if (optind != argc - 1)
		usage_of("close", EXIT_USAGE);
	{
		struct json_object *ls = lazy_status(argv[optind]);

		lazy = ls != NULL;
		json_object_put(ls);
	}
	if (lazy)	/* stop the supervisor first: no handover during the teardown */
		lazy_close(argv[optind]);
	r = ovbd_close_stack(argv[optind], why, sizeof(why));
	if (r < 0)
		die(EXIT_BAD_INPUT, "close %s: %s", argv[optind], one_line(why));
	if (lazy)
		lazy_close(argv[optind]);	/* now nothing holds the nbd devices */
	if (r > 0 && !lazy)
		die(EXIT_BAD_INPUT, "%s: not open (no device-mapper device with an ovbd uuid of that name)",
		    argv[optind]);
	return 0;
}

/* ---- status and list: read from the kernel (libdevmapper, sysfs) */

static void dev_of(unsigned int ma, unsigned int mi, char *out, size_t len)
{
	char link[128], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", ma, mi);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		snprintf(out, len, "/dev/%s", strrchr(target, '/') + 1);
	} else {
		snprintf(out, len, "%u:%u", ma, mi);
	}
}

/* Add what dev's table uses to arr: parts (with their status) and loops (with their files). */
static void describe_deps(const char *dev, struct json_object *arr, int depth)
{
	unsigned int ma[MAX_PARTS], mi[MAX_PARTS], n, i;
	char why[300];

	if (depth > 3 || dm_deps(dev, ma, mi, MAX_PARTS, &n, why, sizeof(why)))
		return;
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		char name[OVBD_DM_NAME_MAX], file[4096], status[4096], node[300];

		dev_of(ma[i], mi[i], node, sizeof(node));
		if (dm_name_of(ma[i], mi[i], name, sizeof(name))) {
			json_object_object_add(o, "kind", json_object_new_string("dm"));
			json_object_object_add(o, "name", json_object_new_string(name));
			if (!dm_query(name, false, status, sizeof(status), why, sizeof(why)))
				json_object_object_add(o, "status", json_object_new_string(one_line(status)));
			json_object_array_add(arr, o);
			describe_deps(name, arr, depth + 1);
			continue;
		}
		/* nbd: a layer read from the registry during open --lazy */
		json_object_object_add(o, "kind", json_object_new_string(strncmp(node, "/dev/nbd", 8) ? "loop" : "nbd"));
		json_object_object_add(o, "device", json_object_new_string(node));
		if (loop_backing_file(ma[i], mi[i], file, sizeof(file)))
			json_object_object_add(o, "file", json_object_new_string(file));
		json_object_array_add(arr, o);
	}
}

/* One stack as JSON: name, uuid, image, the lsmt status counters, its devices. */
static struct json_object *describe(const char *name, const char *uuid)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();
	char status[4096], why[300], rec[256], line[600];
	unsigned long long f[7];
	FILE *fp;

	json_object_object_add(o, "name", json_object_new_string(name));
	snprintf(line, sizeof(line), "/dev/mapper/%s", name);
	json_object_object_add(o, "device", json_object_new_string(line));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	image_record_path(rec, sizeof(rec), name);
	fp = fopen(rec, "r");
	if (fp) {
		char ref[300], digest[100];

		if (fscanf(fp, "%299s %99s", ref, digest) == 2) {
			json_object_object_add(o, "image", json_object_new_string(ref));
			json_object_object_add(o, "manifest", json_object_new_string(digest));
		}
		fclose(fp);
	}
	if (!dm_query(name, false, status, sizeof(status), why, sizeof(why))) {
		json_object_object_add(o, "status", json_object_new_string(one_line(status)));
		if (sscanf(status, "%*u %*u lsmt %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
			   &f[3], &f[4], &f[5], &f[6]) == 7) {
			json_object_object_add(o, "layers", json_object_new_int64((int64_t)f[0]));
			json_object_object_add(o, "sectors", json_object_new_int64((int64_t)f[1]));
			json_object_object_add(o, "segments", json_object_new_int64((int64_t)f[2]));
			json_object_object_add(o, "reads", json_object_new_int64((int64_t)f[3]));
			json_object_object_add(o, "remapped", json_object_new_int64((int64_t)f[4]));
			json_object_object_add(o, "zero_filled", json_object_new_int64((int64_t)f[5]));
			json_object_object_add(o, "io_errors", json_object_new_int64((int64_t)f[6]));
		}
	}
	describe_deps(name, devs, 0);
	json_object_object_add(o, "devices", devs);
	{
		struct json_object *lz = lazy_status(name);

		if (lz)
			json_object_object_add(o, "lazy", lz);
	}
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
		else
			printf("dm    %s: %s\n", oci_jstr(d, "name"),
			       oci_jstr(d, "status") ? oci_jstr(d, "status") : "?");
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
	if (dm_uuid(argv[optind], uuid, sizeof(uuid)) ||
	    strncmp(uuid, OVBD_UUID_STACK, strlen(OVBD_UUID_STACK)))
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
					      { "help", no_argument, NULL, 'h' }, { 0 } };
	struct json_object *all = json_object_new_array();
	bool json = false;
	char why[600];
	size_t i;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (c == 'j')
			json = true;
		else
			usage_of("list", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind != argc)
		usage_of("list", EXIT_USAGE);
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "list: /dev/mapper/control is missing: device-mapper is not loaded");
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
