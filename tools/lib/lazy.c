// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd open --lazy NAME REF: map a registry image before it is downloaded,
 * then hand the live device over to local files, with no daemon left.
 *
 * Each layer blob not yet in the store is served by an nbdkit process (its
 * curl plugin reads the registry's blob URL with HTTP Range requests of
 * 512 KiB through a cache filter; where the registry wants credentials, the
 * Authorization header comes from this program's "registry-auth" helper,
 * renewed through header-script) and exposed
 * read-only by the kernel's nbd client (nbd-client over a unix socket).
 * The zfile and lsmt devices stack on the nbd devices as on loop devices.
 *
 * A supervisor (the opening process, forked and detached; no systemd unit, so that
 * it also works in an initramfs and needs no installed unit files) pulls the
 * image into the store in a child process, which checks every blob's sha256
 * and only then renames it into place, retrying with backoff when the
 * registry fails. Each blob that appears complete is handed over: a loop
 * device of the file replaces the nbd device in the tables that name it
 * (libdevmapper: load, suspend, which drains in-flight I/O, resume), then
 * the nbd device is disconnected and its nbdkit stopped. After the last
 * handover the supervisor removes its state and exits: the stack is what
 * ovbd open of the local image makes.
 *
 * /run/ovbd/NAME.lazy holds what the kernel cannot tell: the supervisor's
 * pid, and per layer its digest, nbd device, nbdkit pid and state.
 */
#define _GNU_SOURCE
#include "lazy.h"
#include "blob.h"
#include "devices.h"
#include "dmstack.h"
#include "oci.h"
#include "pull.h"
#include "registry.h"
#include "run.h"
#include "util.h"
#include "vimage.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR		OVBD_RUN_DIR
#define NBD_MAX		128

enum layer_state { L_LOCAL, L_REMOTE, L_FAILED };

/* One blob read from the registry: a layer's, or the dm-verity tree of one. */
struct lazy_layer {
	char digest[OCI_DIGEST_LEN + 1];
	u64 size;
	enum layer_state state;
	char nbd[32];		/* /dev/nbdN while remote */
	pid_t nbdkit;
	char why[300];		/* why the handover was refused */
	int of;			/* a tree: the layer it covers; -1 for a layer */
};

struct lazy {
	char name[128];
	char ref[600];
	char store[4096];
	pid_t supervisor;
	unsigned int n;		/* entries: the layers [0, nlayers), then the trees read remotely */
	unsigned int nlayers;
	struct lazy_layer l[2 * OVBD_LSMT_MAX_LAYERS];
	/* lazy_open's clock: when the last phase ended, and each phase (not saved) */
	struct timespec mark;
	struct lazy_timings t;
};

const char *lazy_phase_name(enum lazy_phase p)
{
	static const char *const names[LAZY_NPHASES] = {
		[LAZY_MANIFEST] = "manifest", [LAZY_TREES] = "trees", [LAZY_NBDKIT] = "nbdkit",
		[LAZY_NBD] = "nbd", [LAZY_DEVICES] = "devices", [LAZY_SUPERVISOR] = "supervisor",
	};

	return p < LAZY_NPHASES ? names[p] : "?";
}

/* Phase p ended now: its time since the last mark, added to the total. */
static void lazy_mark(struct lazy *z, enum lazy_phase p)
{
	struct timespec now;
	double d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (double)(now.tv_sec - z->mark.tv_sec) + (double)(now.tv_nsec - z->mark.tv_nsec) / 1e9;
	z->t.s[p] += d;
	z->t.total += d;
	z->mark = now;
}

static void state_path(char *buf, size_t len, const char *name, const char *what)
{
	snprintf(buf, len, RUN_DIR "/%s.%s", name, what);
}

/* RUN_DIR/NAME.I.WHAT: layer i's nbdkit socket ("sock") or pid file ("nbdkit") */
static void layer_path(char *buf, size_t len, const char *name, unsigned int i, const char *what)
{
	snprintf(buf, len, RUN_DIR "/%s.%u.%s", name, i, what);
}

static const char *state_word(enum layer_state s)
{
	return s == L_LOCAL ? "local" : s == L_REMOTE ? "remote" : "failed";
}

/* Write the state atomically (a rename), for status and close. */
static void lazy_save(const struct lazy *z)
{
	char path[256], tmp[300];
	unsigned int i;
	FILE *f;

	state_path(path, sizeof(path), z->name, "lazy");
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	mkdir(RUN_DIR, 0700);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "supervisor %d\nref %s\nstore %s\n", (int)z->supervisor, z->ref, z->store);
	for (i = 0; i < z->n; i++) {
		if (z->l[i].of >= 0)	/* a tree, and the layer it covers */
			fprintf(f, "tree %u %d ", i, z->l[i].of);
		else
			fprintf(f, "layer %u ", i);
		fprintf(f, "%s %llu %s %s %d %s\n", z->l[i].digest,
			(unsigned long long)z->l[i].size, state_word(z->l[i].state),
			z->l[i].nbd[0] ? z->l[i].nbd : "-", (int)z->l[i].nbdkit,
			z->l[i].why[0] ? z->l[i].why : "-");
	}
	fclose(f);
	rename(tmp, path);
}

