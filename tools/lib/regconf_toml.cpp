// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: the one C++ file. It reads a containers-registries.conf(5) file
 * with tomlplusplus and fills the C struct regconf (regconf.h); nothing
 * else of ovbd sees C++. Exceptions never cross the C interface.
 */
#include <cstdio>
#include <cstring>
#include <string>
#include <toml++/toml.h>

extern "C" {
#include "regconf.h"
}

namespace {

struct bad : std::exception {
	std::string what_;
	explicit bad(std::string w) : what_(std::move(w)) {}
	const char *what() const noexcept override { return what_.c_str(); }
};

void copy(char *dst, size_t n, const std::string &s, const std::string &what)
{
	if (s.size() >= n)
		throw bad(what + ": longer than " + std::to_string(n - 1) + " characters");
	std::memcpy(dst, s.c_str(), s.size() + 1);
}

std::string str(const toml::table &t, const char *key, const std::string &where, bool *present)
{
	const toml::node *n = t.get(key);

	*present = n != nullptr;
	if (!n)
		return "";
	if (!n->is_string())
		throw bad(where + "." + key + ": a string expected");
	return n->as_string()->get();
}

bool boolean(const toml::table &t, const char *key, const std::string &where)
{
	const toml::node *n = t.get(key);

	if (!n)
		return false;
	if (!n->is_boolean())
		throw bad(where + "." + key + ": true or false expected");
	return n->as_boolean()->get();
}

enum regconf_pull pull_mode(const toml::table &t, const std::string &where)
{
	bool present;
	std::string v = str(t, "pull-from-mirror", where, &present);

	if (!present || v == "all")
		return REGCONF_PULL_ALL;
	if (v == "digest-only")
		return REGCONF_PULL_DIGEST_ONLY;
	if (v == "tag-only")
		return REGCONF_PULL_TAG_ONLY;
	throw bad(where + ".pull-from-mirror: \"" + v + "\" is none of all, digest-only, tag-only");
}

void read_registry(const toml::table &t, struct regconf *c, unsigned int idx)
{
	std::string where = "[[registry]] " + std::to_string(idx + 1);
	struct regconf_registry r;
	bool has_loc, has_prefix;
	std::string loc = str(t, "location", where, &has_loc);
	std::string prefix = str(t, "prefix", where, &has_prefix);
	unsigned int i;

	std::memset(&r, 0, sizeof(r));
	if (!has_loc && !has_prefix)
		throw bad(where + ": neither location nor prefix");
	if (has_prefix && prefix.empty())
		throw bad(where + ".prefix: empty");
	copy(r.location, sizeof(r.location), loc, where + ".location");
	copy(r.prefix, sizeof(r.prefix), has_prefix ? prefix : loc, where + ".prefix");
	if (!has_loc && prefix.rfind("*.", 0) != 0)
		copy(r.location, sizeof(r.location), prefix, where + ".location");
	r.insecure = boolean(t, "insecure", where);
	r.blocked = boolean(t, "blocked", where);
	r.digest_only = boolean(t, "mirror-by-digest-only", where);
	if (const toml::node *m = t.get("mirror")) {
		const toml::array *a = m->as_array();

		if (!a)
			throw bad(where + ".mirror: an array of tables ([[registry.mirror]]) expected");
		for (const toml::node &e : *a) {
			std::string mw = where + " mirror " + std::to_string(r.nmirrors + 1);
			const toml::table *mt = e.as_table();
			bool present;

			if (!mt)
				throw bad(mw + ": a table expected");
			if (r.nmirrors == REGCONF_MAX_MIRRORS)
				throw bad(where + ": more than " + std::to_string(REGCONF_MAX_MIRRORS) + " mirrors");
			struct regconf_mirror *mm = &r.mirror[r.nmirrors++];
			std::string ml = str(*mt, "location", mw, &present);
			if (!present || ml.empty())
				throw bad(mw + ": no location");
			copy(mm->location, sizeof(mm->location), ml, mw + ".location");
			mm->insecure = boolean(*mt, "insecure", mw);
			mm->pull = pull_mode(*mt, mw);
		}
	}
	/* a later file's registry of the same prefix replaces the earlier one */
	for (i = 0; i < c->nreg; i++)
		if (!std::strcmp(c->reg[i].prefix, r.prefix))
			break;
	if (i == c->nreg) {
		if (c->nreg == REGCONF_MAX_REGISTRIES)
			throw bad("more than " + std::to_string(REGCONF_MAX_REGISTRIES) + " [[registry]] tables");
		c->nreg++;
	}
	c->reg[i] = r;
}

void read_all(const toml::table &root, struct regconf *c)
{
	if (const toml::node *n = root.get("unqualified-search-registries")) {
		const toml::array *a = n->as_array();

		if (!a)
			throw bad("unqualified-search-registries: an array of strings expected");
		c->has_search = true;
		c->nsearch = 0;
		for (const toml::node &e : *a) {
			if (!e.is_string())
				throw bad("unqualified-search-registries: an array of strings expected");
			if (c->nsearch == REGCONF_MAX_SEARCH)
				throw bad("unqualified-search-registries: more than " + std::to_string(REGCONF_MAX_SEARCH));
			copy(c->search[c->nsearch++], sizeof(c->search[0]), e.as_string()->get(),
			     "unqualified-search-registries");
		}
	}
	if (const toml::node *n = root.get("registry")) {
		const toml::array *a = n->as_array();
		unsigned int i = 0;

		if (!a)
			throw bad("registry: an array of tables ([[registry]]) expected");
		for (const toml::node &e : *a) {
			if (!e.as_table())
				throw bad("[[registry]] " + std::to_string(i + 1) + ": a table expected");
			read_registry(*e.as_table(), c, i++);
		}
	}
	if (const toml::node *n = root.get("aliases")) {
		const toml::table *t = n->as_table();

		if (!t)
			throw bad("aliases: a table expected");
		for (auto &&[k, v] : *t) {
			std::string key(k.str());
			unsigned int i;

			if (!v.is_string())
				throw bad("aliases.\"" + key + "\": a string expected");
			for (i = 0; i < c->nalias; i++)
				if (key == c->alias[i][0])
					break;
			if (i == c->nalias) {
				if (c->nalias == REGCONF_MAX_ALIASES)
					throw bad("more than " + std::to_string(REGCONF_MAX_ALIASES) + " aliases");
				c->nalias++;
			}
			copy(c->alias[i][0], sizeof(c->alias[i][0]), key, "alias");
			copy(c->alias[i][1], sizeof(c->alias[i][1]), v.as_string()->get(), "aliases.\"" + key + "\"");
		}
	}
}

} // namespace

extern "C" int regconf_parse_toml(const char *path, struct regconf *c, char *why, size_t len)
{
	try {
		toml::table root = toml::parse_file(path);

		read_all(root, c);
		return 0;
	} catch (const toml::parse_error &e) {
		const toml::source_position &p = e.source().begin;

		std::snprintf(why, len, "%s:%u:%u: %s", path, (unsigned int)p.line, (unsigned int)p.column,
			      std::string(e.description()).c_str());
	} catch (const bad &e) {
		std::snprintf(why, len, "%s: %s", path, e.what());
	} catch (const std::exception &e) {
		std::snprintf(why, len, "%s: %s", path, e.what());
	}
	return -1;
}
