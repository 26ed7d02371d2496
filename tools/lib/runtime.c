// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd: an image's OCI runtime config (runtime.h). The user is looked up
 * with glibc's own parsers of passwd(5) and group(5) (fgetpwent,
 * fgetgrent) on files opened inside the image's root.
 */
#define _GNU_SOURCE
#include "runtime.h"
#include "ext4img.h"
#include "oci.h"
#include "pull.h"
#include "registry.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RUNTIME_SPEC_VERSION	"1.0.2"
#define RUNTIME_MAX_GIDS	64

static const char *const runtime_default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=xterm",
};
static const char *const runtime_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
static const char *const runtime_masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
};
static const char *const runtime_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* ---- JSON helpers */

static struct json_object *runtime_strings(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *runtime_mount(const char *dest, const char *type, const char *src,
					 const char *opts)
{
	struct json_object *m = json_object_new_object(), *o = json_object_new_array();
	char buf[256], *save = NULL, *tok;

	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(o, json_object_new_string(tok));
	json_object_object_add(m, "options", o);
	return m;
}

/* The image config's "config" member's key, or NULL. */
static struct json_object *runtime_field(struct json_object *ic, const char *key)
{
	struct json_object *c, *v;

	if (!json_object_object_get_ex(ic, "config", &c) || !json_object_is_type(c, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(c, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* ---- the user, as runc's libcontainer/user resolves it (and umoci with it) */

struct runtime_user {
	unsigned int uid, gid, ngids;
	unsigned int gids[RUNTIME_MAX_GIDS];
	char home[512];
};

/* root/rel opened inside root: NULL and errno set (ENOENT when absent). */
static FILE *runtime_open_in(const char *root, const char *rel)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int dfd, fd, e;
	FILE *f;

	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	e = errno;
	close(dfd);
	if (fd < 0) {
		errno = e;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

/* etc/passwd or etc/group of the image: from its root file system, or read from its stack. */
static FILE *runtime_image_file(const struct runtime_opts *o, const char *rel, char *why, size_t len,
				bool *err)
{
	char *buf;
	size_t n;
	FILE *f;
	int r;

	*err = false;
	if (o->rootfs)
		return runtime_open_in(o->rootfs, rel);
	if (!o->image)
		return NULL;
	r = ext4img_read_file(o->image, rel, &buf, &n, 16u << 20, why, len);
	if (r) {
		*err = r < 0;
		return NULL;
	}
	/* glibc's parsers read a FILE: the bytes in memory, as one */
	f = fmemopen(NULL, n + 1, "w+");
	if (f && (fwrite(buf, 1, n, f) != n || fseek(f, 0, SEEK_SET))) {
		fclose(f);
		f = NULL;
	}
	free(buf);
	return f;
}

/* A decimal id: true and *v when s is one. */
static bool runtime_id(const char *s, unsigned int *v)
{
	char *end;
	unsigned long n;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > 0xfffffffeUL)
		return false;
	*v = (unsigned int)n;
	return true;
}

static int runtime_resolve_user(const char *spec, const struct runtime_opts *o,
				struct runtime_user *u, char *why, size_t len)
{
	bool err, has_fs = o->rootfs || o->image;
	char user[256], *group = NULL, name[256] = "";
	unsigned int n;
	bool found = false, num;
	FILE *f;

	memset(u, 0, sizeof(*u));
	strcpy(u->home, "/");
	if (strlen(spec) >= sizeof(user))
		return failf(why, len, "image config: User \"%.40s...\" is too long", spec);
	snprintf(user, sizeof(user), "%s", spec);
	group = strchr(user, ':');
	if (group)
		*group++ = 0;
	if (!*user)
		strcpy(user, "0");
	num = runtime_id(user, &n);
	f = runtime_image_file(o, "etc/passwd", why, len, &err);
	if (err)
		return -1;
	if (!f && !num)
		return failf(why, len, "image config: User \"%s\": %s", spec,
			     has_fs ? "the image has no /etc/passwd to look the name up in" :
				      "a user given by name needs the image's root file system (--rootfs)");
	if (f) {
		struct passwd *pw;

		while ((pw = fgetpwent(f))) {
			if (num ? pw->pw_uid == n : !strcmp(pw->pw_name, user)) {
				u->uid = pw->pw_uid;
				u->gid = pw->pw_gid;
				snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir);
				snprintf(name, sizeof(name), "%s", pw->pw_name);
				found = true;
				break;
			}
		}
		fclose(f);
	}
	if (!found) {
		if (!num)
			return failf(why, len, "image config: User \"%s\": no user \"%s\" in the image's /etc/passwd",
				     spec, user);
		u->uid = n;
	}
	if (group && !*group)
		return failf(why, len, "image config: User \"%s\": an empty group", spec);
	f = runtime_image_file(o, "etc/group", why, len, &err);
	if (err)
		return -1;
	if (group) {
		bool gnum = runtime_id(group, &n), gfound = false;
		struct group *gr;

		while (f && (gr = fgetgrent(f))) {
			if (gnum ? gr->gr_gid == n : !strcmp(gr->gr_name, group)) {
				u->gid = gr->gr_gid;
				gfound = true;
				break;
			}
		}
		if (!gfound && !gnum) {
			if (f)
				fclose(f);
			return failf(why, len, "image config: User \"%s\": no group \"%s\" in the image's /etc/group",
				     spec, group);
		}
		if (!gfound)
			u->gid = n;
	} else if (found && f) {
		/* no group given: the groups that list the user as a member */
		struct group *gr;

		while ((gr = fgetgrent(f)) && u->ngids < RUNTIME_MAX_GIDS) {
			for (char **m = gr->gr_mem; m && *m; m++)
				if (!strcmp(*m, name)) {
					u->gids[u->ngids++] = gr->gr_gid;
					break;
				}
		}
	}
	if (f)
		fclose(f);
	return 0;
}

/* ---- the spec */

/* env: the defaults, each replaced by the image's entry of that name, then the image's others. */
static struct json_object *runtime_env(struct json_object *ic, const struct runtime_user *u)
{
	struct json_object *a = json_object_new_array(), *img = runtime_field(ic, "Env");
	size_t ndef = sizeof(runtime_default_env) / sizeof(runtime_default_env[0]);
	size_t ni = img && json_object_is_type(img, json_type_array) ? json_object_array_length(img) : 0;
	bool home = false;

	for (size_t d = 0; d < ndef; d++) {
		const char *def = runtime_default_env[d], *use = def;
		size_t kl = strcspn(def, "=") + 1;

		for (size_t i = 0; i < ni; i++) {
			const char *e = json_object_get_string(json_object_array_get_idx(img, i));

			if (e && !strncmp(e, def, kl))
				use = e;
		}
		json_object_array_add(a, json_object_new_string(use));
	}
	for (size_t i = 0; i < ni; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(img, i));
		bool dup = false;

		if (!e || !strchr(e, '='))
			continue;
		for (size_t d = 0; d < ndef; d++)
			dup |= !strncmp(e, runtime_default_env[d], strcspn(runtime_default_env[d], "=") + 1);
		home |= !strncmp(e, "HOME=", 5);
		if (!dup)
			json_object_array_add(a, json_object_new_string(e));
	}
	if (!home) {
		char h[600];

		snprintf(h, sizeof(h), "HOME=%s", u->home);
		json_object_array_add(a, json_object_new_string(h));
	}
	return a;
}

static int runtime_process(struct json_object *ic, const struct runtime_opts *o,
			   struct json_object *spec, char *why, size_t len)
{
	/* each object joins spec as it is made: spec's put frees all on a failure */
	struct json_object *p = json_object_new_object(), *args = json_object_new_array(), *v;
	struct json_object *user = json_object_new_object(), *caps, *rl, *rls;
	const char *spec_user = "", *cwd = "/";
	struct runtime_user u;
	static const char *const parts[] = { "Entrypoint", "Cmd" };

	json_object_object_add(spec, "process", p);
	json_object_object_add(p, "terminal", json_object_new_boolean(0));
	json_object_object_add(p, "args", args);
	if ((v = runtime_field(ic, "User")) && json_object_is_type(v, json_type_string))
		spec_user = json_object_get_string(v);
	json_object_object_add(p, "user", user);
	if (runtime_resolve_user(spec_user, o, &u, why, len))
		return -1;
	json_object_object_add(user, "uid", json_object_new_int64(u.uid));
	json_object_object_add(user, "gid", json_object_new_int64(u.gid));
	/* a user namespace that maps one gid cannot set other groups (umoci drops them too) */
	if (u.ngids && !o->rootless) {
		struct json_object *g = json_object_new_array();

		for (unsigned int i = 0; i < u.ngids; i++)
			json_object_array_add(g, json_object_new_int64(u.gids[i]));
		json_object_object_add(user, "additionalGids", g);
	}
	for (int k = 0; k < 2; k++) {
		if (!(v = runtime_field(ic, parts[k])))
			continue;
		if (!json_object_is_type(v, json_type_array))
			return failf(why, len, "image config: %s is not an array of strings", parts[k]);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *s = json_object_array_get_idx(v, i);

			if (!json_object_is_type(s, json_type_string))
				return failf(why, len, "image config: %s[%zu] is not a string", parts[k], i);
			json_object_array_add(args, json_object_get(s));
		}
	}
	if (!json_object_array_length(args))
		return failf(why, len, "image config: neither Entrypoint nor Cmd: nothing to run");
	json_object_object_add(p, "env", runtime_env(ic, &u));
	if ((v = runtime_field(ic, "WorkingDir")) && json_object_is_type(v, json_type_string) &&
	    *json_object_get_string(v))
		cwd = json_object_get_string(v);
	if (*cwd != '/')
		return failf(why, len, "image config: WorkingDir \"%s\" is not an absolute path", cwd);
	json_object_object_add(p, "cwd", json_object_new_string(cwd));
	caps = json_object_new_object();
	rl = json_object_new_object();
	rls = json_object_new_array();
	for (int k = 0; k < 4; k++)
		json_object_object_add(caps, (const char *[]){ "bounding", "effective", "permitted", "ambient" }[k],
				       runtime_strings(runtime_caps, 3));
	json_object_object_add(p, "capabilities", caps);
	json_object_object_add(rl, "type", json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(rl, "hard", json_object_new_int64(1024));
	json_object_object_add(rl, "soft", json_object_new_int64(1024));
	json_object_array_add(rls, rl);
	json_object_object_add(p, "rlimits", rls);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
	return 0;
}

static void runtime_mounts(struct json_object *ic, const struct runtime_opts *o,
			   struct json_object *spec)
{
	struct json_object *m = json_object_new_array(), *vol;
	const char *id = o->rootless ? "" : ",gid=5";
	char opts[128];

	json_object_array_add(m, runtime_mount("/proc", "proc", "proc", ""));
	json_object_array_add(m, runtime_mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	snprintf(opts, sizeof(opts), "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620%s", id);
	json_object_array_add(m, runtime_mount("/dev/pts", "devpts", "devpts", opts));
	json_object_array_add(m, runtime_mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_object_array_add(m, runtime_mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	if (o->rootless)	/* a user namespace cannot mount sysfs: bind the host's, read-only */
		json_object_array_add(m, runtime_mount("/sys", "none", "/sys", "rbind,nosuid,noexec,nodev,ro"));
	else
		json_object_array_add(m, runtime_mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_object_array_add(m, runtime_mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
	/* the image's Volumes: each a tmpfs, as umoci does (no data is copied up) */
	if ((vol = runtime_field(ic, "Volumes")) && json_object_is_type(vol, json_type_object)) {
		json_object_object_foreach(vol, path, val) {
			(void)val;
			if (*path == '/')
				json_object_array_add(m, runtime_mount(path, "tmpfs", "none",
								       "rw,nosuid,nodev,noexec,relatime"));
		}
	}
	json_object_object_add(spec, "mounts", m);
}

static void runtime_linux(const struct runtime_opts *o, struct json_object *spec)
{
	static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount" };
	struct json_object *l = json_object_new_object(), *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		struct json_object *n;

		if (o->rootless && !strcmp(ns[i], "network"))
			continue;	/* runc spec --rootless: the host's network */
		n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(ns[i]));
		json_object_array_add(a, n);
	}
	if (o->rootless) {
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "type", json_object_new_string("user"));
		json_object_array_add(a, n);
	}
	json_object_object_add(l, "namespaces", a);
	if (o->rootless) {
		for (int k = 0; k < 2; k++) {
			struct json_object *maps = json_object_new_array(), *e = json_object_new_object();

			json_object_object_add(e, "containerID", json_object_new_int64(0));
			json_object_object_add(e, "hostID", json_object_new_int64(k ? getegid() : geteuid()));
			json_object_object_add(e, "size", json_object_new_int64(1));
			json_object_array_add(maps, e);
			json_object_object_add(l, k ? "gidMappings" : "uidMappings", maps);
		}
	} else {	/* no device but those the runtime makes */
		struct json_object *r = json_object_new_object(), *d = json_object_new_array();
		struct json_object *rule = json_object_new_object();

		json_object_object_add(rule, "allow", json_object_new_boolean(0));
		json_object_object_add(rule, "access", json_object_new_string("rwm"));
		json_object_array_add(d, rule);
		json_object_object_add(r, "devices", d);
		json_object_object_add(l, "resources", r);
	}
	json_object_object_add(l, "maskedPaths",
			       runtime_strings(runtime_masked, sizeof(runtime_masked) / sizeof(runtime_masked[0])));
	json_object_object_add(l, "readonlyPaths",
			       runtime_strings(runtime_readonly, sizeof(runtime_readonly) / sizeof(runtime_readonly[0])));
	json_object_object_add(spec, "linux", l);
}

/* The image's fields and Labels, as the image-spec's conversion names them. */
static void runtime_annotations(struct json_object *ic, struct json_object *spec)
{
	struct json_object *a = json_object_new_object(), *v;
	static const char *const top[][2] = {
		{ "os", "org.opencontainers.image.os" },
		{ "architecture", "org.opencontainers.image.architecture" },
		{ "variant", "org.opencontainers.image.variant" },
		{ "author", "org.opencontainers.image.author" },
		{ "created", "org.opencontainers.image.created" },
	};

	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (json_object_object_get_ex(ic, top[i][0], &v) && json_object_is_type(v, json_type_string))
			json_object_object_add(a, top[i][1], json_object_new_string(json_object_get_string(v)));
	if ((v = runtime_field(ic, "StopSignal")) && json_object_is_type(v, json_type_string))
		json_object_object_add(a, "org.opencontainers.image.stopSignal",
				       json_object_new_string(json_object_get_string(v)));
	if ((v = runtime_field(ic, "ExposedPorts")) && json_object_is_type(v, json_type_object)) {
		char ports[2048] = "";
		size_t off = 0;

		json_object_object_foreach(v, port, val) {
			(void)val;
			off += (size_t)snprintf(ports + off, off < sizeof(ports) ? sizeof(ports) - off : 0,
						"%s%s", off ? "," : "", port);
		}
		if (off < sizeof(ports))
			json_object_object_add(a, "org.opencontainers.image.exposedPorts", json_object_new_string(ports));
	}
	if ((v = runtime_field(ic, "Labels")) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val)
			if (json_object_is_type(val, json_type_string))
				json_object_object_add(a, key, json_object_new_string(json_object_get_string(val)));
	}
	json_object_object_add(spec, "annotations", a);
}

int runtime_config(struct json_object *ic, const struct runtime_opts *o, struct json_object **out,
		   char *why, size_t len)
{
	struct json_object *spec = json_object_new_object(), *root = json_object_new_object();

	*out = NULL;
	if (!json_object_is_type(ic, json_type_object)) {
		json_object_put(spec);
		json_object_put(root);
		return failf(why, len, "image config: not a JSON object");
	}
	json_object_object_add(spec, "ociVersion", json_object_new_string(RUNTIME_SPEC_VERSION));
	if (runtime_process(ic, o, spec, why, len)) {
		json_object_put(spec);
		json_object_put(root);
		return -1;
	}
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(root, "readonly", json_object_new_boolean(o->readonly_root));
	json_object_object_add(spec, "root", root);
	json_object_object_add(spec, "hostname", json_object_new_string("ovbd"));
	runtime_mounts(ic, o, spec);
	runtime_linux(o, spec);
	runtime_annotations(ic, spec);
	*out = spec;
	return 0;
}

struct json_object *runtime_image_config(const char *dir, const char *mdigest, char *why, size_t len)
{
	struct json_object *m = oci_read_json_blob(dir, mdigest, why, len), *c, *ic;
	const char *d;

	if (!m)
		return NULL;
	if (!json_object_object_get_ex(m, "config", &c) || !(d = oci_jstr(c, "digest"))) {
		json_object_put(m);
		failf(why, len, "manifest %s: no config descriptor", mdigest);
		return NULL;
	}
	ic = oci_read_json_blob(dir, d, why, len);
	json_object_put(m);
	return ic;
}

struct json_object *runtime_registry_config(const char *ref, bool plain, char *mdigest, char *why,
					    size_t len)
{
	struct json_object *man = NULL, *cd, *ic = NULL;
	struct reg_client c;
	struct oci_layout lay = { 0 };
	char tmp[PATH_MAX + 32], cdig[OCI_DIGEST_LEN + 1];
	const char *d;
	char *body = NULL;
	size_t n;
	uint64_t got;
	int64_t size;

	if (pull_open_manifest(ref, plain, &c, &man, &body, &n, mdigest, why, len))
		return NULL;
	if (!json_object_object_get_ex(man, "config", &cd) || !(d = oci_jstr(cd, "digest")) ||
	    !oci_digest_ok(d)) {
		failf(why, len, "%s: the manifest has no config descriptor", ref);
		goto out;
	}
	snprintf(cdig, sizeof(cdig), "%s", d);
	size = json_object_get_int64(json_object_object_get(cd, "size"));
	if (size <= 0 || size > (1 << 24)) {
		failf(why, len, "%s: config descriptor size %lld", ref, (long long)size);
		goto out;
	}
	if (oci_layout_open(&lay, ovbd_store(), why, len))
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/blobs/sha256/%s", lay.dir, cdig + 7);
	if (access(tmp, F_OK) &&
	    reg_get_blob(&c, cdig, (uint64_t)size, tmp, NULL, &got, why, len))
		goto out;
	ic = oci_read_json_blob(lay.dir, cdig, why, len);
out:
	oci_layout_close(&lay);
	json_object_put(man);
	free(body);
	reg_close(&c);
	return ic;
}