static bool lazy_load(struct lazy *z, const char *name)
{
	char path[256], line[1200];
	FILE *f;

	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	state_path(path, sizeof(path), name, "lazy");
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned int i;
		unsigned long long size;
		char digest[80], st[16], nbd[32], why[300];
		int pid, k = 0, of = -1, t = 0;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "supervisor %d", &pid) == 1)
			z->supervisor = pid;
		else if (!strncmp(line, "ref ", 4))
			snprintf(z->ref, sizeof(z->ref), "%.599s", line + 4);
		else if (!strncmp(line, "store ", 6))
			snprintf(z->store, sizeof(z->store), "%s", line + 6);
		else if (((sscanf(line, "tree %u %d %n", &i, &of, &t) >= 2 && of >= 0 &&
			   of < OVBD_LSMT_MAX_LAYERS) || sscanf(line, "layer %u %n", &i, &t) >= 1) &&
			 t && i < 2 * OVBD_LSMT_MAX_LAYERS &&
			 sscanf(line + t, "%79s %llu %15s %31s %d %n", digest, &size, st, nbd, &pid, &k) >= 5) {
			struct lazy_layer *l = &z->l[i];

			k += t;
			l->of = of;
			if (of < 0 && i + 1 > z->nlayers)
				z->nlayers = i + 1;
			snprintf(l->digest, sizeof(l->digest), "%.71s", digest);
			l->size = size;
			l->state = !strcmp(st, "local") ? L_LOCAL : !strcmp(st, "remote") ? L_REMOTE : L_FAILED;
			snprintf(l->nbd, sizeof(l->nbd), "%s", strcmp(nbd, "-") ? nbd : "");
			l->nbdkit = pid;
			snprintf(why, sizeof(why), "%s", k ? line + k : "-");
			snprintf(l->why, sizeof(l->why), "%s", strcmp(why, "-") ? why : "");
			if (i + 1 > z->n)
				z->n = i + 1;
		}
	}
	fclose(f);
	return true;
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

static bool nbd_free(unsigned int i)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/block/nbd%u/pid", i);
	return access(path, F_OK) != 0;
}

/* pid is a running nbdkit (not a zombie, not a process that reused its pid) */
static bool nbdkit_alive(pid_t pid)
{
	char path[64], stat[128];
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(stat, sizeof(stat), f)) {
			const char *end = strrchr(stat, ')');

			alive = strstr(stat, "(nbdkit)") && end && end[1] == ' ' && end[2] != 'Z';
		}
		fclose(f);
	}
	return alive;
}

/* Stop nbdkit pid and wait until it is gone: SIGTERM, up to 5 s, then SIGKILL. */
static void stop_nbdkit(pid_t pid)
{
	if (pid <= 0 || !nbdkit_alive(pid))
		return;
	kill(pid, SIGTERM);
	for (int w = 0; w < 250 && nbdkit_alive(pid); w++)
		nap_ms(20);
	if (nbdkit_alive(pid))
		kill(pid, SIGKILL);
}

/* A failed registry request is tried LAZY_RETRIES more times, LAZY_RETRY_DELAY s apart. */
#define LAZY_RETRIES		1
#define LAZY_RETRY_DELAY	1
#define LAZY_STR2(x)		#x
#define LAZY_STR(x)		LAZY_STR2(x)
/*
 * The kernel's nbd timeout, in requests' worth of nbdkit's time: nbdkit's
 * curl plugin serves one request at a time, so in a stalled registry the
 * requests the kernel sent wait in line, each for its tries. A timeout
 * that fires marks the device's only connection dead, and the layer then
 * fails every read until the handover, even after the registry is back:
 * it must allow for a queue, not for one request.
 */
#define LAZY_NBD_QUEUE		8

/* What serve_remotes() starts for one layer. */
struct remote_start {
	char sock[256], pidf[256], url[4400], hdr[5200], dev[32], piece[48];
	char *kit[20];
	pid_t pid;
	unsigned int idx;	/* of /dev/nbdN */
};

/* The next nbd index from *k on that exists and is not connected, or -1. */
static int next_free_nbd(unsigned int *k)
{
	char dev[32];

	for (; *k < NBD_MAX; (*k)++) {
		snprintf(dev, sizeof(dev), "/dev/nbd%u", *k);
		if (access(dev, F_OK))
			return -1;
		if (nbd_free(*k))
			return (int)(*k)++;
	}
	return -1;
}

/*
 * Start nbd-client connecting /dev/nbd<idx> to r's nbdkit (a step: see
 * ovbd_step()); serve_remotes() reaps it. -1 with why set when refused.
 */
static int connect_nbd(struct remote_start *r, unsigned int idx, const char *nbd_tmo, char *why,
		       size_t len)
{
	char *argv[] = { "nbd-client", "-unix", r->sock, r->dev, "-readonly", "-timeout",
			 (char *)nbd_tmo, "-block-size", "512", NULL };

	r->idx = idx;
	r->pid = -1;
	snprintf(r->dev, sizeof(r->dev), "/dev/nbd%u", idx);
	if (ovbd_step("nbd connect", r->dev, why, len))
		return -1;
	r->pid = run_spawn(argv, NULL);
	return 0;
}

/*
 * The unit of each registry request (nbdkit's cache filter block): 512 KiB
 * for every blob. Side by side on the bench's 163 MB layer, 512 KiB fetched
 * 30% fewer bytes than 1 MiB before the first read, and 256 KiB read
 * slower; pieces of 1/128 of a smaller blob (128 KiB for the 16 MB layers
 * of the bench's 10-layer image, 64 KiB for dm-verity trees) fetched 36%
 * fewer bytes before the first read but took 1.7 times as long to it
 * (7.8 s against 4.5 s; the verified image's 3.7 s against 2.3 s): each
 * request costs more than the bytes it saves (bench/analysis.md).
 * OVBD_LAZY_PIECE (bytes, a power of two of 4 KiB to 16 MiB) sets
 * another, for measuring.
 */
