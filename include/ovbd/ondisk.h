/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The on-disk layouts the format core reads, in one place: the ZFile
 * header and trailer, the LSMT header and trailer and its index entry, and
 * the tar header fields of the wrapper. All integers are little-endian;
 * the core reads them with ovbd_get_le32/64 at these structs' offsets, so
 * the structs are the layout and never overlaid on unaligned buffers.
 * The offsets are checked at compile time at the end of this file, in
 * every build of the core (module, KUnit, ovbd, tests, fuzzers).
 */
#ifndef OVBD_ONDISK_H
#define OVBD_ONDISK_H

#include "port.h"

#define OVBD_PACKED	__attribute__((packed))

/* ---- ZFile: header (first 512 bytes) and trailer (last 512) share this struct */

struct ovbd_zf_ondisk {
	u8 magic0[8];		/* "ZFile\0\1\0" */
	u8 magic1[16];		/* 74 75 6A 69 2E 79 79 66 40 41 6C 69 62 61 62 61 */
	u32 struct_size;	/* bytes of fields the writer knew: 96 */
	u32 digest;		/* CRC32C (seed 0) of all 512 bytes with this field 0; with FLAG_DIGEST */
	u64 flags;		/* OVBD_ZF_FLAG_*: only OVBD_ZF_FLAGS_KNOWN are read */
	u64 index_offset;	/* bytes from the ZFile start to the index */
	u64 index_size;		/* u32 index entries: one per block */
	u64 original_size;	/* bytes of decompressed content */
	u32 index_crc;		/* CRC32C (seed 0) of the raw index bytes */
	u32 reserved0;
	u32 block_size;		/* decompressed bytes per block: a power of two, 4 KiB..64 KiB */
	u8 algo;		/* enum ovbd_zf_algo: 1 lz4, 2 zstd */
	u8 level;		/* the compressor's level; readers ignore it */
	u8 use_dict;		/* 1: a dictionary follows the blocks (unsupported) */
	u8 reserved1[5];	/* the compressor's arguments; readers ignore them */
	u32 dict_size;		/* bytes of that dictionary (unsupported when not 0) */
	u8 verify;		/* 1: each stored block is followed by its CRC32C (seed 100007) */
	u8 reserved2[423];	/* zero */
} OVBD_PACKED;

#define OVBD_ZF_FLAG_HEADER	(1ull << 0)	/* this is the header (else the trailer) */
#define OVBD_ZF_FLAG_DATA	(1ull << 1)	/* a data file */
#define OVBD_ZF_FLAG_SEALED	(1ull << 2)	/* sealed: complete */
#define OVBD_ZF_FLAG_OVERWRITE	(1ull << 3)	/* the header holds the trailer's fields */
#define OVBD_ZF_FLAG_DIGEST	(1ull << 4)	/* the digest field is set */
#define OVBD_ZF_FLAG_IDX_COMP	(1ull << 5)	/* a compressed index (known, refused) */
/* Every bit a reader knows the meaning of; others are refused, not guessed at. */
#define OVBD_ZF_FLAGS_KNOWN	(OVBD_ZF_FLAG_HEADER | OVBD_ZF_FLAG_DATA | OVBD_ZF_FLAG_SEALED | \
				 OVBD_ZF_FLAG_OVERWRITE | OVBD_ZF_FLAG_DIGEST | \
				 OVBD_ZF_FLAG_IDX_COMP)

/* ---- LSMT: header (first 4096 bytes) and trailer (last 4096) share this struct */

struct ovbd_lsmt_ondisk {
	u8 magic0[8];		/* "LSMT\0\1\2\0" */
	u8 magic1[16];		/* 65 7E 63 D2 94 44 08 4C A2 D2 C8 EC 4F CF AE 8A */
	u32 struct_size;	/* bytes of fields the writer knew: 390 */
	u32 flags;		/* OVBD_LSMT_FLAG_*: only OVBD_LSMT_FLAGS_KNOWN are read */
	u64 index_offset;	/* bytes from the file start to the index (trailer) */
	u64 index_size;		/* 16-byte index entries, padding included (trailer) */
	u64 virtual_size;	/* bytes of the virtual disk; 0: not set */
	char uuid[37];		/* this layer's uuid, upper-case ASCII, NUL-terminated */
	char parent_uuid[37];	/* the layer below's, or the nil uuid */
	u8 deprecated[2];
	u8 version;		/* 1 */
	u8 sub_version;
	char user_tag[256];	/* the commit message, NUL-terminated */
	u8 reserved[3706];	/* zero */
} OVBD_PACKED;

