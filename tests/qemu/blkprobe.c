// SPDX-License-Identifier: GPL-2.0-only
/*
 * blkprobe: in-guest checks of a block device, built static.
 *   blkprobe errors DEV BS        print the byte ranges whose O_DIRECT reads fail
 *   blkprobe stress DEV REF N SEC N readers at random 4 KiB offsets for SEC seconds,
 *                                 every block compared with the file REF
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

static int errors(const char *dev, unsigned int bs)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);
	unsigned long long size, off, bad_start = 0, nbad = 0;
	int in_bad = 0;
	void *buf;

	if (fd < 0 || posix_memalign(&buf, 4096, bs)) {
		perror(dev);
		return 2;
	}
	size = dev_size(fd);
	for (off = 0; off < size; off += bs) {
		size_t n = size - off < bs ? size - off : bs;
		int bad = pread(fd, buf, n, (off_t)off) != (ssize_t)n;

		if (bad && errno != EIO) {
			printf("error %s at %llu\n", strerror(errno), off);
			return 2;
		}
		if (bad && !in_bad)
			bad_start = off;
		if (!bad && in_bad)
			printf("%llu-%llu\n", bad_start, off);
		in_bad = bad;
		nbad += bad;
	}
	if (in_bad)
		printf("%llu-%llu\n", bad_start, size);
	return nbad ? 1 : 0;
}

static int reader(const char *dev, const char *ref, unsigned int seed, time_t until)
{
	int fd = open(dev, O_RDONLY | O_DIRECT), rfd = open(ref, O_RDONLY);
	unsigned long long blocks, n = 0;
	char *a, *b;

	if (fd < 0 || rfd < 0 || posix_memalign((void **)&a, 4096, 4096) ||
	    posix_memalign((void **)&b, 4096, 4096))
		return 2;
	blocks = dev_size(fd) / 4096;
	srandom(seed);
	while (time(NULL) < until) {
		off_t off = (off_t)((unsigned long long)random() % blocks) * 4096;

		if (pread(fd, a, 4096, off) != 4096 || pread(rfd, b, 4096, off) != 4096 ||
		    memcmp(a, b, 4096)) {
			printf("mismatch or error at %lld\n", (long long)off);
			return 1;
		}
		n++;
	}
	printf("reader %u: %llu blocks verified\n", seed, n);
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
	if (argc == 4 && !strcmp(argv[1], "errors"))
		return errors(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "now")) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "stress"))
		return stress(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: blkprobe errors DEV BS | stress DEV REF N SECONDS | now\n");
	return 2;
}