static unsigned int lazy_piece(void)
{
	const char *t = getenv("OVBD_LAZY_PIECE");
	unsigned long v = t && *t ? strtoul(t, NULL, 10) : 0;

	return v >= 4096 && v <= (16ul << 20) && !(v & (v - 1)) ? (unsigned int)v : 512u << 10;
}

/* The nbdkit command line of layer i, in r (which keeps the strings it points at). */
static void nbdkit_argv(struct remote_start *r, const struct lazy *z, unsigned int i,
			const struct reg_client *c, const char *self, const char *tmo)
{
	unsigned int a = 0;

	layer_path(r->sock, sizeof(r->sock), z->name, i, "sock");
	layer_path(r->pidf, sizeof(r->pidf), z->name, i, "nbdkit");
	snprintf(r->url, sizeof(r->url), "url=%s/v2/%s/blobs/%s", c->base, c->ref.repo,
		 z->l[i].digest);
	/* the source's own name: a mirror's or a rewritten location's credentials */
	snprintf(r->hdr, sizeof(r->hdr), "header-script=exec '%s' registry-auth %s%s/%s %s", self,
		 !strncmp(c->base, "http://", 7) ? "--plain-http " : "", c->ref.host, c->ref.repo,
		 z->l[i].digest);
	/*
	 * The cache filter turns each miss into one Range request of a piece
	 * (lazy_piece()) and serves what the probe, the ctrs and the file
	 * system read again from its file (an unlinked temporary file in the
	 * store's directory, gone with nbdkit). The curl plugin serialises
	 * its requests, so the readahead filter's prefetches would wait in
	 * line with the reads: side by side in bench/analysis.md, the first
	 * read took 2.7 s through readahead and 1.3 s through the cache.
	 */
	snprintf(r->piece, sizeof(r->piece), "cache-min-block-size=%u", lazy_piece());
	r->kit[a++] = "nbdkit";
	r->kit[a++] = "--unix";
	r->kit[a++] = r->sock;
	r->kit[a++] = "--pidfile";
	r->kit[a++] = r->pidf;
	r->kit[a++] = "--readonly";
	r->kit[a++] = "--filter=cache";
	/*
	 * Below the cache, a request that failed (a timeout, a reset
	 * connection, a registry's 5xx) is tried once more after a second
	 * (LAZY_RETRIES, LAZY_RETRY_DELAY), so that a transient failure costs
	 * a second, not an EIO. The kernel's own timeout allows for both
	 * tries of a queue of requests (LAZY_NBD_QUEUE).
	 */
	r->kit[a++] = "--filter=retry-request";
	r->kit[a++] = "curl";
	r->kit[a++] = r->url;
	r->kit[a++] = (char *)tmo;
	r->kit[a++] = "cache-on-read=true";
	r->kit[a++] = r->piece;
	r->kit[a++] = "retry-request-retries=" LAZY_STR(LAZY_RETRIES);
	r->kit[a++] = "retry-request-delay=" LAZY_STR(LAZY_RETRY_DELAY);
	if (c->insecure)	/* registries.conf: insecure, and TLS it is */
		r->kit[a++] = "sslverify=false";
	/* no Authorization header (and no helper run per renewal) where the registry asked for none */
	if (c->bearer || c->basic) {
		r->kit[a++] = r->hdr;
		r->kit[a++] = "header-script-renew=240";
	}
	r->kit[a] = NULL;
}

/*
 * Serve each remote layer of z from the registry through its own nbdkit and
 * connect a free nbd device to it. The layers start side by side: every
 * nbdkit, then every nbd-client, so that an image of many layers starts in
 * about one layer's time (each exec costs about 0.1 s under emulation).
 * On failure, what did start is recorded in z for stop_remote().
 */
