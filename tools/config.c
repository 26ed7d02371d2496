// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: the layer list of an overlaybd-tcmu config.v1.json, with a small strict JSON reader. */
#include "config.h"
#include "util.h"
#include <ctype.h>

struct json {
	const char *p, *end;
	const char *err;
};

static void skip_ws(struct json *j)
{
	while (j->p < j->end && isspace((unsigned char)*j->p))
		j->p++;
}

static bool expect(struct json *j, char c)
{
	skip_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	j->err = j->p < j->end ? "unexpected character" : "the document ends early";
	return false;
}

/* A string into a new buffer (escapes \" \\ \/ \n \t \uXXXX as '?'). */
static char *parse_string(struct json *j)
{
	char *s, *o;

	if (!expect(j, '"'))
		return NULL;
	o = s = xmalloc((size_t)(j->end - j->p) + 1);
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\' && j->p < j->end) {
			c = *j->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'u': j->p += j->end - j->p >= 4 ? 4 : j->end - j->p; c = '?'; break;
			}
		}
		*o++ = c;
	}
	*o = 0;
	if (!expect(j, '"')) {
		free(s);
		return NULL;
	}
	return s;
}

static bool skip_value(struct json *j, int depth);

static bool skip_container(struct json *j, char open, char close, int depth)
{
	if (!expect(j, open))
		return false;
	skip_ws(j);
	if (j->p < j->end && *j->p == close)
		return j->p++, true;
	for (;;) {
		if (open == '{') {
			free(parse_string(j));
			if (j->err || !expect(j, ':'))
				return false;
		}
		if (!skip_value(j, depth + 1))
			return false;
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return expect(j, close);
	}
}

static bool skip_value(struct json *j, int depth)
{
	skip_ws(j);
	if (depth > 64 || j->p >= j->end) {
		j->err = depth > 64 ? "nested too deeply" : "truncated";
		return false;
	}
	switch (*j->p) {
	case '{': return skip_container(j, '{', '}', depth);
	case '[': return skip_container(j, '[', ']', depth);
	case '"': free(parse_string(j)); return !j->err;
	default:
		while (j->p < j->end && (isalnum((unsigned char)*j->p) || strchr("+-.", *j->p)))
			j->p++;
		return true;
	}
}

/* One element of "lowers": {"file": ...} or {"dir": ...}. */
static char *parse_lower(struct json *j)
{
	char *file = NULL, *dir = NULL, *key;

	if (!expect(j, '{'))
		return NULL;
	skip_ws(j);
	while (j->p < j->end && *j->p != '}') {
		key = parse_string(j);
		if (!key || !expect(j, ':'))
			goto bad;
		skip_ws(j);
		if (!strcmp(key, "file") && j->p < j->end && *j->p == '"')
			file = parse_string(j);
		else if (!strcmp(key, "dir") && j->p < j->end && *j->p == '"')
			dir = parse_string(j);
		else if (!skip_value(j, 1))
			goto bad;
		free(key);
		skip_ws(j);
		if (j->p < j->end && *j->p == ',')
			j->p++;
		skip_ws(j);
	}
	if (!expect(j, '}'))
		goto bad;
	if (!file && dir) {
		file = xmalloc(strlen(dir) + sizeof("/overlaybd.commit"));
		sprintf(file, "%s/overlaybd.commit", dir);
	}
	free(dir);
	if (!file)
		j->err = "a lowers element without \"file\" or \"dir\"";
	return file;
bad:
	free(file);
	free(dir);
	return NULL;
}

int config_load(const char *path, struct image_config *c, char *why, size_t whylen)
{
	struct json j = { 0 };
	char *text, *key;
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 1 << 16;

	memset(c, 0, sizeof(*c));
	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = xmalloc(cap);
	while ((n += fread(text + n, 1, cap - n, f)) == cap)
		text = realloc(text, cap *= 2);
	fclose(f);
	j.p = text;
	j.end = text + n;
	if (!expect(&j, '{'))
		goto bad;
	skip_ws(&j);
	while (j.p < j.end && *j.p != '}') {
		key = parse_string(&j);
		if (!key || !expect(&j, ':'))
			goto bad;
		skip_ws(&j);
		if (!strcmp(key, "lowers")) {
			if (!expect(&j, '['))
				goto bad_key;
			skip_ws(&j);
			while (j.p < j.end && *j.p != ']') {
				char *file = parse_lower(&j);

				if (!file)
					goto bad_key;
				if (c->nlowers == OVBD_LSMT_MAX_LAYERS) {
					free(file);
					j.err = "more than 255 lowers";
					goto bad_key;
				}
				c->lowers[c->nlowers++] = file;
				skip_ws(&j);
				if (j.p < j.end && *j.p == ',')
					j.p++;
				skip_ws(&j);
			}
			if (!expect(&j, ']'))
				goto bad_key;
		} else if (!strcmp(key, "resultFile") && j.p < j.end && *j.p == '"') {
			c->result_file = parse_string(&j);
		} else {
			if (!strcmp(key, "upper"))
				c->has_upper = true;
			if (!skip_value(&j, 1))
				goto bad_key;
		}
		free(key);
		skip_ws(&j);
		if (j.p < j.end && *j.p == ',')
			j.p++;
		skip_ws(&j);
	}
	if (!expect(&j, '}'))
		goto bad;
	free(text);
	if (!c->nlowers) {
		snprintf(why, whylen, "%s: lowers: expected 1..255 layers", path);
		return -1;
	}
	return 0;
bad_key:
	free(key);
bad:
	snprintf(why, whylen, "%s: malformed JSON at byte %ld: %s", path,
		 (long)(j.p - text), j.err ? j.err : "unexpected input");
	free(text);
	return -1;
}

void config_free(struct image_config *c)
{
	unsigned int i;

	for (i = 0; i < c->nlowers; i++)
		free(c->lowers[i]);
	free(c->result_file);
	memset(c, 0, sizeof(*c));
}
