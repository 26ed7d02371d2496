/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: containers-registries.conf(5), version 2, as podman and skopeo read
 * it: [[registry]] prefix and location rewriting, insecure, blocked, its
 * [[registry.mirror]]s tried in order (pull-from-mirror all, digest-only or
 * tag-only; mirror-by-digest-only), unqualified-search-registries for short
 * names, and short-name [aliases] (registries.conf.d/NAME.conf, shortnames.conf).
 *
 * The file is $CONTAINERS_REGISTRIES_CONF, or what regconf_use() names
 * (--registries-conf), else /etc/containers/registries.conf when it exists;
 * then the drop-ins of registries.conf.d beside it, in name order: a
 * [[registry]] of a later file replaces one with the same prefix, a later
 * unqualified-search-registries replaces the list, aliases merge. No file:
 * every reference is used as it is.
 *
 * TOML is read by tomlplusplus (regconf_toml.cpp, the one C++ file, behind
 * regconf_parse_toml); the matching and rewriting are here, in C.
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_REGCONF_H
#define OVBD_REGCONF_H

#include "registry.h"
#include <stdbool.h>
#include <stddef.h>

#define REGCONF_MAX_REGISTRIES	64
#define REGCONF_MAX_MIRRORS	8
#define REGCONF_MAX_SEARCH	16
#define REGCONF_MAX_ALIASES	256
#define REGCONF_LOC_MAX		(REG_HOST_MAX + REG_REPO_MAX)
#define REGCONF_MAX_SOURCES	(REGCONF_MAX_SEARCH * (REGCONF_MAX_MIRRORS + 1))

enum regconf_pull { REGCONF_PULL_ALL, REGCONF_PULL_DIGEST_ONLY, REGCONF_PULL_TAG_ONLY };

struct regconf_mirror {
	char location[REGCONF_LOC_MAX];
	bool insecure;
	enum regconf_pull pull;
};

struct regconf_registry {
	char prefix[REGCONF_LOC_MAX];	/* "" until read: then location */
	char location[REGCONF_LOC_MAX];
	bool insecure, blocked, digest_only;
	unsigned int nmirrors;
	struct regconf_mirror mirror[REGCONF_MAX_MIRRORS];
};

struct regconf {
	char file[4096];		/* the main file, for messages ("" when none) */
	bool has_search;
	unsigned int nsearch;
	char search[REGCONF_MAX_SEARCH][REG_HOST_MAX];
	unsigned int nreg;
	struct regconf_registry reg[REGCONF_MAX_REGISTRIES];
	unsigned int nalias;
	char alias[REGCONF_MAX_ALIASES][2][REGCONF_LOC_MAX];	/* short name, qualified repository */
};

/* Read one TOML file into c, over what c holds (the drop-in rules above). */
int regconf_parse_toml(const char *path, struct regconf *c, char *why, size_t len);

/* Use path instead of the default file (--registries-conf); NULL: the default. */
void regconf_use(const char *path);
/* The configuration in force, read once: NULL with why set when malformed. */
const struct regconf *regconf_get(char *why, size_t len);

/* One place to fetch an image from: a mirror or the registry itself. */
struct reg_source {
	struct reg_ref ref;		/* rewritten to the mirror's or the registry's location */
	bool insecure;			/* plain HTTP, or TLS without verification */
	bool mirror;
	char name[REGCONF_LOC_MAX + REG_TAG_MAX + 80];	/* "host/repo:tag" as fetched, for messages */
};

/*
 * The sources of the reference refstr, in the order to try them: for each
 * qualified name (refstr itself, or a short name's alias, or the name under
 * each unqualified search registry), its mirrors that may serve it, then
 * its registry. Refuses a blocked registry and a short name that matches
 * nothing, naming the file.
 */
int regconf_sources(const char *refstr, struct reg_source *src, unsigned int max,
		    unsigned int *n, char *why, size_t len);
/* Whether refstr is a short name (no registry host) that the configuration can resolve. */
bool regconf_short_resolves(const char *refstr);
/* reg_open() for a source: plain HTTP with plain_http or when it is insecure. */
int regconf_open(struct reg_client *c, const struct reg_source *s, bool plain_http, char *why,
		 size_t len);

#endif /* OVBD_REGCONF_H */
