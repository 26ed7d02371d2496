/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: key/value reports printed as aligned text or as JSON. */
#ifndef OVBD_REPORT_H
#define OVBD_REPORT_H

#include <ovbd/port.h>

void report_begin(bool json);
void report_section(const char *name);	/* opens a nested object */
void report_end_section(void);
void report_u64(const char *key, u64 v);
void report_hex(const char *key, u64 v);
void report_str(const char *key, const char *v);
void report_bool(const char *key, bool v);
void report_end(void);

#endif /* OVBD_REPORT_H */
