// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: containers-registries.conf(5): which file, and what a reference
 * becomes (regconf.h).
 */
#define _GNU_SOURCE
#include "regconf.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REGCONF_DEFAULT	"/etc/containers/registries.conf"

static const char *regconf_path;
static bool regconf_loaded;
static struct regconf regconf_conf;

void regconf_use(const char *path)
{
	regconf_path = path;
	regconf_loaded = false;
}

static int regconf_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The drop-ins of DIR/registries.conf.d, in name order, over c. */
static int regconf_dropins(const char *main, struct regconf *c, char *why, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 256], *slash, *names[256];
	unsigned int n = 0, i;
	struct dirent *de;
	DIR *d;
	int r = 0;

	snprintf(dir, sizeof(dir), "%s", main);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	strncat(dir, "/registries.conf.d", sizeof(dir) - strlen(dir) - 1);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < 256) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".conf") && de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), regconf_name_cmp);
	for (i = 0; i < n; i++) {
		if (!r && names[i]) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			r = regconf_parse_toml(path, c, why, len);
		}
		free(names[i]);
	}
	return r;
}

const struct regconf *regconf_get(char *why, size_t len)
{
	const char *path = getenv("CONTAINERS_REGISTRIES_CONF");
	struct regconf *c = &regconf_conf;

	if (regconf_loaded)
		return c;
	memset(c, 0, sizeof(*c));
	if (regconf_path)
		path = regconf_path;
	if (!path || !*path) {
		if (access(REGCONF_DEFAULT, F_OK)) {
			regconf_loaded = true;	/* no file: references as they are */
			return c;
		}
		path = REGCONF_DEFAULT;
	}
	snprintf(c->file, sizeof(c->file), "%s", path);
	if (access(path, R_OK)) {
		failf(why, len, "registries.conf %s: %s", path, strerror(errno));
		return NULL;
	}
	if (regconf_parse_toml(path, c, why, len) || regconf_dropins(path, c, why, len))
		return NULL;
	regconf_loaded = true;
	return c;
}

/* "host[:port]" with a dot, a colon or "localhost": a registry, not a short name's first part. */
static bool regconf_is_host(const char *s, size_t n)
{
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9));
}

/* Split refstr into its name and its ":tag" or "@digest" suffix (kept, with the separator). */
static void regconf_split(const char *refstr, char *name, size_t nlen, char *suffix, size_t slen)
{
	const char *at = strchr(refstr, '@'), *slash = strrchr(refstr, '/');
	const char *colon = strrchr(refstr, ':');
	const char *cut = at ? at : (colon && (!slash || colon > slash) ? colon : NULL);

	if (cut) {
		snprintf(name, nlen, "%.*s", (int)(cut - refstr), refstr);
		snprintf(suffix, slen, "%s", cut);
	} else {
		snprintf(name, nlen, "%s", refstr);
		suffix[0] = 0;
	}
}

static bool regconf_short(const char *refstr)
{
	const char *slash = strchr(refstr, '/');

	return !slash || !regconf_is_host(refstr, (size_t)(slash - refstr));
}

/* Whether prefix matches name ("host/repo"): a path boundary, or a "*.domain" host. */
static size_t regconf_match(const char *prefix, const char *name)
{
	size_t pl = strlen(prefix);

	if (!strncmp(prefix, "*.", 2)) {
		const char *slash = strchr(name, '/');
		size_t hl = slash ? (size_t)(slash - name) : strlen(name), dl = pl - 1;

		/* the host ends in ".domain" (prefix without its '*') */
		return hl > dl && !strncmp(name + hl - dl, prefix + 1, dl) ? pl : 0;
	}
	if (strncmp(prefix, name, pl))
		return 0;
	return name[pl] == 0 || name[pl] == '/' ? pl : 0;
}

/* The [[registry]] whose prefix matches name longest, or NULL. */
static const struct regconf_registry *regconf_find(const struct regconf *c, const char *name)
{
	const struct regconf_registry *best = NULL;
	size_t bl = 0, l;

	for (unsigned int i = 0; i < c->nreg; i++) {
		l = regconf_match(c->reg[i].prefix, name);
		if (l > bl) {
			bl = l;
			best = &c->reg[i];
		}
	}
	return best;
}

