/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: one JSON document from a file, bounded, with json-c. */
#ifndef OVBD_JSONFILE_H
#define OVBD_JSONFILE_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * The whole file at path, at most max bytes, NUL-terminated; NULL with why
 * set when it cannot be read or is larger.
 */
char *read_file_bounded(const char *path, size_t max, size_t *n, char *why, size_t len);

/*
 * Parse the file at path (at most max bytes, nested at most 64 deep) as
 * one JSON object; NULL with why set to "<path>: <what is wrong> at byte N"
 * ("the document ends early", trailing text, not an object, too large).
 */
struct json_object *json_file_object(const char *path, size_t max, char *why, size_t len);

/* Write o to path (pretty, a newline at the end), atomically: 0, or -1 with why set. */
int json_write_file(const char *path, struct json_object *o, char *why, size_t len);

#endif /* OVBD_JSONFILE_H */
