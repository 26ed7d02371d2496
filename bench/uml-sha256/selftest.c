// SPDX-License-Identifier: GPL-2.0
/*
 * The SHA-NI compression of sha256-ni-block.h against OpenSSL's SHA-256 in
 * userspace, on random messages of every length 0..1000 and some large
 * ones; exit 0 when all agree (bench/uml.sh runs it before it builds the
 * module, and skips the verified rows with the reason when it fails or the
 * CPU has no SHA extensions). Usage: selftest
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sha256-ni-block.h"

static void sha256_ni(const unsigned char *p, size_t n, unsigned char out[32])
{
	unsigned int s[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	unsigned char tail[128] = { 0 };
	unsigned long long bits = (unsigned long long)n * 8;
	size_t whole = n / 64, rest = n % 64, t = rest + 9 <= 64 ? 64 : 128, i;

	sha256_ni_blocks(s, p, whole);
	memcpy(tail, p + whole * 64, rest);
	tail[rest] = 0x80;
	for (i = 0; i < 8; i++)
		tail[t - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_ni_blocks(s, tail, t / 64);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s[i] >> 8);
		out[4 * i + 3] = (unsigned char)s[i];
	}
}

int main(void)
{
	static unsigned char buf[1 << 20];
	unsigned char a[32], b[32];
	unsigned int len, bad = 0;
	size_t i;

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.1")) {
		fprintf(stderr, "selftest: no SSE4.1\n");
		return 2;
	}
	srand(1);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	for (len = 0; len <= sizeof(buf); len = len < 1000 ? len + 1 : len * 3 + 7) {
		EVP_Digest(buf, len, b, NULL, EVP_sha256(), NULL);
		sha256_ni(buf, len, a);
		if (memcmp(a, b, 32) && bad++ < 5)
			fprintf(stderr, "selftest: length %u differs\n", len);
	}
	printf("selftest: %s\n", bad ? "FAILED" : "sha256 with SHA-NI equals OpenSSL's");
	return bad ? 1 : 0;
}
