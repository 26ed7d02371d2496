// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: dm-verity hash trees of layer blobs (verity.h). */
#include "verity.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERITY_PER_BLOCK_BITS	7	/* 4096 / 32 digests a hash block */
#define VERITY_SB_SIZE		512

/* veritysetup's superblock (cryptsetup's "verity_sb"), little-endian. */
struct verity_sb {
	u8 signature[8];		/* "verity\0\0" */
	u32 version;			/* 1 */
	u32 hash_type;			/* 1: digest = H(salt || block) */
	u8 uuid[16];
	u8 algorithm[32];		/* "sha256", NUL-padded */
	u32 data_block_size;
	u32 hash_block_size;
	u64 data_blocks;
	u16 salt_size;
	u8 pad1[6];
	u8 salt[256];
	u8 pad2[168];
} __attribute__((packed));
_Static_assert(sizeof(struct verity_sb) == VERITY_SB_SIZE, "the verity superblock is 512 bytes");

u32 verity_data_block_size(u64 size, u64 payload_off, bool zfile)
{
	if (size && !(size % 4096) && (zfile || !(payload_off % 4096)))
		return 4096;
	if (size && !(size % 512))
		return 512;
	return 0;
}

void verity_hex(const u8 *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

bool verity_unhex(const char *hex, u8 *b, size_t n)
{
	size_t i;

	if (!hex || strlen(hex) != 2 * n || strspn(hex, "0123456789abcdef") != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		b[i] = (u8)v;
	}
	return true;
}

int verity_salt(u8 *salt, char *why, size_t len)
{
	if (getrandom(salt, VERITY_SALT, 0) != VERITY_SALT)
		return failf(why, len, "getrandom: %s", strerror(errno));
	return 0;
}

/* digest = sha256(salt || block[0..n)): from a copy of the context that took the salt */
static int verity_digest(struct verity_builder *vb, const u8 *block, size_t n, u8 *out)
{
	unsigned int dl;

	return EVP_MD_CTX_copy_ex(vb->ctx, vb->salted) &&
	       EVP_DigestUpdate(vb->ctx, block, n) &&
	       EVP_DigestFinal_ex(vb->ctx, out, &dl) ? 0 : -1;
}

static int verity_pwrite(struct verity_builder *vb, const void *buf, size_t n, u64 off, char *why,
			 size_t len)
{
	const u8 *p = buf;

	while (n) {
		ssize_t r = pwrite(vb->fd, p, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return failf(why, len, "%s: write at %llu: %s", vb->path, (unsigned long long)off,
				     r < 0 ? strerror(errno) : "no progress");
		p += r;
		off += (u64)r;
		n -= (size_t)r;
	}
	return 0;
}

int verity_begin(struct verity_builder *vb, u64 size, u32 dbs, const u8 *salt, u32 salt_size,
		 int fd, const char *path, char *why, size_t len)
{
	u64 off, blocks;
	int i;

	memset(vb, 0, sizeof(*vb));
	vb->fd = fd;
	vb->path = path;
	vb->p.data_block_size = dbs;
	if ((dbs != 4096 && dbs != 512) || !size || size % dbs)
		return failf(why, len, "%s: a blob of %llu bytes in %u-byte data blocks: dm-verity needs a whole number of them (512 bytes: a tar-wrapped blob is a multiple)",
			     path, (unsigned long long)size, dbs);
	if (salt_size > VERITY_SALT)
		return failf(why, len, "a salt of %u bytes: at most %d", salt_size, VERITY_SALT);
	memcpy(vb->p.salt, salt, salt_size);
	vb->p.salt_size = salt_size;
	vb->p.data_blocks = size / vb->p.data_block_size;
	/* as dm-verity counts them: the fewest levels whose top is one block */
	while (VERITY_PER_BLOCK_BITS * vb->levels < 64 &&
	       (vb->p.data_blocks - 1) >> (VERITY_PER_BLOCK_BITS * vb->levels))
		vb->levels++;
	if (vb->levels > VERITY_MAX_LEVELS)
		return failf(why, len, "%s: too many data blocks for a tree", path);
	/* the superblock's hash block, then the levels from the top down */
	off = VERITY_HASH_BLOCK;
	vb->p.hash_offset = off;
	for (i = (int)vb->levels - 1; i >= 0; i--) {
		unsigned int shift = VERITY_PER_BLOCK_BITS * (unsigned int)(i + 1);

		blocks = shift >= 64 ? 1 : (vb->p.data_blocks + (1ull << shift) - 1) >> shift;
		vb->level_off[i] = off;
		vb->level_blocks[i] = blocks;
		off += blocks * VERITY_HASH_BLOCK;
	}
	vb->p.tree_size = off;
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)off))
		return failf(why, len, "%s: %s", path, strerror(errno));
	vb->ctx = EVP_MD_CTX_new();
	vb->salted = EVP_MD_CTX_new();
	vb->dblock = malloc(vb->p.data_block_size);
	if (!vb->ctx || !vb->salted || !vb->dblock ||
	    !EVP_DigestInit_ex(vb->salted, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(vb->salted, vb->p.salt, vb->p.salt_size)) {
		verity_abort(vb);
		return failf(why, len, "out of memory");
	}
	return 0;
}

