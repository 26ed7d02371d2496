// SPDX-License-Identifier: GPL-2.0-only
/*
 * blkprobe: in-guest checks of a block device, built static.
 *   blkprobe errors DEV BS [scatter]  print the byte ranges whose O_DIRECT reads fail
 *   blkprobe stress DEV REF N SEC N readers at random 4 KiB offsets for SEC seconds,
 *                                 every block compared with the file REF
 *   blkprobe cmp DEV REF BS [scatter]  O_DIRECT reads of BS bytes over the whole
 *                                 device, each compared with the same bytes of REF
 * scatter: the odd BS pieces first, then the even ones, so that no read
 * starts where the one before ended (zfile takes each as a random read)
 *   blkprobe read DEV SEC         O_DIRECT 4 KiB reads at random offsets for SEC seconds
 *   blkprobe now                  monotonic time in seconds, with nanoseconds
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static unsigned long long dev_size(int fd)
{
	unsigned long long s = 0;

	if (ioctl(fd, BLKGETSIZE64, &s))
		s = (unsigned long long)lseek(fd, 0, SEEK_END);
	return s;
}

/* The k-th of n pieces to read: in order, or scattered (odd pieces, then even). */
static unsigned long long piece(unsigned long long k, unsigned long long n, int scatter)
{
	if (!scatter)
		return k;
	return k < n / 2 ? 2 * k + 1 : 2 * (k - n / 2);
}

static int errors(const char *dev, unsigned int bs, int scatter)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);
	unsigned long long size, off, k, n, bad_start = 0, nbad = 0;
	int in_bad = 0;
	char *bad;
	void *buf;

	if (!bs || fd < 0 || posix_memalign(&buf, 4096, bs)) {
		perror(dev);
		return 2;
	}
	size = dev_size(fd);
	n = (size + bs - 1) / bs;
	bad = calloc(n + 1, 1);
	if (!bad)
		return 2;
	for (k = 0; k < n; k++) {
		unsigned long long i = piece(k, n, scatter);
		size_t len;

		off = i * bs;
		len = size - off < bs ? size - off : bs;
		bad[i] = pread(fd, buf, len, (off_t)off) != (ssize_t)len;
		if (bad[i] && errno != EIO) {
			printf("error %s at %llu\n", strerror(errno), off);
			return 2;
		}
	}
	for (k = 0, off = 0; k < n; k++, off += bs) {
		if (bad[k] && !in_bad)
			bad_start = off;
		if (!bad[k] && in_bad)
			printf("%llu-%llu\n", bad_start, off);
		in_bad = bad[k];
		nbad += bad[k];
	}
	if (in_bad)
		printf("%llu-%llu\n", bad_start, size);
	return nbad ? 1 : 0;
}

/* Open dev (O_DIRECT) and ref, with two aligned buffers of bs bytes. */
static int open_pair(const char *dev, const char *ref, size_t bs, int *fd, int *rfd,
		     char **a, char **b)
{
	*fd = open(dev, O_RDONLY | O_DIRECT);
	*rfd = open(ref, O_RDONLY);
	return *fd < 0 || *rfd < 0 || posix_memalign((void **)a, 4096, bs) ||
	       posix_memalign((void **)b, 4096, bs);
}

/* The bs bytes at off read the same from fd and rfd; else say where. */
static int same_at(int fd, int rfd, char *a, char *b, size_t bs, off_t off)
{
	if (pread(fd, a, bs, off) != (ssize_t)bs || pread(rfd, b, bs, off) != (ssize_t)bs ||
	    memcmp(a, b, bs)) {
		printf("mismatch or error at %lld (%zu bytes)\n", (long long)off, bs);
		return 0;
	}
	return 1;
}

/* Random 4 KiB O_DIRECT reads of dev until until, each compared with ref's (none if ref is NULL). */
static int reader(const char *dev, const char *ref, unsigned int seed, time_t until)
{
	unsigned long long blocks, n = 0;
	int fd, rfd;
	char *a, *b;

	if (open_pair(dev, ref ? ref : dev, 4096, &fd, &rfd, &a, &b))
		return 2;
	blocks = dev_size(fd) / 4096;
	if (!blocks)
		return 2;
	srandom(seed);
	while (time(NULL) < until) {
		off_t off = (off_t)((unsigned long long)random() % blocks) * 4096;

		if (ref) {
			if (!same_at(fd, rfd, a, b, 4096, off))
				return 1;
		} else if (pread(fd, a, 4096, off) != 4096) {
			printf("read error at %lld\n", (long long)off);
			return 1;
		}
		n++;
	}
	printf("reader %u: %llu blocks %s\n", seed, n, ref ? "verified" : "read");
	return 0;
}

static int compare(const char *dev, const char *ref, size_t bs, int scatter)
{
	unsigned long long size, k;
	int fd, rfd;
	char *a, *b;

	if (!bs || bs % 512 || open_pair(dev, ref, bs, &fd, &rfd, &a, &b))
		return 2;
	size = dev_size(fd) / bs * bs;
	for (k = 0; k < size / bs; k++)
		if (!same_at(fd, rfd, a, b, bs, (off_t)(piece(k, size / bs, scatter) * bs)))
			return 1;
	printf("%llu bytes verified in %zu-byte reads%s\n", size, bs, scatter ? ", scattered" : "");
	return 0;
}

static int stress(const char *dev, const char *ref, int nproc, int secs)
{
	time_t until = time(NULL) + secs;
	int i, status, bad = 0;

	for (i = 0; i < nproc; i++)
		if (fork() == 0)
			_exit(reader(dev, ref, (unsigned int)i + 1, until));
	for (i = 0; i < nproc; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int scatter = argc >= 5 && !strcmp(argv[argc - 1], "scatter");

	if (argc == 4 + (scatter && argc == 5) && !strcmp(argv[1], "errors"))
		return errors(argv[2], (unsigned int)atoi(argv[3]), scatter);
	if (argc == 2 && !strcmp(argv[1], "now")) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "stress"))
		return stress(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	if (argc == 5 + (scatter && argc == 6) && !strcmp(argv[1], "cmp"))
		return compare(argv[2], argv[3], (size_t)atol(argv[4]), scatter);
	if (argc == 4 && !strcmp(argv[1], "read"))
		return reader(argv[2], NULL, 1, time(NULL) + atoi(argv[3]));
	fprintf(stderr, "usage: blkprobe errors DEV BS [scatter] | stress DEV REF N SECONDS | cmp DEV REF BS [scatter] | read DEV SECONDS | now\n");
	return 2;
}
