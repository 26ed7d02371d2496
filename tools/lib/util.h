/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: the library's error convention, exit codes, allocation and
 * whole-buffer file I/O.
 *
 * Library functions return 0 (or a count) on success and -1 on failure,
 * with one line in the caller's why buffer (failf). Only the commands
 * (tools/cmd_*.c, tools/ovbd.c) print and exit: die() is theirs, and in the
 * library only the allocation wrappers (out of memory) and the writers of
 * a command's output file call it.
 */
#ifndef OVBD_UTIL_H
#define OVBD_UTIL_H

#include <ovbd/error.h>
#include <stdarg.h>
#include <stdlib.h>

#define EXIT_BAD_INPUT	1
#define EXIT_USAGE	2

extern const char *ovbd_prog;
/* When set, die() also writes its message here (config.v1.json resultFile). */
extern const char *ovbd_result_file;

/* Print "ovbd: msg" to stderr and exit with code. */
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *old, size_t n);

/* Read exactly len bytes at off: 0, or -1 with why naming file (a failure or EOF). */
int pread_all(int fd, void *buf, size_t len, u64 off, const char *file, char *why, size_t wlen);
/* Write exactly len bytes (at off); die naming file on failure (output files only). */
void write_full(int fd, const void *buf, size_t len, const char *file);
void pwrite_full(int fd, const void *buf, size_t len, u64 off, const char *file);

/* Library code's error: format into why (len bytes) and return -1. */
int failf(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for arguments that do not fit what the function takes: -2, a usage error. */
#define failu(why, len, ...)	(failf(why, len, __VA_ARGS__), -2)
/* A command's exit code for a library function's return value r < 0. */
#define EXIT_OF(r)	((r) == -2 ? EXIT_USAGE : EXIT_BAD_INPUT)
/*
 * The steps that change the system (a loop attach, a dm create, a table
 * load, a suspend, a resume, a remove, an nbdkit start, an nbd connect)
 * call ovbd_step() before and ovbd_step_done() after. They are numbered
 * from 1 in each command, and a process forked by it (the lazy supervisor)
 * goes on counting. Two test hooks use the numbers:
 *   OVBD_TEST_FAIL_AT=k  step k fails before it is done: -1, with why
 *                        "step k (<what> <obj>): injected failure";
 *   OVBD_TEST_KILL_AT=k  SIGKILL right after step k, as a power cut would.
 */
int ovbd_step(const char *what, const char *obj, char *why, size_t len);
void ovbd_step_done(void);
/* Sleep ms milliseconds (polling loops: a device node, a process, a file). */
void nap_ms(long ms);

/* Parse a byte count with optional K/M/G suffix; false when malformed. */
bool parse_size(const char *s, u64 *out);

#endif /* OVBD_UTIL_H */
