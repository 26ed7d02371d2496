/* A random 4 KiB reader for the bench's UML runs (bench/uml.sh, bench/uml-ab.sh):
 * N O_DIRECT preads at random aligned offsets of DEV, the same sequence every run.
 * Usage: randread DEV N */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int fd, i, n;
	off_t size;
	void *buf;

	if (argc != 3)
		return 2;
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	n = atoi(argv[2]);
	size = fd < 0 ? 0 : lseek(fd, 0, SEEK_END);
	if (size < 4096 || posix_memalign(&buf, 4096, 4096))
		return 1;
	srandom(1);
	for (i = 0; i < n; i++)
		if (pread(fd, buf, 4096, (random() % (size / 4096)) * 4096) != 4096)
			return 1;
	return 0;
}
