// SPDX-License-Identifier: GPL-2.0
/*
 * SHA-256 with the x86 SHA extensions, for the bench's User-Mode Linux
 * kernel only (bench/uml.sh): the verified rows of issue 37.
 *
 * A native x86-64 kernel (Debian's) hashes dm-verity's blocks with
 * sha256-ni (sha256-ssse3's SHA-NI variant) on a CPU that has SHA-NI;
 * arch/x86/crypto is not built for ARCH=um, so in UML dm-verity would use
 * sha256-generic, several times slower, and the verified/unverified ratio
 * would measure UML's hash, not dm-verity. This shash registers "sha256"
 * above sha256-generic; dm-verity, loaded after it, binds to it.
 *
 * The compression function (sha256-ni-block.h) uses xmm registers. UML's
 * kernel is one host process, not preempted in kernel code (PREEMPT_NONE),
 * and its interrupts are host signals, whose delivery saves and restores
 * the whole FPU state: no kernel_fpu_begin() is owed (and UML has none).
 * At load it checks itself against sha256-generic and refuses to register
 * on any difference, or on a CPU without SHA-NI.
 */
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <crypto/internal/hash.h>
#include <crypto/sha2.h>
#include <crypto/sha256_base.h>
#include <asm/unaligned.h>
#include "sha256-ni-block.h"

static void sha256_uml_ni_block(struct sha256_state *sst, const u8 *src, int blocks)
{
	sha256_ni_blocks(sst->state, src, (unsigned long)blocks);
}

static int sha256_uml_ni_update(struct shash_desc *desc, const u8 *data, unsigned int len)
{
	return sha256_base_do_update(desc, data, len, sha256_uml_ni_block);
}

static int sha256_uml_ni_finup(struct shash_desc *desc, const u8 *data, unsigned int len, u8 *out)
{
	if (len)
		sha256_base_do_update(desc, data, len, sha256_uml_ni_block);
	sha256_base_do_finalize(desc, sha256_uml_ni_block);
	return sha256_base_finish(desc, out);
}

static int sha256_uml_ni_final(struct shash_desc *desc, u8 *out)
{
	return sha256_uml_ni_finup(desc, NULL, 0, out);
}

static struct shash_alg sha256_uml_ni_alg = {
	.digestsize = SHA256_DIGEST_SIZE,
	.init = sha256_base_init,
	.update = sha256_uml_ni_update,
	.final = sha256_uml_ni_final,
	.finup = sha256_uml_ni_finup,
	.descsize = sizeof(struct sha256_state),
	.base = {
		.cra_name = "sha256",
		.cra_driver_name = "sha256-uml-ni",
		.cra_priority = 300,	/* above sha256-generic's 100, as sha256-ni is natively */
		.cra_blocksize = SHA256_BLOCK_SIZE,
		.cra_module = THIS_MODULE,
	},
};

static bool sha256_uml_cpu_has_sha_ni(void)
{
	u32 a = 7, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return b & (1u << 29);		/* CPUID.(EAX=7,ECX=0):EBX.SHA */
}

/* every length 0..1100 and 64 KiB at odd offsets, against sha256-generic */
static int sha256_uml_ni_selftest(void)
{
	struct crypto_shash *gen = crypto_alloc_shash("sha256-generic", 0, 0);
	u8 *buf = kmalloc(65536 + 8, GFP_KERNEL), a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
	unsigned int len;
	int ret = 0;

	if (IS_ERR(gen) || !buf) {
		ret = IS_ERR(gen) ? PTR_ERR(gen) : -ENOMEM;
		goto out;
	}
	get_random_bytes(buf, 65536 + 8);
	/* lengths 0..1100, then 65536, then stop */
	for (len = 0; len <= 65536 && !ret; len = len < 1100 ? len + 1 : len < 65536 ? 65536 : 65537) {
		SHASH_DESC_ON_STACK(d, gen);
		struct sha256_state st;

		d->tfm = gen;
		ret = crypto_shash_digest(d, buf + (len & 7), len, b);
		if (ret)
			break;
		sha256_init(&st);
		if (len / SHA256_BLOCK_SIZE)
			sha256_uml_ni_block(&st, buf + (len & 7), (int)(len / SHA256_BLOCK_SIZE));
		{	/* the tail and the length, as sha256_base_do_finalize() pads */
			u8 tail[2 * SHA256_BLOCK_SIZE] = { 0 };
			unsigned int rest = len % SHA256_BLOCK_SIZE, t = rest + 9 <= 64 ? 64 : 128, i;
			u64 bits = (u64)len << 3;

			memcpy(tail, buf + (len & 7) + len - rest, rest);
			tail[rest] = 0x80;
			for (i = 0; i < 8; i++)
				tail[t - 1 - i] = (u8)(bits >> (8 * i));
			sha256_uml_ni_block(&st, tail, (int)(t / 64));
			for (i = 0; i < 8; i++)
				put_unaligned_be32(st.state[i], a + 4 * i);
		}
		if (memcmp(a, b, sizeof(a)))
			ret = -EIO;
	}
out:
	kfree(buf);
	if (!IS_ERR(gen))
		crypto_free_shash(gen);
	return ret;
}

static int __init sha256_uml_ni_init(void)
{
	int ret;

	if (!sha256_uml_cpu_has_sha_ni()) {
		pr_err("sha256-uml-ni: the host CPU has no SHA extensions\n");
		return -ENODEV;
	}
	ret = sha256_uml_ni_selftest();
	if (ret) {
		pr_err("sha256-uml-ni: differs from sha256-generic (%d); not registered\n", ret);
		return ret;
	}
	return crypto_register_shash(&sha256_uml_ni_alg);
}

static void __exit sha256_uml_ni_exit(void)
{
	crypto_unregister_shash(&sha256_uml_ni_alg);
}

module_init(sha256_uml_ni_init);
module_exit(sha256_uml_ni_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SHA-256 with the SHA extensions for the bench's UML kernel");
