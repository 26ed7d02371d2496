// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd open / close / status: set a device stack up and down.
 *
 * open attaches each layer blob to a read-only loop device, creates one
 * zfile device per compressed layer and the lsmt device /dev/mapper/NAME.
 * What it created is recorded in /run/ovbd/NAME, in creation order, so
 * that close (and a failed open) tears down exactly that, in reverse.
 */
#include "commands.h"
#include "config.h"
#include "dmplan.h"
#include "oci.h"
#include "stack.h"
#include "run.h"
#include "util.h"
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_DIR	"/run/ovbd"
#define MAX_ITEMS	(2 * OVBD_LSMT_MAX_LAYERS + 2)
#define ITEM_MAX	300	/* a device name or a state file path */

#define MAX_ITEMS_ALL	(MAX_ITEMS + 3 * OVBD_LSMT_MAX_LAYERS)

struct state {
	unsigned int n;
	char kind[MAX_ITEMS_ALL];	/* 'l' loop device, 'd' dm device, 'f' file */
	char name[MAX_ITEMS_ALL][ITEM_MAX];
};

static const char *kind_word(char k)
{
	return k == 'l' ? "loop" : k == 'f' ? "file" : k == 'i' ? "image" : "dm";
}

static void state_add(struct state *s, char kind, const char *name)
{
	s->kind[s->n] = kind;
	snprintf(s->name[s->n++], ITEM_MAX, "%.*s", ITEM_MAX - 1, name);
}

/* Newlines to spaces: messages are one line. */
static char *one_line(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return s;
}

static bool no_udev(void)
{
	return access("/run/udev/control", F_OK) != 0;
}

static void state_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, STATE_DIR "/%s", name);
}

static void state_save(const struct state *s, const char *name)
{
	char path[256];
	unsigned int i;
	FILE *f;

	mkdir(STATE_DIR, 0700);
	state_path(path, sizeof(path), name);
	if (!s->n) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	if (!f)
		die(EXIT_BAD_INPUT, "%s: %s", path, strerror(errno));
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s %s\n", kind_word(s->kind[i]), s->name[i]);
	fclose(f);
}

