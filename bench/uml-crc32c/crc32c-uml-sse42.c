// SPDX-License-Identifier: GPL-2.0
/*
 * CRC32C with the SSE4.2 crc32 instruction, for the bench's User-Mode Linux
 * kernel only (bench/uml.sh).
 *
 * A native x86-64 kernel (Debian's) computes crc32c() with crc32c-intel;
 * arch/x86/crypto is not built for ARCH=um, so in UML crc32c() would be the
 * generic slice-by-8 table, about a third of a ZFile read's time, and the
 * native column would measure UML's CRC instead of the module. This shash
 * registers "crc32c" above crc32c-generic; libcrc32c, built as a module in
 * the bench's UML kernel and loaded after this one, binds to it. The crc32
 * instruction uses general registers only, so no FPU state is saved, as in
 * crc32c-intel's path for short buffers. From 3 x STRIDE bytes on, three
 * streams of crc32q run interleaved, as crc32c-intel's crc_pcl does for
 * buffers of 512 bytes and more (it joins them with pclmulqdq, this with
 * two tables of the shift operators; crc32q has a latency of 3 cycles and
 * a throughput of 1, so one stream runs at a third of the unit's speed).
 *
 * At load it checks itself against the kernel's generic __crc32c_le() and
 * refuses to register on any difference or on a CPU without SSE4.2.
 */
#include <linux/module.h>
#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <crypto/internal/hash.h>
#include <asm/unaligned.h>

#define STRIDE	128	/* bytes of each of the three streams per round */

/*
 * shift[k][j][b]: the CRC register b << 8j advanced over (k + 1) * STRIDE
 * zero bytes. Advancing over zeros is linear in the register, so four
 * lookups advance any register: how the three streams' CRCs are joined.
 */
static u32 shift[2][4][256];