static int serve_remotes(struct lazy *z, const struct reg_client *c, char *why, size_t len)
{
	const char *t = getenv("OVBD_LAZY_TIMEOUT");
	long secs = t && *t ? strtol(t, NULL, 10) : 20L;
	char self[4096], tmo[32], nbd_tmo[32], tmpdir[4200];
	struct remote_start *rs;
	char **kit_env;
	unsigned int i, k = 0;
	int ret = -1, idx;
	ssize_t sn;

	rs = calloc(z->n, sizeof(*rs));
	if (!rs)
		return failf(why, len, "out of memory");
	why[0] = 0;
	sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sn > 0 ? sn : 0] = 0;
	if (secs < 1 || secs > 3600)
		secs = 20;
	snprintf(tmo, sizeof(tmo), "timeout=%ld", secs);
	/*
	 * The kernel's own timeout per request, a backstop for an nbdkit that
	 * no longer answers: a queue (LAZY_NBD_QUEUE) of requests that each
	 * take curl's timeout for each try and the delays between them, and
	 * 10 s for nbdkit to say so first. An nbdkit that exits is the
	 * supervisor's to see (supervise_nbdkits), not this timeout's.
	 */
	snprintf(nbd_tmo, sizeof(nbd_tmo), "%ld",
		 LAZY_NBD_QUEUE * ((LAZY_RETRIES + 1) * secs + LAZY_RETRIES * LAZY_RETRY_DELAY) + 10);
	mkdir(RUN_DIR, 0700);
	/* nbdkit's cache filter keeps its temporary file in the store's directory */
	snprintf(tmpdir, sizeof(tmpdir), "TMPDIR=%s", z->store);
	kit_env = run_env_with(tmpdir);
	if (!kit_env) {
		free(rs);
		return failf(why, len, "out of memory");
	}
	for (i = 0; i < z->n; i++) {
		struct remote_start *r = &rs[i];

		r->pid = -1;
		if (z->l[i].state != L_REMOTE || why[0])
			continue;
		nbdkit_argv(r, z, i, c, self, tmo);
		unlink(r->sock);
		unlink(r->pidf);
		if (ovbd_step("nbdkit start", r->url + 4, why, len))
			continue;
		/* nbdkit forks into the background once its socket listens */
		r->pid = run_spawn(r->kit, kit_env);
	}
	for (i = 0; i < z->n; i++)	/* every one reaped, even after a failure */
		if (rs[i].pid > 0 && run_wait(rs[i].pid) && !why[0])
			failf(why, len, "layer %u: nbdkit (the nbdkit package: curl plugin, cache and retry-request filters) did not start", i);
	/*
	 * nbdkit's parent exits once the socket listens; the daemon writes the
	 * pid file after that fork, so wait for it: without the pid, close and
	 * the handover could not stop this nbdkit (it leaked under load)
	 */
	for (i = 0; i < z->n; i++) {
		struct lazy_layer *l = &z->l[i];

		if (l->state != L_REMOTE || rs[i].pid <= 0)
			continue;
		for (int w = 0; w < 500 && (l->nbdkit = read_pid(rs[i].pidf)) <= 0; w++)
			nap_ms(10);
		unlink(rs[i].pidf);
		if (l->nbdkit <= 0) {
			l->nbdkit = 0;
			if (!why[0])
				failf(why, len, "layer %u: nbdkit wrote no pid file in 5 s", i);
		}
	}
	if (why[0])
		goto out;
	lazy_mark(z, LAZY_NBDKIT);
	/* every nbd-client at once, each on its own free device */
	for (i = 0; i < z->n; i++) {
		rs[i].pid = -1;
		if (z->l[i].state == L_REMOTE && !why[0] && (idx = next_free_nbd(&k)) >= 0)
			connect_nbd(&rs[i], (unsigned int)idx, nbd_tmo, why, len);
	}
	for (i = 0; i < z->n; i++) {
		struct lazy_layer *l = &z->l[i];
		int st;

		if (l->state != L_REMOTE)
			continue;
		st = rs[i].pid > 0 ? run_wait(rs[i].pid) : -1;
		/* another process took that device first: the next free ones, one by one */
		while (st && !why[0] && (idx = next_free_nbd(&k)) >= 0 &&
		       !connect_nbd(&rs[i], (unsigned int)idx, nbd_tmo, why, len))
			st = run_wait(rs[i].pid);
		if (st) {
			if (!why[0])
				failf(why, len, "layer %u: no free nbd device could connect (modprobe nbd; nbd-client installed?)", i);
			continue;
		}
		snprintf(l->nbd, sizeof(l->nbd), "%s", rs[i].dev);	/* connected: recorded, to disconnect */
	}
	if (why[0])
		goto out;
	for (i = 0; i < z->n; i++)	/* each device has its size once connected */
		if (z->l[i].state == L_REMOTE)
			for (int w = 0; w < 100 && nbd_free(rs[i].idx); w++)
				nap_ms(20);
	lazy_mark(z, LAZY_NBD);
	ret = 0;
out:
	free(kit_env);
	free(rs);
	return ret;
}

static void stop_remote(struct lazy_layer *l, const char *name, unsigned int i)
{
	char sock[256];

	if (l->nbd[0]) {
		char *argv[] = { "nbd-client", "-d", l->nbd, NULL };

		run_quiet(argv);
		l->nbd[0] = 0;
	}
	stop_nbdkit(l->nbdkit);	/* gone when close returns */
	l->nbdkit = 0;
	layer_path(sock, sizeof(sock), name, i, "sock");
	unlink(sock);
}

/* ---- the handover */

/* The entry of layer i's tree read remotely, or NULL. */
static struct lazy_layer *tree_of(struct lazy *z, unsigned int i)
{
	unsigned int k;

	for (k = z->nlayers; k < z->n; k++)
		if (z->l[k].of == (int)i)
			return &z->l[k];
	return NULL;
}

/*
 * Hand layer i over from its nbd device to the stored blob (path): an LSMT
 * layer onto the blob's shared parts (dmstack_share_handover), else, or
 * when that fails, its private parts onto a loop device of the blob. A
 * verified layer's tree is made from the stored blob and must give the
 * manifest's root hash (the pull checked it too); its verity device, shared
 * or private, reads the blob and the tree through loop devices. 0, with why
 * empty or saying what to log; -1 with why set.
 */
