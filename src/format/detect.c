// SPDX-License-Identifier: GPL-2.0-only
/* Blob kind detection by magic. */
#include <ovbd/detect.h>
#include <ovbd/lsmt.h>
#include <ovbd/tar.h>
#include <ovbd/zfile.h>

enum ovbd_kind ovbd_detect(const u8 *buf, size_t len)
{
	if (ovbd_tar_is_header(buf, len))
		return OVBD_KIND_TAR;
	if (ovbd_zfile_magic(buf, len))
		return OVBD_KIND_ZFILE;
	if (ovbd_lsmt_magic(buf, len))
		return OVBD_KIND_LSMT;
	return OVBD_KIND_UNKNOWN;
}

const char *ovbd_kind_name(enum ovbd_kind kind)
{
	switch (kind) {
	case OVBD_KIND_TAR:
		return "tar";
	case OVBD_KIND_ZFILE:
		return "zfile";
	case OVBD_KIND_LSMT:
		return "lsmt";
	default:
		return "unknown";
	}
}