static u32 sse42_crc32c_one(u32 crc, const u8 *p, unsigned int len)
{
	u64 c;

	while (len && ((unsigned long)p & 7)) {
		asm("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
		p++;
		len--;
	}
	c = crc;
	for (; len >= 8; len -= 8, p += 8)
		asm("crc32q %1, %0" : "+r"(c) : "rm"(*(const u64 *)p));
	crc = (u32)c;
	for (; len; len--, p++)
		asm("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
	return crc;
}

static u32 advance(unsigned int k, u32 c)
{
	return shift[k][0][c & 0xff] ^ shift[k][1][(c >> 8) & 0xff] ^
	       shift[k][2][(c >> 16) & 0xff] ^ shift[k][3][c >> 24];
}

static u32 sse42_crc32c(u32 crc, const u8 *p, unsigned int len)
{
	while (len && ((unsigned long)p & 7)) {
		asm("crc32b %1, %0" : "+r"(crc) : "rm"(*p));
		p++;
		len--;
	}
	for (; len >= 3 * STRIDE; len -= 3 * STRIDE, p += 3 * STRIDE) {
		u64 a = crc, b = 0, c = 0;
		unsigned int i;

		for (i = 0; i < STRIDE; i += 8) {
			asm("crc32q %1, %0" : "+r"(a) : "rm"(*(const u64 *)(p + i)));
			asm("crc32q %1, %0" : "+r"(b) : "rm"(*(const u64 *)(p + STRIDE + i)));
			asm("crc32q %1, %0" : "+r"(c) : "rm"(*(const u64 *)(p + 2 * STRIDE + i)));
		}
		crc = advance(1, (u32)a) ^ advance(0, (u32)b) ^ (u32)c;
	}
	return sse42_crc32c_one(crc, p, len);
}

static void shift_tables(void)
{
	static const u8 zeros[2 * STRIDE];
	unsigned int k, j, b;

	for (k = 0; k < 2; k++)
		for (j = 0; j < 4; j++)
			for (b = 0; b < 256; b++)
				shift[k][j][b] = sse42_crc32c_one(b << (8 * j), zeros,
								  (k + 1) * STRIDE);
}

static bool cpu_has_sse42(void)
{
	u32 a = 1, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 20);
}

/* the key (the seed, ~0 unless set) lives in the tfm; the running CRC in the desc */
static int uml_crc32c_cra_init(struct crypto_tfm *tfm)
{
	*(u32 *)crypto_tfm_ctx(tfm) = ~0u;
	return 0;
}

static int uml_crc32c_setkey(struct crypto_shash *hash, const u8 *key, unsigned int keylen)
{
	if (keylen != sizeof(u32))
		return -EINVAL;
	*(u32 *)crypto_shash_ctx(hash) = get_unaligned_le32(key);
	return 0;
}

static int uml_crc32c_init(struct shash_desc *desc)
{
	*(u32 *)shash_desc_ctx(desc) = *(u32 *)crypto_shash_ctx(desc->tfm);
	return 0;
}

static int uml_crc32c_update(struct shash_desc *desc, const u8 *data, unsigned int len)
{
	u32 *crc = shash_desc_ctx(desc);

	*crc = sse42_crc32c(*crc, data, len);
	return 0;
}

static int uml_crc32c_final(struct shash_desc *desc, u8 *out)
{
	put_unaligned_le32(~*(u32 *)shash_desc_ctx(desc), out);
	return 0;
}

static struct shash_alg uml_crc32c_alg = {
	.digestsize = sizeof(u32),
	.setkey = uml_crc32c_setkey,
	.init = uml_crc32c_init,
	.update = uml_crc32c_update,
	.final = uml_crc32c_final,
	.descsize = sizeof(u32),
	.base = {
		.cra_name = "crc32c",
		.cra_driver_name = "crc32c-uml-sse42",
		.cra_priority = 300,	/* above crc32c-generic's 100 */
		.cra_flags = CRYPTO_ALG_OPTIONAL_KEY,
		.cra_blocksize = 1,
		.cra_ctxsize = sizeof(u32),
		.cra_module = THIS_MODULE,
		.cra_init = uml_crc32c_cra_init,
	},
};

/* every length 0..1300 at every alignment 0..7, and 64 KiB, against the generic table */
static int uml_crc32c_selftest(void)
{
	unsigned int len, a;
	u8 *buf = kmalloc(65536 + 8, GFP_KERNEL);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	get_random_bytes(buf, 65536 + 8);
	for (a = 0; a < 8 && !ret; a++)
		for (len = 0; len <= 1300 && !ret; len++)
			if (sse42_crc32c(0x12345678 + len, buf + a, len) !=
			    __crc32c_le(0x12345678 + len, buf + a, len))
				ret = -EIO;
	if (!ret && sse42_crc32c(~0u, buf + 3, 65536) != __crc32c_le(~0u, buf + 3, 65536))
		ret = -EIO;
	/* the check value of CRC-32C: "123456789" -> 0xe3069283 */
	if (!ret && ~sse42_crc32c(~0u, (const u8 *)"123456789", 9) != 0xe3069283)
		ret = -EIO;
	kfree(buf);
	return ret;
}

static int __init uml_crc32c_mod_init(void)
{
	int ret;

	if (!cpu_has_sse42()) {
		pr_err("crc32c-uml-sse42: the host CPU has no SSE4.2\n");
		return -ENODEV;
	}
	shift_tables();
	ret = uml_crc32c_selftest();
	if (ret) {
		pr_err("crc32c-uml-sse42: differs from __crc32c_le(); not registered\n");
		return ret;
	}
	return crypto_register_shash(&uml_crc32c_alg);
}

static void __exit uml_crc32c_mod_exit(void)
{
	crypto_unregister_shash(&uml_crc32c_alg);
}

module_init(uml_crc32c_mod_init);
module_exit(uml_crc32c_mod_exit);
MODULE_DESCRIPTION("CRC32C with SSE4.2 for the dm-overlaybd bench's UML kernel");
MODULE_LICENSE("GPL");