static int hand_over(struct lazy *z, struct dmstack *s, const struct layer_verity *v,
		     unsigned int i, const char *path, char *why, size_t len)
{
	struct lazy_layer *l = &z->l[i], *t = tree_of(z, i);
	char loop[64], tloop[64], tdigest[OCI_DIGEST_LEN + 1], note[400];
	struct layer_verity made;
	int fd, tfd = -1, r;

	why[0] = 0;	/* on success: empty, or what to say of it */
	if (v && v[i].set) {
		struct oci_layout lay = { z->store };
		u64 tsize;

		if (vimage_make_tree(&lay, l->digest, v[i].data_block_size, v[i].salt, &made, tdigest,
				     &tsize, why, len))
			return -1;
		if (memcmp(made.root, v[i].root, VERITY_DIGEST))
			return failf(why, len, "the stored blob's dm-verity root hash is not the manifest's");
	}
	/*
	 * An LSMT layer: onto the stored blob's parts, shared with every other
	 * stack of it. The lsmt device's reload reads every layer again, so it
	 * fails while another layer cannot be read (its nbdkit gone): then the
	 * layer's own private parts are pointed at the stored blob instead.
	 */
	note[0] = 0;
	if (s->layer[i].lsmt) {
		r = dmstack_share_handover(s, i, path, v && v[i].set ? &made : NULL, note, sizeof(note));
		if (r >= 0) {	/* shared; note: a private part that stays until close */
			snprintf(why, len, "%.300s", r ? note : "");
			goto local;
		}
	}
	if (v && v[i].set && loop_attach(made.tree, false, tloop, sizeof(tloop), &tfd, why, len))
		return -1;
	if (loop_attach(path, false, loop, sizeof(loop), &fd, why, len)) {
		if (tfd >= 0)
			close(tfd);
		return -1;
	}
	r = tfd >= 0 ? dmstack_retarget_verity(s, i, loop, tloop, why, len) :
	    dmstack_retarget(s, i, loop, why, len);
	close(fd);		/* the table holds it now; else autoclear: the loop goes */
	if (tfd >= 0)
		close(tfd);
	if (r) {
		if (note[0])
			snprintf(why + strlen(why), len - strlen(why), " (its shared parts: %.200s)", note);
		return -1;
	}
	if (note[0])
		snprintf(why, len, "on its private parts (its shared parts: %.300s)", note);
local:
	l->state = L_LOCAL;
	if (t)
		t->state = L_LOCAL;
	lazy_save(z);		/* status says local from now on */
	stop_remote(l, z->name, i);
	if (t)
		stop_remote(t, z->name, (unsigned int)(t - z->l));
	return 0;
}

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

/*
 * Reads completed on the remote layers' nbd devices, added up, from
 * /sys/block/nbdN/stat (its 1st field); *busy when any has one in flight
 * (its 9th).
 */
static unsigned long long nbd_reads(const struct lazy *z, bool *busy)
{
	unsigned long long sum = 0, f[9];
	unsigned int i;

	*busy = false;
	for (i = 0; i < z->n; i++) {
		char path[96];
		FILE *fp;

		if (z->l[i].state == L_LOCAL || strncmp(z->l[i].nbd, "/dev/", 5))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/stat", z->l[i].nbd + 5);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
			   &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) == 9) {
			sum += f[0];
			*busy |= f[8] > 0;
		}
		fclose(fp);
	}
	return sum;
}

/*
 * Before the download starts, let the container's first reads have the
 * registry, the link and the CPU to themselves: wait until the remote nbd
 * devices have had no read in flight or completed for idle_ms
 * (OVBD_LAZY_IDLE_MS, default 500, at most 60000; 0 starts at once), and
 * never longer than 20 such periods in all.
 */
static void wait_start_reads(const struct lazy *z)
{
	const char *t = getenv("OVBD_LAZY_IDLE_MS");
	long idle_ms = t && *t ? strtol(t, NULL, 10) : 500L, quiet = 0, waited = 0;
	unsigned long long last, now;
	bool busy;

	if (idle_ms <= 0)
		return;
	idle_ms = idle_ms > 60000 ? 60000 : idle_ms;
	last = nbd_reads(z, &busy);
	while (!stopping && quiet < idle_ms && waited < 20 * idle_ms) {
		nap_ms(50);
		waited += 50;
		now = nbd_reads(z, &busy);
		quiet = now == last && !busy ? quiet + 50 : 0;
		last = now;
	}
}

/* Say msg through the caller's notes (the supervisor's log). */
static void lazy_say(const struct lazy_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void lazy_say(const struct lazy_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!o->notes || !o->notes->line)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->notes->line(o->notes->arg, msg);
}

/* The download, in a child of the supervisor: checks every blob's sha256 before storing it. */
static void lazy_download(const struct lazy *z, const struct lazy_opts *o)
{
	struct pull_opts po = { .plain_http = o->plain_http, .notes = o->notes };
	char ref[4300], why[4200];
	int fd = open("/dev/null", O_RDWR);

	/*
	 * in the background of the starting container: a lower CPU and I/O
	 * priority (nice 10, best-effort level 7), so that the first reads are
	 * not queued behind the download
	 */
	if (setpriority(PRIO_PROCESS, 0, 10) ||
	    syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
		    (2 << 13) | 7 /* IOPRIO_CLASS_BE, level 7 */))
		lazy_say(o, "%s: lowering the download's priority: %s", z->name, strerror(errno));
	dup2(fd, 1);
	signal(SIGTERM, SIG_DFL);
	if (ovbd_pull(z->ref, z->store, &po, ref, sizeof(ref), NULL, why, sizeof(why))) {
		lazy_say(o, "%s", why);
		_exit(1);
	}
	_exit(0);
}

/*
 * An nbdkit of z that exited (killed, crashed): disconnect its nbd device,
 * so that the reads waiting on it fail with EIO at once, on 6.1 too (whose
 * nbd would wait for its timeout), and every later read fails at once.
 * The device stays held by the stack's table, so no other open takes its
 * index; the handover brings the layer back.
 */