void verity_abort(struct verity_builder *vb)
{
	EVP_MD_CTX_free(vb->ctx);
	EVP_MD_CTX_free(vb->salted);
	free(vb->dblock);
	vb->ctx = NULL;
	vb->salted = NULL;
	vb->dblock = NULL;
}

/* The current level-0 hash block is full (or the last): to the file. */
static int verity_flush_hblock(struct verity_builder *vb, char *why, size_t len)
{
	u64 idx = (vb->blk - 1) >> VERITY_PER_BLOCK_BITS;
	int r;

	memset(vb->hblock + vb->hfill, 0, VERITY_HASH_BLOCK - vb->hfill);
	r = verity_pwrite(vb, vb->hblock, VERITY_HASH_BLOCK,
			  vb->level_off[0] + idx * VERITY_HASH_BLOCK, why, len);
	vb->hfill = 0;
	return r;
}

/* One whole data block: its digest into level 0 (or, with no level, the root). */
static int verity_take_block(struct verity_builder *vb, const u8 *block, char *why, size_t len)
{
	if (verity_digest(vb, block, vb->p.data_block_size, vb->hblock + vb->hfill))
		return failf(why, len, "sha256 failed");
	vb->hfill += VERITY_DIGEST;
	vb->blk++;
	if (vb->levels && (vb->hfill == VERITY_HASH_BLOCK || vb->blk == vb->p.data_blocks))
		return verity_flush_hblock(vb, why, len);
	return 0;
}

int verity_update(struct verity_builder *vb, const void *buf, size_t len, char *why, size_t wlen)
{
	const u8 *p = buf;
	u32 dbs = vb->p.data_block_size;

	if (len > vb->p.data_blocks * dbs - vb->fed)
		return failf(why, wlen, "%s: more data than the %llu bytes expected", vb->path,
			     (unsigned long long)(vb->p.data_blocks * dbs));
	vb->fed += len;
	while (len) {
		size_t n;

		if (!vb->part && len >= dbs) {		/* whole blocks straight from buf */
			if (verity_take_block(vb, p, why, wlen))
				return -1;
			p += dbs;
			len -= dbs;
			continue;
		}
		n = dbs - vb->part < len ? dbs - vb->part : len;
		memcpy(vb->dblock + vb->part, p, n);
		vb->part += (u32)n;
		p += n;
		len -= n;
		if (vb->part == dbs) {
			vb->part = 0;
			if (verity_take_block(vb, vb->dblock, why, wlen))
				return -1;
		}
	}
	return 0;
}

