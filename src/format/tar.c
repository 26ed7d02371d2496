// SPDX-License-Identifier: GPL-2.0-only
/* Tar wrapper detection: ustar headers, PAX size records. Pure: no I/O. */
#include <ovbd/ondisk.h>
#include <ovbd/tar.h>

/* Field offsets: the layout is struct ovbd_tar_ondisk (ondisk.h). */
#define TH_OFF(field)	OVBD_ONDISK_OFF(ovbd_tar_ondisk, field)
#define TH_LEN(field)	sizeof(((struct ovbd_tar_ondisk *)0)->field)
#define TH_NAME		TH_OFF(name)
#define TH_SIZE		TH_OFF(size)
#define TH_SIZE_LEN	TH_LEN(size)
#define TH_CHKSUM	TH_OFF(chksum)
#define TH_CHKSUM_LEN	TH_LEN(chksum)
#define TH_TYPE		TH_OFF(typeflag)
#define TH_MAGIC	TH_OFF(magic)
#define TH_VERSION	TH_OFF(version)

/*
 * Parse an octal (or base-256) numeric field; false when malformed. An
 * octal field's value is its octal digits after optional leading spaces,
 * up to the first byte that is no digit. strict: every byte must be an
 * octal digit, a space or a NUL (what writers put there), as readers check
 * the fields of the first header, and every header's checksum, before they
 * trust them (tests/tar/tardiff.c checks this against libarchive).
 */
static bool tar_number(const u8 *f, size_t len, u64 *out, bool strict)
{
	u64 v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {		/* base-256, big endian */
		if (f[0] != 0x80)
			return false;	/* negative or over 2^64 */
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return true;
	}
	for (i = 0; strict && i < len; i++)
		if (f[i] != ' ' && f[i] && (f[i] < '0' || f[i] > '7'))
			return false;
	i = 0;
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 61)
			return false;
		v = v << 3 | (u64)(f[i] - '0');
	}
	*out = v;
	return true;
}

static u32 tar_checksum(const u8 *b, bool sign)
{
	u32 sum = 0;
	size_t i;

	for (i = 0; i < OVBD_TAR_BLOCK; i++) {
		int c = (i >= TH_CHKSUM && i < TH_CHKSUM + TH_CHKSUM_LEN) ? ' ' :
			(sign ? (int)(signed char)b[i] : (int)b[i]);
		sum += (u32)c;
	}
	return sum;
}

/*
 * A header block: its checksum field is well-formed and matches (the sum
 * unsigned, or signed as some old writers summed), whatever the magic
 * (ustar's "ustar\0" "00", GNU's "ustar  \0", v7's none). The first header
 * of a file (strict) must also have well-formed numeric fields, which is
 * how a reader tells a tar from other data; in the ones after it they are
 * read up to their first byte that is no digit.
 */
static bool tar_header_ok(const u8 *b, bool strict)
{
	static const struct { u16 off, len; } num[] = {
		{ 100, 8 }, { 108, 8 }, { 116, 8 }, { 124, 12 }, { 136, 12 }, { 329, 8 }, { 337, 8 },
	};
	u64 stored, v;
	size_t i;

	for (i = 0; strict && i < sizeof(num) / sizeof(num[0]); i++)
		if (!tar_number(b + num[i].off, num[i].len, &v, true))
			return false;
	if (!tar_number(b + TH_CHKSUM, TH_CHKSUM_LEN, &stored, true))
		return false;
	/* a block of zeros has no checksum field: a header's sum is never 0 */
	return stored && (stored == tar_checksum(b, false) || stored == tar_checksum(b, true));
}

bool ovbd_tar_is_header(const u8 *b, size_t len)
{
	return len >= OVBD_TAR_BLOCK && tar_header_ok(b, true);
}

/* A v7 header names a directory by a trailing '/' on a regular file's name. */
static bool tar_dir_name(const u8 *h)
{
	size_t n = 0;

	while (n < 100 && h[TH_NAME + n])
		n++;
	return n && h[TH_NAME + n - 1] == '/';
}