static void supervise_nbdkits(struct lazy *z, const struct lazy_opts *o)
{
	unsigned int i;

	for (i = 0; i < z->n; i++) {
		struct lazy_layer *l = &z->l[i];
		char dev[sizeof(l->nbd)];
		char *argv[] = { "nbd-client", "-d", dev, NULL };

		if (l->state != L_REMOTE || l->nbdkit <= 0 || !l->nbd[0] || nbdkit_alive(l->nbdkit))
			continue;
		memcpy(dev, l->nbd, sizeof(dev));
		run_quiet(argv);
		l->nbdkit = 0;
		snprintf(l->why, sizeof(l->why),
			 "nbdkit exited: %s disconnected, its reads fail until the handover", dev);
		lazy_say(o, "%s: %s %u: %s", z->name, l->of < 0 ? "layer" : "tree of layer",
			 l->of < 0 ? i : (unsigned int)l->of, l->why);
		lazy_save(z);
	}
}

/* The supervisor: pull in a child, hand over each blob that is complete, retry on failure. */
static void supervise(struct lazy *z, struct dmstack *s, const struct layer_verity *v,
		      const struct lazy_opts *o)
{
	unsigned int i, remote, backoff = 2;
	pid_t child = 0;
	int st;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* a test hook: hold the remote path until RUN_DIR/NAME.go exists */
	if (getenv("OVBD_TEST_LAZY_HOLD")) {
		char go[256];

		state_path(go, sizeof(go), z->name, "go");
		while (!stopping && access(go, F_OK)) {
			supervise_nbdkits(z, o);
			nap_ms(100);
		}
		unlink(go);
	}
	wait_start_reads(z);
	while (!stopping) {
		if (!child) {
			child = fork();
			if (!child)
				lazy_download(z, o);
		}
		supervise_nbdkits(z, o);
		for (i = 0, remote = 0; i < z->nlayers; i++) {
			char path[4400], why[600];

			if (z->l[i].state == L_LOCAL)
				continue;
			snprintf(path, sizeof(path), "%s/blobs/sha256/%s", z->store, z->l[i].digest + 7);
			if (!access(path, F_OK) && z->l[i].state == L_REMOTE) {
				if (hand_over(z, s, v, i, path, why, sizeof(why))) {
					snprintf(z->l[i].why, sizeof(z->l[i].why), "handover: %.250s", why);
					lazy_say(o, "%s: layer %u: %s", z->name, i, why);
				} else {
					z->l[i].why[0] = 0;
					if (why[0])
						lazy_say(o, "%s: layer %u: handed over %s", z->name, i, why);
				}
				lazy_save(z);
			}
			if (z->l[i].state != L_LOCAL)
				remote++;
		}
		if (!remote)
			break;
		if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
			child = 0;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {	/* say why, keep the remote path, retry */
				for (i = 0; i < z->n; i++)
					if (z->l[i].state != L_LOCAL)
						snprintf(z->l[i].why, sizeof(z->l[i].why),
							 "the download failed (see the log); retrying in %u s", backoff);
				lazy_save(z);
				for (i = 0; i < backoff * 10 && !stopping; i++)
					nap_ms(100);
				backoff = backoff < 60 ? backoff * 2 : 60;
			}
			continue;
		}
		nap_ms(200);
	}
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, &st, 0);
	}
	if (!stopping) {	/* all local: what ovbd open of the local image makes */
		char path[256];

		state_path(path, sizeof(path), z->name, "lazy");
		unlink(path);
	}
}

/* The layers of the manifest man into z: local where the store has them, else remote. */
static int lazy_plan(struct lazy *z, struct json_object *man, const char *refstr,
		     struct layer_verity *v, unsigned int *nverified, char *why, size_t len)
{
	struct json_object *layers;
	unsigned int i;
	char err[600];

	if (!json_object_object_get_ex(man, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) || !json_object_array_length(layers) ||
	    json_object_array_length(layers) > OVBD_LSMT_MAX_LAYERS)
		return failf(why, len, "%s: a manifest with 1..255 layers expected", refstr);
	z->n = z->nlayers = (unsigned int)json_object_array_length(layers);
	*nverified = 0;
	for (i = 0; i < z->n; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *a, *sz;
		const char *d = oci_jstr(l, "digest"), *mt = oci_jstr(l, "mediaType");
		char path[4400];
		struct stat st;

		if (!mt || strstr(mt, "gzip") || strstr(mt, "zstd") || !strstr(mt, "tar") ||
		    !json_object_object_get_ex(l, "annotations", &a) || !oci_jstr(a, OVBD_ANN_DIGEST))
			return failf(why, len, "layer %u (%.80s): not an uncompressed OverlayBD blob, which --lazy reads at random; ovbd open without --lazy pulls it first",
				     i, mt ? mt : "no mediaType");
		if (!oci_digest_ok(d))
			return failf(why, len, "layer %u: digest '%.80s' is not sha256:<64 hex>", i, d ? d : "");
		snprintf(z->l[i].digest, sizeof(z->l[i].digest), "%s", d);
		z->l[i].of = -1;
		z->l[i].size = json_object_object_get_ex(l, "size", &sz) ? (u64)json_object_get_int64(sz) : 0;
		if (vimage_desc_verity(l, z->l[i].size, &v[i], err, sizeof(err)))
			return failf(why, len, "layer %u: %s", i, err);
		*nverified += v[i].set;
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", z->store, d + 7);
		z->l[i].state = !stat(path, &st) && (u64)st.st_size == z->l[i].size ? L_LOCAL : L_REMOTE;
	}
	return 0;
}

