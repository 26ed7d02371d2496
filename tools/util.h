/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: messages, exit codes and whole-buffer file I/O. */
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
/* Print "ovbd: file: <format core error>" and exit 1. */
void die_err(const char *file, const struct ovbd_err *e) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

/* Read or write exactly len bytes at off; die naming file on failure or EOF. */
void pread_full(int fd, void *buf, size_t len, u64 off, const char *file);
void write_full(int fd, const void *buf, size_t len, const char *file);
void pwrite_full(int fd, const void *buf, size_t len, u64 off, const char *file);

/* Library code's error: format into why (len bytes) and return -1. */
int failf(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sleep ms milliseconds (polling loops: a device node, a process, a file). */
void nap_ms(long ms);

/* Parse a byte count with optional K/M/G suffix; false when malformed. */
bool parse_size(const char *s, u64 *out);

#endif /* OVBD_UTIL_H */
