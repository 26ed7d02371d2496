/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SHA-256 compression function with the x86 SHA extensions (SHA-NI:
 * sha256rnds2, sha256msg1, sha256msg2), written for the bench's UML kernel
 * (bench/uml-sha256) and checked in userspace against OpenSSL by
 * selftest.c. One asm statement per call so that no compiler-generated SSE
 * code is needed: the kernel is built with -mno-sse. Registers: xmm0 is the
 * message-plus-constant operand sha256rnds2 takes implicitly; xmm1/xmm2
 * hold the state as ABEF and CDGH; xmm3-6 the message schedule; xmm7 the
 * byte-swap mask; xmm8/xmm9 the state saved before the block; xmm10 scratch.
 */
#ifndef SHA256_NI_BLOCK_H
#define SHA256_NI_BLOCK_H

static const unsigned int sha256_ni_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* big-endian words of each 16-byte lane: pshufb's mask */
static const unsigned char sha256_ni_bswap[16] __attribute__((aligned(16))) = {
	3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
};

/* Four rounds: xmm0 = schedule word group M + K[k..k+3], then two sha256rnds2. */
#define SHA256_NI_4ROUNDS(M, K)						\
	"movdqa " M ", %%xmm0\n\t"					\
	"paddd " K "(%[k]), %%xmm0\n\t"					\
	"sha256rnds2 %%xmm1, %%xmm2\n\t"				\
	"pshufd $0x0e, %%xmm0, %%xmm0\n\t"				\
	"sha256rnds2 %%xmm2, %%xmm1\n\t"

/* Schedule: next = msg2(prev3 + palignr(cur, prev, 4), cur) style, as the SDM gives it. */
#define SHA256_NI_SCHED(A, B, C, D)	/* A += (D:C >> 32); A = msg2(A, D); C = msg1(C, D) */ \
	"movdqa " D ", %%xmm10\n\t"					\
	"palignr $4, " C ", %%xmm10\n\t"				\
	"paddd %%xmm10, " A "\n\t"					\
	"sha256msg2 " D ", " A "\n\t"					\
	"sha256msg1 " D ", " C "\n\t"

/*
 * state[8] (a..h, host order), blocks of 64 bytes each. Callers save the
 * FPU state first where that is owed (UML: see sha256-uml-ni.c).
 */
