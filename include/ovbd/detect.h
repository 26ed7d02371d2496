/* SPDX-License-Identifier: GPL-2.0-only */
/* Which of the nested formats a blob starts with. */
#ifndef OVBD_DETECT_H
#define OVBD_DETECT_H

#include "port.h"

enum ovbd_kind {
	OVBD_KIND_UNKNOWN,
	OVBD_KIND_TAR,
	OVBD_KIND_ZFILE,
	OVBD_KIND_LSMT,
};

/* Probe in the reader's order: tar, then ZFile, then LSMT. */
enum ovbd_kind ovbd_detect(const u8 *buf, size_t len);
const char *ovbd_kind_name(enum ovbd_kind kind);

#endif /* OVBD_DETECT_H */
