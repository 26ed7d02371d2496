// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace side of include/ovbd/port.h.
 *
 * CRC32C (Castagnoli), raw: no pre- or post-inversion, like the kernel's
 * crc32c(). On x86-64 with SSE4.2 it uses the crc32 instruction, chosen
 * once at run time; elsewhere a slice-by-8 table. Both give the same
 * results (tests/unit checks them against each other and known vectors).
 */
#include <ovbd/port.h>
#include <stdlib.h>

bool (*ovbd_stop_hook)(void);

static u32 table[8][256];

static void table_init(void)
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

u32 ovbd_crc32c_portable(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

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

#if defined(__x86_64__)
#include <nmmintrin.h>

/*
 * Three independent streams hide the instruction's 3-cycle latency; they
 * are joined by appending LANE zero bytes to a CRC (shift_crc), a linear
 * map in GF(2) kept as tables.
 */
#define LANE	4096u

/* append_zeros(crc, LANE) as four tables, one per byte of crc. */
static u32 shift_tab[4][256];

static u32 gf2_times(const u32 *mat, u32 vec)
{
	u32 sum = 0;

	for (; vec; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void gf2_square(u32 *dst, const u32 *mat)
{
	int n;

	for (n = 0; n < 32; n++)
		dst[n] = gf2_times(mat, mat[n]);
}

/* The raw CRC32C of (data || n zero bytes), from that of data. */
static u32 append_zeros(u32 crc, size_t n)
{
	u32 odd[32], even[32];
	int i;

	odd[0] = 0x82F63B78u;		/* the operator for one zero bit */
	for (i = 1; i < 32; i++)
		odd[i] = 1u << (i - 1);
	gf2_square(even, odd);		/* two bits */
	gf2_square(odd, even);		/* four bits */
	while (n) {
		gf2_square(even, odd);	/* 8, 32, 128, ... bits */
		if (n & 1)
			crc = gf2_times(even, crc);
		n >>= 1;
		if (!n)
			break;
		gf2_square(odd, even);	/* 16, 64, ... bits */
		if (n & 1)
			crc = gf2_times(odd, crc);
		n >>= 1;
	}
	return crc;
}

static void shift_init(void)
{
	u32 op[32];
	int b, v;

	for (b = 0; b < 32; b++)
		op[b] = append_zeros(1u << b, LANE);
	for (b = 0; b < 4; b++)
		for (v = 0; v < 256; v++)
			shift_tab[b][v] = gf2_times(op, (u32)v << (8 * b));
}

static u32 shift_crc(u32 crc)
{
	return shift_tab[0][crc & 0xff] ^ shift_tab[1][(crc >> 8) & 0xff] ^
	       shift_tab[2][(crc >> 16) & 0xff] ^ shift_tab[3][crc >> 24];
}

__attribute__((target("sse4.2")))
static u32 crc32c_sse42(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 c0 = crc;

	while (len >= 3 * LANE) {
		u64 c1 = 0, c2 = 0;
		const u8 *end = p + LANE;

		for (; p < end; p += 8) {
			u64 a, b, c;

			memcpy(&a, p, 8);
			memcpy(&b, p + LANE, 8);
			memcpy(&c, p + 2 * LANE, 8);
			c0 = _mm_crc32_u64(c0, a);
			c1 = _mm_crc32_u64(c1, b);
			c2 = _mm_crc32_u64(c2, c);
		}
		c0 = shift_crc((u32)c0) ^ c1;
		c0 = shift_crc((u32)c0) ^ c2;
		p += 2 * LANE;
		len -= 3 * LANE;
	}
	for (; len >= 8; len -= 8, p += 8) {
		u64 a;

		memcpy(&a, p, 8);
		c0 = _mm_crc32_u64(c0, a);
	}
	while (len--)
		c0 = _mm_crc32_u8((u32)c0, *p++);
	return (u32)c0;
}
#endif

static u32 (*crc_impl)(u32, const void *, size_t);
static const char *crc_name;

/* Chosen before main(), so that threads never race to choose. */
__attribute__((constructor))
static void crc_select(void)
{
	table_init();
	crc_impl = ovbd_crc32c_portable;
	crc_name = "slice-by-8 table";
#if defined(__x86_64__)
	if (!getenv("OVBD_CRC32C_PORTABLE") && __builtin_cpu_supports("sse4.2")) {
		shift_init();
		crc_impl = crc32c_sse42;
		crc_name = "sse4.2 crc32, 3 streams";
	}
#endif
}

u32 ovbd_crc32c(u32 crc, const void *buf, size_t len)
{
	return crc_impl(crc, buf, len);
}

const char *ovbd_crc32c_impl(void)
{
	return crc_name;
}
