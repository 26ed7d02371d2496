// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: one JSON document from a file, bounded, with json-c. */
#include "jsonfile.h"
#include "util.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_MAX_DEPTH	64

char *read_file_bounded(const char *path, size_t max, size_t *n, char *why, size_t len)
{
	FILE *f = fopen(path, "r");
	char *text;

	if (!f) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(max + 1);
	*n = text ? fread(text, 1, max + 1, f) : 0;
	fclose(f);
	if (!text || *n > max) {
		snprintf(why, len, "%s: larger than %zu bytes", path, max);
		free(text);
		return NULL;
	}
	text[*n] = 0;
	return text;
}

struct json_object *json_file_object(const char *path, size_t max, char *why, size_t len)
{
	struct json_object *o = NULL;
	struct json_tokener *tok;
	size_t n, i;
	char *text = read_file_bounded(path, max, &n, why, len);

	if (!text)
		return NULL;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		snprintf(why, len, "%s: out of memory", path);
		goto out;
	}
	o = json_tokener_parse_ex(tok, text, (int)n);
	if (!o) {
		enum json_tokener_error err = json_tokener_get_error(tok);

		snprintf(why, len, "%s: JSON: %s at byte %zu", path,
			 err == json_tokener_continue ? "the document ends early" :
			 json_tokener_error_desc(err), json_tokener_get_parse_end(tok));
		goto out;
	}
	for (i = json_tokener_get_parse_end(tok); i < n; i++)
		if (!strchr(" \t\r\n", text[i])) {
			snprintf(why, len, "%s: JSON: unexpected text after the document at byte %zu",
				 path, i);
			json_object_put(o);
			o = NULL;
			goto out;
		}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, len, "%s: expected a JSON object", path);
		json_object_put(o);
		o = NULL;
	}
out:
	if (tok)
		json_tokener_free(tok);
	free(text);
	return o;
}

int json_write_file(const char *path, struct json_object *o, char *why, size_t len)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	char tmp[4200];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= sizeof(tmp))
		return failf(why, len, "%s: path too long", path);
	f = fopen(tmp, "w");
	if (!f)
		return failf(why, len, "%s: %s", tmp, strerror(errno));
	if (fprintf(f, "%s\n", text) < 0 || fflush(f) || fsync(fileno(f))) {
		failf(why, len, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) || rename(tmp, path)) {
		failf(why, len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