/*
 * Entry types that are no file's data: links, devices, directories, FIFOs,
 * the PAX headers ('x', 'g'), GNU's long names ('L', 'K'), dump directory
 * ('D'), multi-volume continuation ('M') and volume label ('V'), Solaris'
 * ACL and extended headers ('A', 'X'). Any other type is a regular file,
 * as readers take it, and so is a hard link ('1') that names no target;
 * GNU's sparse files ('S') are refused, since their data is not stored as
 * it reads.
 */
static bool tar_not_data(const u8 *h)
{
	u8 type = h[TH_TYPE];

	if (type == '1')
		return h[TH_OFF(linkname)] != 0;
	return type && strchr("23456xgLKDMVAX", type);
}

static bool all_zero(const u8 *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* Find "size=" in PAX records "<len> <key>=<value>\n". */
static int pax_size(const u8 *p, u64 len, u64 *size, bool *found,
		    struct ovbd_err *e)
{
	u64 pos = 0;

	while (pos < len) {
		u64 rlen = 0, i = pos, v = 0;

		if (!p[pos])
			break;		/* NUL padding */
		while (i < len && p[i] >= '0' && p[i] <= '9' && rlen < len)
			rlen = rlen * 10 + (p[i++] - '0');
		if (i == pos || i >= len || p[i] != ' ' || rlen > len - pos ||
		    rlen < i - pos + 3 || p[pos + rlen - 1] != '\n')
			return ovbd_fail_at(e, EINVAL, "tar pax record length", rlen,
					    "\"<length> <key>=<value>\\n\" records inside the PAX data",
					    "byte", pos);
		i++;
		if (p[i] == '=')	/* readers refuse a record with no key */
			return ovbd_fail_at(e, EINVAL, "tar pax record key", 0,
					    "a key before '='", "byte", pos);
		if (pos + rlen - i >= 6 && !memcmp(p + i, "size=", 5)) {
			u64 j = i + 5, end = pos + rlen - 1;

			/*
			 * its decimal digits after optional spaces, up to the first
			 * byte that is none, as readers take it; a sign is refused
			 */
			while (j < end && p[j] == ' ')
				j++;
			if (j < end && (p[j] == '-' || p[j] == '+'))
				return ovbd_fail_at(e, EINVAL, "tar pax size", 0,
						    "a decimal number without a sign", "byte", pos);
			for (; j < end && p[j] >= '0' && p[j] <= '9'; j++) {
				if (v > (~0ull - 9) / 10)
					return ovbd_fail_at(e, EINVAL, "tar pax size", 0,
							    "a decimal number below 2^64",
							    "byte", pos);
				v = v * 10 + (p[j] - '0');
			}
			*size = v;
			*found = true;
		}
		pos += rlen;
	}
	return 0;
}

int ovbd_tar_find_payload(const u8 *buf, size_t len, u64 blob_size,
			  u64 *offset, u64 *size, struct ovbd_err *e)
{
	u64 off = 0, pax = 0;
	bool have_pax = false;

	if (!ovbd_tar_is_header(buf, len))
		return 0;
	for (;;) {
		const u8 *h = buf + off;
		u64 sz, data = off + OVBD_TAR_BLOCK;
		int ret;

		if (off + OVBD_TAR_BLOCK > len)
			return ovbd_fail_val(e, EOPNOTSUPP, "tar headers", off,
					     "a file entry within the first 16 KiB");
		if (all_zero(h, OVBD_TAR_BLOCK))
			return ovbd_fail_at(e, EINVAL, "tar end marker", 0,
					    "a regular file entry before it", "byte", off);
		if (!tar_header_ok(h, !off))
			return ovbd_fail_at(e, EINVAL, "tar header", 0,
					    "a ustar, GNU or v7 header with a matching checksum",
					    "byte", off);
		if (!tar_number(h + TH_SIZE, TH_SIZE_LEN, &sz, !off))
			return ovbd_fail_at(e, EINVAL, "tar size field", 0,
					    "an octal or base-256 number", "byte", off);
		if (sz > blob_size)
			return ovbd_fail_at(e, EINVAL, "tar size field", sz,
					    "a size inside the blob", "byte", off);
		if (h[TH_TYPE] == 'S')
			return ovbd_fail_at(e, EOPNOTSUPP, "tar entry type", 'S',
					    "no GNU sparse file: its data is not stored as it reads",
					    "byte", off);
		if (h[TH_TYPE] == 'x') {
			if (sz > len - data)
				return ovbd_fail_at(e, EOPNOTSUPP, "tar pax header size", sz,
						    "a PAX header within the first 16 KiB",
						    "byte", off);
			/* a PAX header describes the one entry that follows it */
			have_pax = false;
			ret = pax_size(buf + data, sz, &pax, &have_pax, e);
			if (ret) {
				if (e)
					e->where += data;	/* record offset -> blob offset */
				return ret;
			}
		} else if (!tar_not_data(h) &&
			   !(tar_dir_name(h) && !have_pax && (h[TH_TYPE] == '0' || !h[TH_TYPE]))) {
			/*
			 * the first regular file that holds data: the payload (a v7
			 * name ending in '/' is a directory; an empty file, which no
			 * layer is, is skipped like the other zero-length entries)
			 */
			if (have_pax)
				sz = pax;
			if (!sz) {
				have_pax = false;
				goto next;
			}
			if (data > blob_size || sz > blob_size - data)
				return ovbd_fail_at(e, EINVAL, "tar payload size", sz,
						    "a payload inside the blob", "byte", off);
			*offset = data;
			*size = sz;
			return 1;
		} else if (h[TH_TYPE] != 'g' && h[TH_TYPE] != 'L' && h[TH_TYPE] != 'K') {
			have_pax = false;	/* that entry consumed the PAX record */
		}
next:
		off = data + ((sz + OVBD_TAR_BLOCK - 1) & ~(u64)(OVBD_TAR_BLOCK - 1));
		if (off > blob_size)
			return ovbd_fail_at(e, EINVAL, "tar entry size", sz,
					    "entries inside the blob", "byte", data - OVBD_TAR_BLOCK);
	}
}

/* An octal field as upstream writes it: right-aligned in width, then suffix. */
static void put_octal(u8 *f, int width, u64 v, const char *suffix)
{
	int i;

	for (i = width - 1; i >= 0; i--, v >>= 3) {
		f[i] = (u8)('0' + (v & 7));
		if (!(v >> 3)) {
			while (i-- > 0)
				f[i] = ' ';
			break;
		}
	}
	for (i = 0; suffix[i]; i++)
		f[width + i] = (u8)suffix[i];
}

void ovbd_tar_encode_header(u8 *b, const char *name, u64 size, char typeflag)
{
	u32 sum;
	int i;

	memset(b, 0, OVBD_TAR_BLOCK);
	for (i = 0; i < 99 && name[i]; i++)
		b[TH_NAME + i] = (u8)name[i];
	if (typeflag != 'x') {		/* upstream leaves these empty in its PAX header */
		put_octal(b + 100, 6, 0644 | 0100000, " ");	/* mode, "100644 " */
		put_octal(b + 108, 6, 0, " ");			/* uid */
		put_octal(b + 116, 6, 0, " ");			/* gid */
		put_octal(b + 136, 11, 0, " ");			/* mtime */
		memcpy(b + 265, "root", 4);			/* uname */
		memcpy(b + 297, "root", 4);			/* gname */
	}
	put_octal(b + TH_SIZE, 11, size, " ");
	b[TH_TYPE] = (u8)typeflag;
	memcpy(b + TH_MAGIC, "ustar\0", 6);
	memcpy(b + TH_VERSION, "00", 2);
	sum = tar_checksum(b, false);
	put_octal(b + TH_CHKSUM, 6, sum, " ");		/* "  5351 " and a NUL */
}