#define OVBD_LSMT_FLAG_HEADER	(1u << 0)	/* this is the header (else the trailer) */
#define OVBD_LSMT_FLAG_DATA	(1u << 1)	/* a data file (else an index file) */
#define OVBD_LSMT_FLAG_SEALED	(1u << 2)	/* sealed: read-only and complete */
#define OVBD_LSMT_FLAG_GC	(1u << 3)	/* written by garbage collection */
#define OVBD_LSMT_FLAG_SPARSE	(1u << 4)	/* a sparse read-write file's */
#define OVBD_LSMT_FLAG_INFO	(1u << 5)	/* the info fields are valid */
#define OVBD_LSMT_FLAGS_KNOWN	(OVBD_LSMT_FLAG_HEADER | OVBD_LSMT_FLAG_DATA | \
				 OVBD_LSMT_FLAG_SEALED | OVBD_LSMT_FLAG_GC | \
				 OVBD_LSMT_FLAG_SPARSE | OVBD_LSMT_FLAG_INFO)

/*
 * One LSMT index entry: a little-endian 128-bit value, read as two u64.
 *   lo bits  0..49  offset: the virtual sector; all ones: a padding entry
 *   lo bits 50..63  length: sectors, 1..16383
 *   hi bits  0..54  moffset: the sector in the layer file that holds the data
 *   hi bit  55      zeroed: the range reads as zeros and has no data
 *   hi bits 56..63  tag: the source layer overlaybd-merge wrote; readers ignore it
 */
struct ovbd_lsmt_ondisk_entry {
	u64 lo;
	u64 hi;
} OVBD_PACKED;

/* ---- tar: the fields of a ustar header block the core reads or writes */

struct ovbd_tar_ondisk {
	char name[100];		/* the entry's name (PAX path= overrides it) */
	char mode[8];		/* octal */
	char uid[8];		/* octal */
	char gid[8];		/* octal */
	char size[12];		/* octal, or base-256 with the top bit set (PAX size= overrides it) */
	char mtime[12];		/* octal */
	char chksum[8];		/* octal sum of the block's bytes, this field as spaces */
	char typeflag;		/* '0' or NUL: a regular file; 'x', 'g': PAX; 'L', 'K': GNU long names */
	char linkname[100];
	char magic[6];		/* "ustar\0" (POSIX) or "ustar " (GNU) */
	char version[2];	/* "00" (POSIX) or " \0" (GNU) */
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];	/* the name's directory part (POSIX) */
	char pad[12];
} OVBD_PACKED;

#define OVBD_ONDISK_OFF(type, field)	__builtin_offsetof(struct type, field)

/* ---- checked in every build: the layout as FORMAT.md gives it */

#define OVBD_ONDISK_CHECK(type, field, off) \
	_Static_assert(OVBD_ONDISK_OFF(type, field) == (off), #type "." #field " at " #off)

_Static_assert(sizeof(struct ovbd_zf_ondisk) == 512, "the ZFile header is 512 bytes");
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, magic1, 8);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, struct_size, 24);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, digest, 28);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, flags, 32);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, index_offset, 40);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, index_size, 48);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, original_size, 56);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, index_crc, 64);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, block_size, 72);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, algo, 76);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, level, 77);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, use_dict, 78);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, dict_size, 84);
OVBD_ONDISK_CHECK(ovbd_zf_ondisk, verify, 88);

_Static_assert(sizeof(struct ovbd_lsmt_ondisk) == 4096, "the LSMT header is 4096 bytes");
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, struct_size, 24);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, flags, 28);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, index_offset, 32);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, index_size, 40);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, virtual_size, 48);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, uuid, 56);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, parent_uuid, 93);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, version, 132);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, sub_version, 133);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, user_tag, 134);
OVBD_ONDISK_CHECK(ovbd_lsmt_ondisk, reserved, 390);
_Static_assert(sizeof(struct ovbd_lsmt_ondisk_entry) == 16, "an LSMT index entry is 16 bytes");

_Static_assert(sizeof(struct ovbd_tar_ondisk) == 512, "a tar header is 512 bytes");
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, size, 124);
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, chksum, 148);
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, typeflag, 156);
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, magic, 257);
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, version, 263);
OVBD_ONDISK_CHECK(ovbd_tar_ondisk, prefix, 345);

#endif /* OVBD_ONDISK_H */