/*
 * The trees of the verified layers (v[0..z->nlayers)): a stored layer's is
 * made from its blob and must give the root hash; a remote layer's is read
 * from the registry as lazily as the blob (an entry of z, served by
 * nbdkit), when the image's artifact there (tag sha256-<manifest hex>)
 * has it; else the layer is downloaded whole and verified now, before it
 * is mapped: never mapped unverified.
 */
static int lazy_trees(struct lazy *z, struct reg_client *c, struct oci_layout *lay,
		      const char *mdigest, struct layer_verity *v, char *why, size_t len)
{
	struct json_object *art = NULL, *tl = NULL;
	char tag[80], err[1024], adigest[80], mt[256];
	unsigned int i;
	char *body = NULL;
	size_t n, k;

	snprintf(tag, sizeof(tag), "sha256-%.64s", mdigest + 7);
	if (!reg_get_manifest(c, tag, &body, &n, mt, sizeof(mt), adigest, err, sizeof(err)) &&
	    (art = json_tokener_parse(body)) && json_object_object_get_ex(art, "layers", &tl) &&
	    !json_object_is_type(tl, json_type_array))
		tl = NULL;
	for (i = 0; i < z->nlayers; i++) {
		struct lazy_layer *l = &z->l[i];
		struct layer_verity made;
		char tdigest[OCI_DIGEST_LEN + 1];
		u64 tsize;

		if (!v[i].set)
			continue;
		for (k = 0; l->state == L_REMOTE && tl && k < json_object_array_length(tl); k++) {
			struct json_object *t = json_object_array_get_idx(tl, k), *a, *sz;
			const char *td = oci_jstr(t, "digest");

			if (json_object_object_get_ex(t, "annotations", &a) && oci_jstr(a, OVBD_ANN_VERITY_BLOB) &&
			    !strcmp(oci_jstr(a, OVBD_ANN_VERITY_BLOB), l->digest) && oci_digest_ok(td) &&
			    json_object_object_get_ex(t, "size", &sz)) {
				struct lazy_layer *e = &z->l[z->n++];

				memset(e, 0, sizeof(*e));
				snprintf(e->digest, sizeof(e->digest), "%s", td);
				e->size = (u64)json_object_get_int64(sz);
				e->state = L_REMOTE;
				e->of = (int)i;
				break;
			}
		}
		if (tree_of(z, i))
			continue;	/* its tree is read remotely, as lazily as the blob */
		if (l->state == L_REMOTE) {	/* no tree in the registry: the whole blob, verified, now */
			if (pull_blob(c, lay, l->digest, l->size, &v[i], tdigest, &tsize, err, sizeof(err))) {
				failf(why, len, "layer %u: the registry has no dm-verity tree for it, and downloading it to verify it failed: %s",
				      i, err);
				goto out;
			}
			l->state = L_LOCAL;
		}
		if (vimage_make_tree(lay, l->digest, v[i].data_block_size, v[i].salt, &made, tdigest,
				     &tsize, err, sizeof(err))) {
			failf(why, len, "layer %u: %s", i, err);
			goto out;
		}
		if (memcmp(made.root, v[i].root, VERITY_DIGEST)) {
			failf(why, len, "layer %u (%.19s...): the stored blob's dm-verity root hash is not the manifest's: remove it (ovbd gc) and open again",
			      i, l->digest);
			goto out;
		}
		snprintf(v[i].tree, sizeof(v[i].tree), "%s", made.tree);
	}
	json_object_put(art);
	free(body);
	return 0;
out:
	json_object_put(art);
	free(body);
	return -1;
}

/* Stop what serve_remotes() started and remove the state. */
static void lazy_undo(struct lazy *z)
{
	char path[256];
	unsigned int i;

	for (i = 0; i < z->n; i++)
		stop_remote(&z->l[i], z->name, i);
	state_path(path, sizeof(path), z->name, "lazy");
	unlink(path);
}

