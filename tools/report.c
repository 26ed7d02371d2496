// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: key/value reports printed as aligned text or as JSON. */
#include "report.h"

static bool as_json;
static int depth;
static bool first[8];

static void key_prefix(const char *key)
{
	if (as_json) {
		printf("%s\n%*s\"%s\": ", first[depth] ? "" : ",", 2 * depth, "", key);
		first[depth] = false;
	} else {
		printf("%*s%-16s ", 2 * (depth - 1), "", key);
	}
}

void report_begin(bool json)
{
	as_json = json;
	depth = 1;
	first[1] = true;
	if (as_json)
		printf("{");
}

void report_section(const char *name)
{
	if (as_json) {
		key_prefix(name);
		printf("{");
	} else {
		printf("%*s%s:\n", 2 * (depth - 1), "", name);
	}
	first[++depth] = true;
}

void report_end_section(void)
{
	depth--;
	if (as_json)
		printf("\n%*s}", 2 * depth, "");
}

void report_u64(const char *key, u64 v)
{
	key_prefix(key);
	printf("%llu%s", (unsigned long long)v, as_json ? "" : "\n");
}

void report_hex(const char *key, u64 v)
{
	key_prefix(key);
	printf(as_json ? "%llu" : "0x%llx\n", (unsigned long long)v);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void report_str(const char *key, const char *v)
{
	key_prefix(key);
	if (as_json)
		json_string(v);
	else
		printf("%s\n", v);
}

void report_bool(const char *key, bool v)
{
	key_prefix(key);
	printf(as_json ? "%s" : "%s\n", v ? "true" : "false");
}

void report_end(void)
{
	if (as_json)
		printf("\n}\n");
}
