/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: run a helper program (losetup, dmsetup) and capture what it prints. */
#ifndef OVBD_RUN_H
#define OVBD_RUN_H

#include <stddef.h>

/*
 * Run argv and return its exit status. out receives its stdout, or on
 * failure its stderr (trimmed), so warnings never pollute results.
 */
int run_cmd(char *const argv[], char *out, size_t outlen);

#endif /* OVBD_RUN_H */
