// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: messages, exit codes and whole-buffer file I/O. */
#include "util.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

const char *ovbd_prog = "ovbd";
const char *ovbd_result_file;

void die(int code, const char *fmt, ...)
{
	/* one message and one exit, whichever thread fails first; never released */
	static pthread_mutex_t dying = PTHREAD_MUTEX_INITIALIZER;
	va_list ap;

	pthread_mutex_lock(&dying);
	fprintf(stderr, "%s: ", ovbd_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ovbd_result_file) {
		FILE *f = fopen(ovbd_result_file, "w");

		if (f) {
			va_start(ap, fmt);
			vfprintf(f, fmt, ap);
			va_end(ap);
			fclose(f);
		}
	}
	exit(code);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(EXIT_BAD_INPUT, "out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die(EXIT_BAD_INPUT, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		die(EXIT_BAD_INPUT, "out of memory (%zu bytes)", n);
	return p;
}

int pread_all(int fd, void *buf, size_t len, u64 off, const char *file, char *why, size_t wlen)
{
	u8 *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return failf(why, wlen, "%s: read at %llu: %s", file,
				     (unsigned long long)off, strerror(errno));
		if (r == 0)
			return failf(why, wlen, "%s: truncated: no data at byte %llu", file,
				     (unsigned long long)off);
		p += r;
		off += (u64)r;
		len -= (size_t)r;
	}
	return 0;
}

void write_full(int fd, const void *buf, size_t len, const char *file)
{
	const u8 *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_BAD_INPUT, "%s: write: %s", file, strerror(errno));
		}
		p += r;
		len -= (size_t)r;
	}
}

void pwrite_full(int fd, const void *buf, size_t len, u64 off, const char *file)
{
	const u8 *p = buf;

	while (len) {
		ssize_t r = pwrite(fd, p, len, (off_t)off);

		if (r < 0)
			die(EXIT_BAD_INPUT, "%s: write at %llu: %s", file,
			    (unsigned long long)off, strerror(errno));
		p += r;
		off += (u64)r;
		len -= (size_t)r;
	}
}

bool parse_size(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

int failf(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int step_no;

static int step_env(const char *var)
{
	const char *v = getenv(var);

	return v && *v ? atoi(v) : 0;
}

int ovbd_step(const char *what, const char *obj, char *why, size_t len)
{
	int k = ++step_no;

	if (k == step_env("OVBD_TEST_FAIL_AT"))
		return failf(why, len, "step %d (%s %s): injected failure (OVBD_TEST_FAIL_AT)", k, what,
			     obj ? obj : "");
	return 0;
}

void ovbd_step_done(void)
{
	if (step_no == step_env("OVBD_TEST_KILL_AT"))
		raise(SIGKILL);
}

void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}