static inline void sha256_ni_blocks(unsigned int state[8], const unsigned char *data,
				    unsigned long blocks)
{
	if (!blocks)
		return;
	asm volatile(
		/* load a..d, e..h and turn them into ABEF, CDGH */
		"movdqu (%[s]), %%xmm10\n\t"		/* lanes a b c d */
		"movdqu 16(%[s]), %%xmm2\n\t"		/* lanes e f g h */
		"pshufd $0xb1, %%xmm10, %%xmm10\n\t"	/* b a d c */
		"pshufd $0x1b, %%xmm2, %%xmm2\n\t"	/* h g f e */
		"movdqa %%xmm10, %%xmm1\n\t"
		"palignr $8, %%xmm2, %%xmm1\n\t"	/* ABEF: f e b a */
		"pblendw $0xf0, %%xmm10, %%xmm2\n\t"	/* CDGH: h g d c */
		"movdqa (%[m]), %%xmm7\n\t"
		"1:\n\t"
		"movdqa %%xmm1, %%xmm8\n\t"
		"movdqa %%xmm2, %%xmm9\n\t"
		"movdqu 0(%[d]), %%xmm3\n\t"
		"pshufb %%xmm7, %%xmm3\n\t"
		SHA256_NI_4ROUNDS("%%xmm3", "0")
		"movdqu 16(%[d]), %%xmm4\n\t"
		"pshufb %%xmm7, %%xmm4\n\t"
		SHA256_NI_4ROUNDS("%%xmm4", "16")
		"sha256msg1 %%xmm4, %%xmm3\n\t"
		"movdqu 32(%[d]), %%xmm5\n\t"
		"pshufb %%xmm7, %%xmm5\n\t"
		SHA256_NI_4ROUNDS("%%xmm5", "32")
		"sha256msg1 %%xmm5, %%xmm4\n\t"
		"movdqu 48(%[d]), %%xmm6\n\t"
		"pshufb %%xmm7, %%xmm6\n\t"
		SHA256_NI_4ROUNDS("%%xmm6", "48")
		/* rounds 16..63: each group from the four before it */
		SHA256_NI_SCHED("%%xmm3", "%%xmm4", "%%xmm5", "%%xmm6")
		SHA256_NI_4ROUNDS("%%xmm3", "64")
		SHA256_NI_SCHED("%%xmm4", "%%xmm5", "%%xmm6", "%%xmm3")
		SHA256_NI_4ROUNDS("%%xmm4", "80")
		SHA256_NI_SCHED("%%xmm5", "%%xmm6", "%%xmm3", "%%xmm4")
		SHA256_NI_4ROUNDS("%%xmm5", "96")
		SHA256_NI_SCHED("%%xmm6", "%%xmm3", "%%xmm4", "%%xmm5")
		SHA256_NI_4ROUNDS("%%xmm6", "112")
		SHA256_NI_SCHED("%%xmm3", "%%xmm4", "%%xmm5", "%%xmm6")
		SHA256_NI_4ROUNDS("%%xmm3", "128")
		SHA256_NI_SCHED("%%xmm4", "%%xmm5", "%%xmm6", "%%xmm3")
		SHA256_NI_4ROUNDS("%%xmm4", "144")
		SHA256_NI_SCHED("%%xmm5", "%%xmm6", "%%xmm3", "%%xmm4")
		SHA256_NI_4ROUNDS("%%xmm5", "160")
		SHA256_NI_SCHED("%%xmm6", "%%xmm3", "%%xmm4", "%%xmm5")
		SHA256_NI_4ROUNDS("%%xmm6", "176")
		SHA256_NI_SCHED("%%xmm3", "%%xmm4", "%%xmm5", "%%xmm6")
		SHA256_NI_4ROUNDS("%%xmm3", "192")
		SHA256_NI_SCHED("%%xmm4", "%%xmm5", "%%xmm6", "%%xmm3")
		SHA256_NI_4ROUNDS("%%xmm4", "208")
		SHA256_NI_SCHED("%%xmm5", "%%xmm6", "%%xmm3", "%%xmm4")
		SHA256_NI_4ROUNDS("%%xmm5", "224")
		SHA256_NI_SCHED("%%xmm6", "%%xmm3", "%%xmm4", "%%xmm5")
		SHA256_NI_4ROUNDS("%%xmm6", "240")
		"paddd %%xmm8, %%xmm1\n\t"
		"paddd %%xmm9, %%xmm2\n\t"
		"add $64, %[d]\n\t"
		"dec %[n]\n\t"
		"jnz 1b\n\t"
		/* ABEF, CDGH back to a..d, e..h */
		"pshufd $0x1b, %%xmm1, %%xmm10\n\t"	/* a b e f -> lanes ... */
		"pshufd $0xb1, %%xmm2, %%xmm2\n\t"
		"movdqa %%xmm10, %%xmm1\n\t"
		"pblendw $0xf0, %%xmm2, %%xmm1\n\t"	/* a b c d */
		"palignr $8, %%xmm10, %%xmm2\n\t"	/* e f g h */
		"movdqu %%xmm1, (%[s])\n\t"
		"movdqu %%xmm2, 16(%[s])\n\t"
		: [d] "+r"(data), [n] "+r"(blocks)
		: [s] "r"(state), [k] "r"(sha256_ni_k), [m] "r"(sha256_ni_bswap)
		: "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10");
}

#endif /* SHA256_NI_BLOCK_H */