static bool state_load(struct state *s, const char *name)
{
	char path[256], kind[8], dev[ITEM_MAX];
	FILE *f;

	memset(s, 0, sizeof(*s));
	state_path(path, sizeof(path), name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (s->n < MAX_ITEMS_ALL && fscanf(f, "%7s %299s", kind, dev) == 2)
		state_add(s, kind[0] == 'l' ? 'l' : kind[0] == 'f' ? 'f' : kind[0] == 'i' ? 'i' : 'd', dev);
	fclose(f);
	return true;
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

/* Remove what s lists, newest first; returns how many could not be removed. */
static int teardown(struct state *s, char *why, size_t whylen)
{
	int failed = 0;

	while (s->n) {
		char *item = s->name[s->n - 1], out[512];
		char *dm[] = { "dmsetup", "remove", no_udev() ? "--noudevsync" : "--retry", item, NULL };
		char *lo[] = { "losetup", "-d", item, NULL };

		if (s->kind[s->n - 1] == 'f' || s->kind[s->n - 1] == 'i') {
			if (s->kind[s->n - 1] == 'f')
				unlink(item);
			s->n--;	/* an image record names what was opened: nothing to remove */
			continue;
		}
		if (run_cmd(s->kind[s->n - 1] == 'l' ? lo : dm, out, sizeof(out))) {
			if (!failed++)
				snprintf(why, whylen, "cannot remove %s: %s", item, one_line(out));
			break;		/* keep the rest: it is still in use */
		}
		s->n--;
	}
	return failed;
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

static bool make_nodes(const char *dev)
{
	char *mk[] = { "dmsetup", "mknodes", (char *)dev, NULL }, out[256];

	return !no_udev() || run_cmd(mk, out, sizeof(out)) == 0;
}

/*
 * A loop device drops a blob's partial last sector. When a ZFile keeps its
 * trailer fields there, append that sector, zero-padded, with dm-linear:
 * a 512-byte file instead of a copy of the blob. Sets dev to what to map.
 */
static int attach_tail(struct state *s, const char *name, unsigned int i,
		       const struct dmplan_layer *l, const char *loop, char *dev, size_t devlen,
		       char *why, size_t whylen)
{
	char path[ITEM_MAX], tloop[512], table[DMPLAN_NAME_MAX + 8], out[512];
	u64 whole = l->file_size / DMPLAN_SECTOR * DMPLAN_SECTOR;
	FILE *f;
	int fd;

	snprintf(dev, devlen, "%s", loop);
	if (!l->tail)
		return 0;
	snprintf(path, sizeof(path), STATE_DIR "/%s.tail%03u", name, i);
	mkdir(STATE_DIR, 0700);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	write_full(fd, l->tail_sector, sizeof(l->tail_sector), path);
	close(fd);
	state_add(s, 'f', path);
	{
		char *argv[] = { "losetup", "--read-only", "--find", "--show", path, NULL };

		if (run_cmd(argv, tloop, sizeof(tloop))) {
			snprintf(why, whylen, "layer %u: losetup %s: %s", i, path, one_line(tloop));
			return -1;
		}
	}
	tloop[strcspn(tloop, "\n")] = 0;
	state_add(s, 'l', tloop);
	snprintf(path, sizeof(path), STATE_DIR "/%s.t%03u.table", name, i);
	f = fopen(path, "w");
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "0 %llu linear %s 0\n%llu 1 linear %s 0\n",
		(unsigned long long)(whole / DMPLAN_SECTOR), loop,
		(unsigned long long)(whole / DMPLAN_SECTOR), tloop);
	fclose(f);
	snprintf(table, sizeof(table), "%s-t%03u", name, i);
	{
		char *argv[] = { "dmsetup", "create", "--readonly", no_udev() ? "--noudevsync" : "--verifyudev",
				 table, path, NULL };
		int r = run_cmd(argv, out, sizeof(out));

		unlink(path);
		if (r) {
			snprintf(why, whylen, "layer %u: dmsetup create %s: %s", i, table, one_line(out));
			return -1;
		}
	}
	state_add(s, 'd', table);
	make_nodes(table);
	snprintf(dev, devlen, "/dev/mapper/%s", table);
	return 0;
}

/* Set up the stack, or roll back and return -1 with why set. */
static int open_stack(const char *name, char **blobs, unsigned int n, char *why,
		      size_t whylen)
{
	static struct dm_plan plan;
	static char loops[OVBD_LSMT_MAX_LAYERS][64], mapped[OVBD_LSMT_MAX_LAYERS][ITEM_MAX];
	char *devs[OVBD_LSMT_MAX_LAYERS], out[512];
	struct state s = { 0 };
	unsigned int i;

	dmplan_probe(&plan, name, blobs, n);	/* validates before creating */
	for (i = 0; i < n; i++) {
		char *argv[] = { "losetup", "--read-only", "--find", "--show", blobs[i], NULL };

		/* the whole message: a failure's reason is longer than a device name */
		if (run_cmd(argv, out, sizeof(out))) {
			snprintf(why, whylen, "layer %u: losetup %s: %s", i, blobs[i], one_line(out));
			goto rollback;
		}
		snprintf(loops[i], sizeof(loops[i]), "%.*s", (int)strcspn(out, "\n"), out);
		state_add(&s, 'l', loops[i]);
		if (attach_tail(&s, name, i, &plan.layer[i], loops[i], mapped[i],
				sizeof(mapped[i]), why, whylen))
			goto rollback;
		devs[i] = mapped[i];
	}
	dmplan_render(&plan, name, devs);
	for (i = 0; i < plan.n; i++) {
		char *argv[] = { "dmsetup", "create", "--readonly", no_udev() ? "--noudevsync" : "--verifyudev",
				 plan.dev[i].name, "--table", plan.dev[i].table, NULL };

		if (run_cmd(argv, out, sizeof(out))) {
			char reason[400];

			kernel_reason(plan.dev[i].name, reason, sizeof(reason));
			snprintf(why, whylen, "dmsetup create %s: %s%s%s", plan.dev[i].name, one_line(out),
				 reason, strstr(reason, "unknown target type") ?
				 " (the dm-overlaybd module is not loaded: modprobe dm-overlaybd; "
				 "if it is not found, see dkms status dm-overlaybd)" : "");
			dmplan_free(&plan);
			goto rollback;
		}
		state_add(&s, 'd', plan.dev[i].name);
		make_nodes(plan.dev[i].name);	/* the next table names this node */
	}
	dmplan_free(&plan);
	state_save(&s, name);
	return 0;
rollback:
	if (teardown(&s, out, sizeof(out))) {
		state_save(&s, name);
		snprintf(why + strlen(why), whylen - strlen(why),
			 "; rollback incomplete (%s): see ovbd close %s", out, name);
	}
	return -1;
}

int cmd_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ignore-chain", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct image_config cfg = { 0 };
	const char *config = NULL, *name;
	char why[1024], path[256];
	int c, ret;

	while ((c = ovbd_getopt(argc, argv, "c:h", opts)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'I')
			stack_ignore_chain = true;
		else
			usage_of("open", c == 'h' ? 0 : EXIT_USAGE);
	}
	if (optind >= argc || (config && optind != argc - 1) || (!config && optind == argc - 1))
		usage_of("open", EXIT_USAGE);
	name = argv[optind];
	state_path(path, sizeof(path), name);
	if (!access(path, F_OK))
		die(EXIT_BAD_INPUT, "%s: already open (ovbd close %s first)", name, name);
	/* the user's file first: reading it needs no privilege */
	if (config && config_load(config, &cfg, why, sizeof(why)))
		die(EXIT_BAD_INPUT, "%s", why);
	if (geteuid() != 0)
		die(EXIT_BAD_INPUT, "open %s: needs root: it creates loop and device-mapper devices", name);
	if (access("/dev/mapper/control", F_OK))
		die(EXIT_BAD_INPUT, "open %s: /dev/mapper/control is missing: device-mapper is not loaded (modprobe dm-mod)",
		    name);
	if (config) {
		ovbd_result_file = cfg.result_file;
		if (cfg.has_upper)
			fprintf(stderr, "%s: %s: the writable upper layer is ignored: devices are read-only\n",
				ovbd_prog, config);
		ret = open_stack(name, cfg.lowers, cfg.nlowers, why, sizeof(why));
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

		ret = image_layer_args(argv + optind + 1, (unsigned int)(argc - optind - 1), &img,
				     &paths, &n, why, sizeof(why));
		if (!ret)
			ret = open_stack(name, paths, n, why, sizeof(why));
		if (!ret && img.n) {	/* by reference: status says which image and manifest */
			struct state st;
			char item[ITEM_MAX];

			snprintf(item, sizeof(item), "%.200s|%s", argv[optind + 1], img.manifest_digest);
			if (state_load(&st, name)) {
				state_add(&st, 'i', item);
				state_save(&st, name);
			}
		}
		oci_image_free(&img);
	}
	if (ret)
		die(EXIT_BAD_INPUT, "open %s: %s", name, why);
	printf("/dev/mapper/%s\n", name);
	return 0;
}

int cmd_close(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct state s;
	char why[600];
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1)
		usage_of("close", c == 'h' ? 0 : EXIT_USAGE);
	if (optind != argc - 1)
		usage_of("close", EXIT_USAGE);
	if (!state_load(&s, argv[optind]))
		die(EXIT_BAD_INPUT, "%s: not open (no " STATE_DIR "/%s)", argv[optind], argv[optind]);
	if (teardown(&s, why, sizeof(why))) {
		state_save(&s, argv[optind]);
		die(EXIT_BAD_INPUT, "close %s: %s", argv[optind], why);
	}
	state_save(&s, argv[optind]);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	struct state s;
	unsigned int i;
	int c;

	while ((c = ovbd_getopt(argc, argv, "h", opts)) != -1)
		usage_of("status", c == 'h' ? 0 : EXIT_USAGE);
	if (optind != argc - 1)
		usage_of("status", EXIT_USAGE);
	if (!state_load(&s, argv[optind]))
		die(EXIT_BAD_INPUT, "%s: not open (no " STATE_DIR "/%s)", argv[optind], argv[optind]);
	for (i = 0; i < s.n; i++) {
		char out[4096];

		if (s.kind[i] == 'f')
			continue;
		if (s.kind[i] == 'i') {
			printf("image %.*s manifest %s\n", (int)strcspn(s.name[i], "|"), s.name[i],
			       strchr(s.name[i], '|') ? strchr(s.name[i], '|') + 1 : "?");
			continue;
		}
		if (s.kind[i] == 'l') {
			char *lo[] = { "losetup", "--noheadings", "-O", "NAME,BACK-FILE", s.name[i], NULL };

			run_cmd(lo, out, sizeof(out));
			printf("loop  %s\n", out);
		} else {
			char *dm[] = { "dmsetup", "status", s.name[i], NULL };

			run_cmd(dm, out, sizeof(out));
			printf("dm    %s: %s\n", s.name[i], out);
		}
	}
	return 0;
}
