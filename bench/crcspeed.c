// SPDX-License-Identifier: GPL-2.0-only
/*
 * crcspeed: CRC32C throughput of ovbd's dispatched implementation and of
 * its portable table, over the same buffer in one run.
 * Prints "BENCH crc32c_GBps <x>" and "BENCH crc32c_table_GBps <y>".
 */
#include <ovbd/port.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double gbps(u32 (*fn)(u32, const void *, size_t), const u8 *buf, size_t len, int reps)
{
	volatile u32 sink = 0;
	double t0 = now();
	int i;

	for (i = 0; i < reps; i++)
		sink ^= fn((u32)i, buf, len);
	(void)sink;
	return (double)len * reps / (now() - t0) / 1e9;
}

int main(void)
{
	size_t len = 64u << 20, i;
	u8 *buf = malloc(len);

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 2654435761u >> 13);
	printf("# crc32c implementation: %s\n", ovbd_crc32c_impl());
	printf("BENCH crc32c_GBps %.2f\n", gbps(ovbd_crc32c, buf, len, 16));
	printf("BENCH crc32c_table_GBps %.2f\n", gbps(ovbd_crc32c_portable, buf, len, 4));
	free(buf);
	return 0;
}