int verity_finish(struct verity_builder *vb, u8 root[VERITY_DIGEST], char *why, size_t len)
{
	struct verity_sb sb = { .version = 1, .hash_type = 1 };
	u8 in[VERITY_HASH_BLOCK], out[VERITY_HASH_BLOCK];
	unsigned int i;
	int ret = -1;

	if (vb->blk != vb->p.data_blocks) {
		failf(why, len, "%s: %llu of %llu data bytes hashed", vb->path, (unsigned long long)vb->fed,
		      (unsigned long long)(vb->p.data_blocks * vb->p.data_block_size));
		goto out;
	}
	if (!vb->levels) {		/* one data block: its digest is the root */
		memcpy(root, vb->hblock, VERITY_DIGEST);
	} else {
		/* level i + 1 from level i, block by block; the root from the top block */
		for (i = 0; i < vb->levels; i++) {
			u64 b, fill = 0, k = 0;

			for (b = 0; b < vb->level_blocks[i]; b++) {
				if (pread_all(vb->fd, in, VERITY_HASH_BLOCK,
					      vb->level_off[i] + b * VERITY_HASH_BLOCK, vb->path, why, len))
					goto out;
				if (verity_digest(vb, in, VERITY_HASH_BLOCK,
						  i + 1 < vb->levels ? out + fill : root)) {
					failf(why, len, "sha256 failed");
					goto out;
				}
				if (i + 1 == vb->levels)
					break;		/* the top level is one block */
				fill += VERITY_DIGEST;
				if (fill == VERITY_HASH_BLOCK || b + 1 == vb->level_blocks[i]) {
					memset(out + fill, 0, VERITY_HASH_BLOCK - fill);
					if (verity_pwrite(vb, out, VERITY_HASH_BLOCK,
							  vb->level_off[i + 1] + k++ * VERITY_HASH_BLOCK, why, len))
						goto out;
					fill = 0;
				}
			}
		}
	}
	memcpy(sb.signature, "verity\0\0", 8);
	memcpy(sb.algorithm, "sha256", 6);
	sb.data_block_size = vb->p.data_block_size;
	sb.hash_block_size = VERITY_HASH_BLOCK;
	sb.data_blocks = vb->p.data_blocks;
	sb.salt_size = (u16)vb->p.salt_size;
	memcpy(sb.salt, vb->p.salt, vb->p.salt_size);
	/* a uuid that the tree determines, so that the same blob and salt give the same file */
	if (EVP_DigestInit_ex(vb->ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(vb->ctx, root, VERITY_DIGEST) &&
	    EVP_DigestFinal_ex(vb->ctx, out, NULL)) {
		memcpy(sb.uuid, out, 16);
		sb.uuid[6] = (u8)((sb.uuid[6] & 0x0f) | 0x40);	/* a version 4 uuid's bits */
		sb.uuid[8] = (u8)((sb.uuid[8] & 0x3f) | 0x80);
	}
	memset(out, 0, sizeof(out));
	memcpy(out, &sb, sizeof(sb));
	ret = verity_pwrite(vb, out, VERITY_HASH_BLOCK, 0, why, len);
out:
	verity_abort(vb);
	return ret;
}

int verity_tree_file(const char *blob, const char *tree, u32 dbs, const u8 *salt, u32 salt_size,
		     struct verity_params *p, u8 root[VERITY_DIGEST], char *why, size_t len)
{
	struct verity_builder vb;
	u8 *buf = NULL;
	struct stat st;
	int in, out = -1, ret = -1;
	u64 off;

	in = open(blob, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		failf(why, len, "%s: %s", blob, strerror(errno));
		goto out;
	}
	out = open(tree, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0) {
		failf(why, len, "%s: %s", tree, strerror(errno));
		goto out;
	}
	if (!dbs)
		dbs = verity_data_block_size((u64)st.st_size, 0, false);
	if (verity_begin(&vb, (u64)st.st_size, dbs, salt, salt_size, out, tree, why, len))
		goto out;
	buf = malloc(1u << 20);
	if (!buf) {
		verity_abort(&vb);
		failf(why, len, "out of memory");
		goto out;
	}
	for (off = 0; off < (u64)st.st_size; off += 1u << 20) {
		size_t n = (u64)st.st_size - off < (1u << 20) ? (size_t)((u64)st.st_size - off) : 1u << 20;

		if (pread_all(in, buf, n, off, blob, why, len) || verity_update(&vb, buf, n, why, len)) {
			verity_abort(&vb);
			goto out;
		}
	}
	if (verity_finish(&vb, root, why, len))
		goto out;
	if (p)
		*p = vb.p;
	ret = fsync(out) ? failf(why, len, "%s: %s", tree, strerror(errno)) : 0;
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

int verity_read_superblock(const char *tree, struct verity_params *p, char *why, size_t len)
{
	struct verity_sb sb;
	int fd = open(tree, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return failf(why, len, "%s: %s", tree, strerror(errno));
	r = pread_all(fd, &sb, sizeof(sb), 0, tree, why, len);
	close(fd);
	if (r)
		return -1;
	if (memcmp(sb.signature, "verity\0\0", 8) || sb.version != 1 || sb.hash_type != 1 ||
	    strncmp((const char *)sb.algorithm, "sha256", sizeof(sb.algorithm)) ||
	    sb.hash_block_size != VERITY_HASH_BLOCK || sb.salt_size > VERITY_SALT ||
	    (sb.data_block_size != 4096 && sb.data_block_size != 512))
		return failf(why, len, "%s: not a dm-verity superblock of sha256, hash type 1, 4096-byte hash blocks",
			     tree);
	memset(p, 0, sizeof(*p));
	p->data_block_size = sb.data_block_size;
	p->data_blocks = sb.data_blocks;
	p->salt_size = sb.salt_size;
	memcpy(p->salt, sb.salt, sb.salt_size);
	p->hash_offset = VERITY_HASH_BLOCK;
	return 0;
}
