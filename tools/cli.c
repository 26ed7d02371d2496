// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: what the commands share, above the library: option values, and
 * how a transfer is shown (stderr: a line per blob, or on a terminal one
 * progress line for the whole pull).
 */
#include "commands.h"
#include "oci.h"
#include "util.h"
#include <ovbd/zfile.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

u8 parse_algo(const char *s)
{
	if (!strcmp(s, "lz4"))
		return OVBD_ZF_ALGO_LZ4;
	if (!strcmp(s, "zstd"))
		return OVBD_ZF_ALGO_ZSTD;
	die(EXIT_USAGE, "--algo: expected lz4 or zstd, got '%s'", s);
}

u32 parse_block_size(const char *s)
{
	u64 v;

	if (!parse_size(s, &v) || v < OVBD_ZF_BLOCK_MIN || v > OVBD_ZF_BLOCK_MAX ||
	    (v & (v - 1)))
		die(EXIT_USAGE, "--block-size: expected a power of two in 4096..65536, got '%s'", s);
	return (u32)v;
}

/* One line on a terminal for the whole pull; a line per blob otherwise. */
static struct {
	pthread_mutex_t lock;
	bool tty;
	u64 done, total;
	struct timespec last;
	const char *what;
} prog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void show_progress(bool final)
{
	fprintf(stderr, "\r%s: pulling %s: %.1f / %.1f MB%s", ovbd_prog, prog.what,
		prog.done / 1e6, prog.total / 1e6, final ? "\n" : "\033[K");
}

static void note_line(void *arg, const char *msg)
{
	if (!prog.tty)
		fprintf(stderr, "%s: %s\n", ovbd_prog, msg);
}

static void note_total(void *arg, uint64_t bytes)
{
	pthread_mutex_lock(&prog.lock);
	prog.total = bytes;
	pthread_mutex_unlock(&prog.lock);
}

static void note_bytes(void *arg, uint64_t bytes)
{
	struct timespec now;

	if (!prog.tty)
		return;
	pthread_mutex_lock(&prog.lock);
	prog.done += bytes;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - prog.last.tv_sec) * 1000000000L + now.tv_nsec - prog.last.tv_nsec > 100000000L) {
		show_progress(false);
		prog.last = now;
	}
	pthread_mutex_unlock(&prog.lock);
}

const struct xfer_notes cli_notes = { note_line, note_total, note_bytes, NULL };

/* Pull refstr into dir, saying what it does; dies on failure. */
void cli_pull(const char *refstr, const char *dir, bool plain, bool any_image, char *oci_ref,
	      size_t len, char *manifest_digest)
{
	struct pull_opts o = { .plain_http = plain, .any_image = any_image, .notes = &cli_notes };
	char why[4200];
	int r;

	prog.tty = isatty(STDERR_FILENO);
	prog.what = refstr;
	prog.done = prog.total = 0;
	r = ovbd_pull(refstr, dir, &o, oci_ref, len, manifest_digest, why, sizeof(why));
	if (prog.tty)
		show_progress(true);
	if (r)
		die(EXIT_OF(r), "%s", why);
}

int cli_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		   unsigned int *np, char *why, size_t len)
{
	int r;

	prog.tty = isatty(STDERR_FILENO);
	prog.what = n ? args[0] : "";
	prog.done = prog.total = 0;
	r = image_layer_args(args, n, &cli_notes, img, paths, np, why, len);
	if (prog.tty && prog.total)
		show_progress(true);
	return r;
}