int lazy_open(const char *name, const char *refstr, const struct lazy_opts *o, char *why,
	      size_t len)
{
	static struct lazy z;
	static struct dmstack s;
	static struct layer_verity v[OVBD_LSMT_MAX_LAYERS];
	static char *paths[OVBD_LSMT_MAX_LAYERS];
	static char pathbuf[OVBD_LSMT_MAX_LAYERS][4400];
	struct dmstack_opts so = { 0 };
	struct json_object *man = NULL;
	char digest[80], log[256], err[600];
	struct reg_client c;
	struct oci_layout lay;
	unsigned int i, nver = 0;
	char *body = NULL;
	size_t n;
	pid_t pid;
	int fd, ret = -1;

	memset(&z, 0, sizeof(z));
	clock_gettime(CLOCK_MONOTONIC, &z.mark);
	snprintf(z.name, sizeof(z.name), "%s", name);
	snprintf(z.ref, sizeof(z.ref), "%s", refstr);
	if (dmstack_check_name(name, why, len))
		return -1;
	if (!dm_uuid(name, err, sizeof(err)))
		return failf(why, len, "/dev/mapper/%s exists already", name);
	if (pull_open_manifest(refstr, o->plain_http, &c, &man, &body, &n, digest, why, len))
		return -1;
	if (oci_layout_open(&lay, ovbd_store(), why, len)) {
		json_object_put(man);
		free(body);
		reg_close(&c);
		return -1;
	}
	snprintf(z.store, sizeof(z.store), "%s", lay.dir);
	if (lazy_plan(&z, man, refstr, v, &nver, why, len))
		goto out;
	lazy_mark(&z, LAZY_MANIFEST);
	for (i = 0; o->require_verity && i < z.nlayers; i++)
		if (!v[i].set) {
			failf(why, len, "layer %u (%.19s...): the manifest carries no dm-verity root hash for it: verity is required",
			      i, z.l[i].digest);
			goto out;
		}
	if (nver && lazy_trees(&z, &c, &lay, digest, v, why, len))
		goto out;
	lazy_mark(&z, LAZY_TREES);
	if (serve_remotes(&z, &c, why, len))
		goto undo;
	for (i = 0; i < z.nlayers; i++) {
		struct lazy_layer *t = tree_of(&z, i);

		snprintf(pathbuf[i], sizeof(pathbuf[i]), "%s/blobs/sha256/%s", z.store, z.l[i].digest + 7);
		paths[i] = z.l[i].state == L_REMOTE ? z.l[i].nbd : pathbuf[i];
		if (t)	/* the tree on its nbd device */
			snprintf(v[i].tree, sizeof(v[i].tree), "%s", t->nbd);
	}
	lazy_save(&z);
	so.manifest = digest;
	so.verity = nver ? v : NULL;
	/* dmstack_open() probes the remote layers side by side: their Range requests overlap */
	if (dmstack_open(&s, name, paths, z.nlayers, &so, why, len))
		goto undo;
	lazy_mark(&z, LAZY_DEVICES);
	/* the reference, as ovbd open by reference records it */
	if (dmstack_record_image(name, refstr, digest, why, len))
		goto undo_devices;
	/* the supervisor: detached, its messages in RUN_DIR/NAME.log */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		failf(why, len, "fork: %s", strerror(errno));
		goto undo_devices;
	}
	if (!pid) {
		setsid();
		state_path(log, sizeof(log), name, "log");
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		close(fd);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
		z.supervisor = getpid();
		lazy_save(&z);
		supervise(&z, &s, v, o);
		_exit(0);
	}
	for (i = 0; i < 50; i++) {	/* the state names the supervisor before open returns */
		struct lazy chk;

		if (!lazy_load(&chk, name) || chk.supervisor == pid)
			break;
		nap_ms(20);
	}
	lazy_mark(&z, LAZY_SUPERVISOR);
	if (o->timings)
		*o->timings = z.t;
	ret = 0;
	goto out;
undo_devices:
	dmstack_close(name, err, sizeof(err));
undo:
	lazy_undo(&z);
out:
	dmstack_free(&s);
	json_object_put(man);
	free(body);
	reg_close(&c);
	oci_layout_close(&lay);
	return ret;
}

/* Stop NAME's supervisor, waiting up to 5 s; z receives what it handed over meanwhile. */
static void lazy_stop_supervisor(struct lazy *z, const char *name)
{
	unsigned int i;

	if (z->supervisor > 0 && !kill(z->supervisor, SIGTERM)) {
		for (i = 0; i < 100 && !kill(z->supervisor, 0); i++)
			nap_ms(50);
		lazy_load(z, name);
	}
}

int lazy_close(const char *name, char *why, size_t len)
{
	struct lazy z;
	char path[256];
	bool lazy = lazy_load(&z, name);
	int r;

	if (lazy)	/* first: no handover during the teardown */
		lazy_stop_supervisor(&z, name);
	r = dmstack_close(name, why, len);
	if (r < 0)
		return r;
	if (lazy) {	/* now nothing holds the nbd devices */
		lazy_undo(&z);
		r = 0;
	}
	/* the supervisor's log stays after the handover, until close */
	state_path(path, sizeof(path), name, "log");
	if (!unlink(path) && r > 0)
		r = 0;
	return r;
}

struct json_object *lazy_status(const char *name)
{
	struct json_object *o, *arr;
	struct lazy z;
	unsigned int i;

	if (!lazy_load(&z, name))
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "supervisor", json_object_new_int(z.supervisor));
	json_object_object_add(o, "supervisor_running",
			       json_object_new_boolean(z.supervisor > 0 && !kill(z.supervisor, 0)));
	for (i = 0; i < z.nlayers; i++) {
		struct json_object *l = json_object_new_object();
		const char *st = state_word(z.l[i].state);
		struct lazy_layer *t = tree_of(&z, i);
		char partial[4400];
		struct stat sb;

		snprintf(partial, sizeof(partial), "%s/blobs/sha256/%s.partial", z.store, z.l[i].digest + 7);
		if (z.l[i].state == L_REMOTE && !stat(partial, &sb) && z.l[i].size) {
			st = "downloading";
			json_object_object_add(l, "percent", json_object_new_int(
				(int)((u64)sb.st_size * 100 / z.l[i].size)));
		}
		json_object_object_add(l, "layer", json_object_new_int((int)i));
		json_object_object_add(l, "digest", json_object_new_string(z.l[i].digest));
		json_object_object_add(l, "state", json_object_new_string(st));
		if (z.l[i].nbd[0])
			json_object_object_add(l, "nbd", json_object_new_string(z.l[i].nbd));
		if (z.l[i].why[0])
			json_object_object_add(l, "note", json_object_new_string(z.l[i].why));
		if (t && t->nbd[0])	/* its dm-verity tree, read from the registry too */
			json_object_object_add(l, "tree_nbd", json_object_new_string(t->nbd));
		json_object_array_add(arr, l);
	}
	json_object_object_add(o, "layers", arr);
	return o;
}