/* Append a source: location + name's part past the prefix + suffix. */
static int regconf_add(struct reg_source *src, unsigned int max, unsigned int *n, const char *location,
		       const char *prefix, const char *name, const char *suffix, bool insecure,
		       bool mirror, char *why, size_t len)
{
	char full[sizeof(src->name)], err[512];
	const char *rest = "";

	if (*n >= max)
		return failf(why, len, "%s: more than %u places to fetch it from", name, max);
	if (prefix) {
		/* a wildcard prefix keeps the host: the registry is where the name says */
		rest = strncmp(prefix, "*.", 2) ? name + strlen(prefix) : "";
		if (!strncmp(prefix, "*.", 2))
			location = name;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s%s%s", location, rest, suffix) >= sizeof(full))
		return failf(why, len, "%s%s: the rewritten reference is too long", name, suffix);
	if (reg_parse_ref(full, &src[*n].ref, err, sizeof(err)))
		return failf(why, len, "%s%s rewritten to %s: %s", name, suffix, full, err);
	snprintf(src[*n].name, sizeof(src[*n].name), "%s", full);
	src[*n].insecure = insecure;
	src[*n].mirror = mirror;
	(*n)++;
	return 0;
}

/* The sources of one qualified name. */
static int regconf_qualified(const struct regconf *c, const char *name, const char *suffix,
			     struct reg_source *src, unsigned int max, unsigned int *n, char *why,
			     size_t len)
{
	const struct regconf_registry *r = regconf_find(c, name);
	bool by_digest = suffix[0] == '@';

	if (!r)
		return regconf_add(src, max, n, name, NULL, name, suffix, false, false, why, len);
	if (r->blocked)
		return failf(why, len, "%s%s: the registry %s is blocked in %s", name, suffix, r->prefix,
			     c->file);
	for (unsigned int i = 0; i < r->nmirrors; i++) {
		const struct regconf_mirror *m = &r->mirror[i];
		enum regconf_pull p = r->digest_only ? REGCONF_PULL_DIGEST_ONLY : m->pull;

		if ((p == REGCONF_PULL_DIGEST_ONLY && !by_digest) || (p == REGCONF_PULL_TAG_ONLY && by_digest))
			continue;
		if (regconf_add(src, max, n, m->location, r->prefix, name, suffix, m->insecure, true, why, len))
			return -1;
	}
	return regconf_add(src, max, n, r->location, r->prefix, name, suffix, r->insecure, false, why, len);
}

int regconf_sources(const char *refstr, struct reg_source *src, unsigned int max, unsigned int *n,
		    char *why, size_t len)
{
	const struct regconf *c = regconf_get(why, len);
	char name[REGCONF_LOC_MAX], suffix[REG_TAG_MAX + 80], q[REGCONF_LOC_MAX + 8];
	unsigned int i;

	*n = 0;
	if (!c)
		return -1;
	if (strlen(refstr) >= sizeof(name))
		return failu(why, len, "%.60s...: the reference is too long", refstr);
	regconf_split(refstr, name, sizeof(name), suffix, sizeof(suffix));
	if (!regconf_short(refstr))
		return regconf_qualified(c, name, suffix, src, max, n, why, len);
	/* a short name is a repository with a tag or digest: anything else is no reference */
	snprintf(q, sizeof(q), "localhost/%.*s", (int)sizeof(q) - 16, refstr);
	if (reg_parse_ref(q, &src[0].ref, why, len))
		return failu(why, len, "'%s': expected [host[:port]/]repository[:tag|@sha256:<64 hex>], with a lower-case repository",
			     refstr);
	/* a short name: its alias, else each search registry in turn */
	for (i = 0; i < c->nalias; i++)
		if (!strcmp(c->alias[i][0], name))
			return regconf_qualified(c, c->alias[i][1], suffix, src, max, n, why, len);
	if (!c->nsearch)
		return failf(why, len, "%s: a short name, and %s has no alias for it and no unqualified-search-registries",
			     refstr, *c->file ? c->file : "no registries.conf");
	for (i = 0; i < c->nsearch; i++) {
		snprintf(q, sizeof(q), "%s/%s", c->search[i], name);
		if (regconf_qualified(c, q, suffix, src, max, n, why, len))
			return -1;
	}
	return 0;
}

bool regconf_short_resolves(const char *refstr)
{
	char why[600], name[REGCONF_LOC_MAX], suffix[REG_TAG_MAX + 80];
	const struct regconf *c;

	if (!*refstr || refstr[0] == '/' || refstr[0] == '.' || !regconf_short(refstr))
		return false;
	c = regconf_get(why, sizeof(why));
	if (!c)
		return false;
	regconf_split(refstr, name, sizeof(name), suffix, sizeof(suffix));
	for (unsigned int i = 0; i < c->nalias; i++)
		if (!strcmp(c->alias[i][0], name))
			return true;
	return c->nsearch > 0;
}

int regconf_open(struct reg_client *c, const struct reg_source *s, bool plain_http, char *why,
		 size_t len)
{
	return reg_open(c, &s->ref, plain_http || s->insecure, why, len);
}
