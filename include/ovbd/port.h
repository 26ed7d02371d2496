/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Portability mapping for the OverlayBD format core.
 *
 * The core (src/format/) compiles unchanged into the kernel module, into
 * KUnit on UML and into the userspace tool, tests and fuzzers.  This is the
 * only place where the two worlds differ.
 */
#ifndef OVBD_PORT_H
#define OVBD_PORT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/kernel.h>
#include <linux/crc32c.h>
#include <linux/lz4.h>
#include <linux/zstd.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

typedef zstd_dctx ovbd_zstd_dctx;

/*
 * Long loops of the core (the layer merge) call this every few thousand
 * steps: it yields the CPU and tells whether a fatal signal asks the
 * caller (a dm ctr run by dmsetup) to give up.
 */
static inline bool ovbd_should_stop(void)
{
	cond_resched();
	return fatal_signal_pending(current);
}

static inline u32 ovbd_crc32c(u32 seed, const void *buf, size_t len)
{
	return crc32c(seed, buf, len);
}

static inline size_t ovbd_zstd_decompress(ovbd_zstd_dctx *dctx, void *dst,
					  size_t cap, const void *src,
					  size_t len)
{
	return zstd_decompress_dctx(dctx, dst, cap, src, len);
}

static inline bool ovbd_zstd_failed(size_t ret)
{
	return zstd_is_error(ret);
}

#else /* userspace */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <lz4.h>
#include <zstd.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

typedef ZSTD_DCtx ovbd_zstd_dctx;

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

/* Raw CRC32C (Castagnoli), no pre- or post-inversion: the kernel's crc32c(). */
u32 ovbd_crc32c(u32 seed, const void *buf, size_t len);
/* The table-driven form that ovbd_crc32c() falls back on, and its name. */
u32 ovbd_crc32c_portable(u32 seed, const void *buf, size_t len);
const char *ovbd_crc32c_impl(void);

/*
 * The kernel yields and honours fatal signals here; userspace commands are
 * ended by their signals, so the hook only has to exist. Tests may replace
 * it through ovbd_stop_hook to check that an interrupted merge fails cleanly.
 */
extern bool (*ovbd_stop_hook)(void);
static inline bool ovbd_should_stop(void)
{
	return ovbd_stop_hook && ovbd_stop_hook();
}

static inline size_t ovbd_zstd_decompress(ovbd_zstd_dctx *dctx, void *dst,
					  size_t cap, const void *src,
					  size_t len)
{
	return ZSTD_decompressDCtx(dctx, dst, cap, src, len);
}

static inline bool ovbd_zstd_failed(size_t ret)
{
	return ZSTD_isError(ret);
}

#endif /* __KERNEL__ */

/* Little-endian field access on byte buffers of any alignment. */
static inline u16 ovbd_get_le16(const u8 *p)
{
	return (u16)(p[0] | (p[1] << 8));
}

static inline u32 ovbd_get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 ovbd_get_le64(const u8 *p)
{
	return (u64)ovbd_get_le32(p) | (u64)ovbd_get_le32(p + 4) << 32;
}

static inline void ovbd_put_le32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

static inline void ovbd_put_le64(u8 *p, u64 v)
{
	ovbd_put_le32(p, (u32)v);
	ovbd_put_le32(p + 4, (u32)(v >> 32));
}

#endif /* OVBD_PORT_H */
