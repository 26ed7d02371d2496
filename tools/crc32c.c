// SPDX-License-Identifier: GPL-2.0-only
/* Userspace CRC32C (Castagnoli), raw: no inversion, like the kernel's crc32c(). */
#include <ovbd/port.h>

static u32 table[8][256];

static void crc32c_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			table[j][i] = (table[j - 1][i] >> 8) ^ table[0][table[j - 1][i] & 0xff];
}

u32 ovbd_crc32c(u32 crc, const void *buf, size_t len)
{
	static int ready;
	const u8 *p = buf;

	if (!ready) {
		crc32c_init();
		ready = 1;
	}
	for (; len >= 8; len -= 8, p += 8) {
		u32 lo = crc ^ ovbd_get_le32(p), hi = ovbd_get_le32(p + 4);

		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}
