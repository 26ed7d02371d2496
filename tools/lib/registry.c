// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: a client of the OCI distribution API over libcurl (see registry.h). */
#include "registry.h"
#include "jsonfile.h"
#include "oci.h"
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX	(4u << 20)
#define AUTH_FILE_MAX	(1u << 20)
#define ACCEPT_MANIFESTS "Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

static bool ref_char(int c, const char *extra)
{
	return islower(c) || isdigit(c) || strchr(extra, c);
}

int reg_parse_ref(const char *s, struct reg_ref *r, char *why, size_t len)
{
	const char *slash = strchr(s, '/'), *at, *colon, *p;
	size_t hl;

	memset(r, 0, sizeof(*r));
	if (!slash || slash == s)
		goto bad;
	hl = (size_t)(slash - s);
	if (hl >= sizeof(r->host))
		goto bad;
	memcpy(r->host, s, hl);
	for (p = r->host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
			goto bad;
	p = slash + 1;
	at = strchr(p, '@');
	if (at) {
		if (strncmp(at + 1, "sha256:", 7) || strlen(at + 1) != 71)
			goto bad;
		snprintf(r->digest, sizeof(r->digest), "%s", at + 1);
		for (s = r->digest + 7; *s; s++)
			if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
				goto bad;
	}
	colon = strrchr(p, ':');
	if (colon && (at ? colon < at : true) && !strchr(colon, '/')) {
		size_t tl = (size_t)((at ? at : colon + strlen(colon)) - colon - 1);

		if (!tl || tl > REG_TAG_MAX)
			goto bad;
		memcpy(r->tag, colon + 1, tl);
		for (s = r->tag; *s; s++)
			if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
				goto bad;
	} else {
		colon = at ? at : p + strlen(p);
	}
	if (colon == p || (size_t)(colon - p) >= sizeof(r->repo))
		goto bad;
	memcpy(r->repo, p, (size_t)(colon - p));
	for (s = r->repo; *s; s++)
		if (!ref_char((unsigned char)*s, "._-/"))
			goto bad;
	if (!r->tag[0] && !r->digest[0])
		strcpy(r->tag, "latest");
	return 0;
bad:
	snprintf(why, len, "'%.200s': expected host[:port]/repository[:tag|@sha256:<64 hex>], with a lower-case repository",
		 s);
	return -1;
}

/* "auths" of one credential file: the base64 user:password for host, or NULL. */
static char *auth_from_file(const char *path, const char *host)
{
	struct json_object *root, *auths, *entry, *auth;
	char key[REG_HOST_MAX + 16], why[300];
	const char *keys[3];
	char *found = NULL;
	int i;

	if (access(path, R_OK))
		return NULL;
	root = json_file_object(path, AUTH_FILE_MAX, why, sizeof(why));
	if (!root)
		return NULL;
	snprintf(key, sizeof(key), "https://%s", host);
	keys[0] = host;
	keys[1] = key;
	keys[2] = NULL;
	if (json_object_object_get_ex(root, "auths", &auths))
		for (i = 0; keys[i] && !found; i++)
			if (json_object_object_get_ex(auths, keys[i], &entry) &&
			    json_object_object_get_ex(entry, "auth", &auth) &&
			    json_object_is_type(auth, json_type_string) &&
			    *json_object_get_string(auth))
				found = strdup(json_object_get_string(auth));
	json_object_put(root);
	return found;
}

static char *find_credentials(const char *host)
{
	char path[4096];
	const char *e;
	char *a = NULL;

	if ((e = getenv("REGISTRY_AUTH_FILE")) && (a = auth_from_file(e, host)))
		return a;
	if ((e = getenv("XDG_RUNTIME_DIR"))) {
		snprintf(path, sizeof(path), "%s/containers/auth.json", e);
		if ((a = auth_from_file(path, host)))
			return a;
	}
	if ((e = getenv("DOCKER_CONFIG"))) {
		snprintf(path, sizeof(path), "%s/config.json", e);
		if ((a = auth_from_file(path, host)))
			return a;
	}
	if ((e = getenv("HOME"))) {
		snprintf(path, sizeof(path), "%s/.docker/config.json", e);
		a = auth_from_file(path, host);
	}
	return a;
}

int reg_open(struct reg_client *c, const struct reg_ref *ref, bool plain_http,
	     char *why, size_t len)
{
	static bool inited;
	bool local = !strncmp(ref->host, "localhost", 9) || !strncmp(ref->host, "127.0.0.1", 9);

	memset(c, 0, sizeof(*c));
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			snprintf(why, len, "libcurl: cannot initialise");
			return -1;
		}
		inited = true;
	}
	c->ref = *ref;
	snprintf(c->base, sizeof(c->base), "%s://%s", plain_http || local ? "http" : "https",
		 ref->host);
	c->basic = find_credentials(ref->host);
	c->timeout = 30;
	if (getenv("OVBD_REGISTRY_TIMEOUT"))
		c->timeout = strtol(getenv("OVBD_REGISTRY_TIMEOUT"), NULL, 10);
	return 0;
}

struct upload;
struct sink;
struct response;
static int perform(struct reg_client *c, const char *method, const char *url, const char *range,
		   const struct upload *up, struct sink *s, struct response *r, char *why, size_t len);

int reg_clone(struct reg_client *dst, const struct reg_client *src)
{
	*dst = *src;
	dst->basic = src->basic ? strdup(src->basic) : NULL;
	dst->bearer = src->bearer ? strdup(src->bearer) : NULL;
	return (src->basic && !dst->basic) || (src->bearer && !dst->bearer) ? -1 : 0;
}

void reg_close(struct reg_client *c)
{
	if (c->basic)
		memset(c->basic, 0, strlen(c->basic));
	free(c->basic);
	free(c->bearer);
	memset(c, 0, sizeof(*c));
}

/* ---- one request ---- */

struct sink {			/* the response body: into memory, or a file with hashing */
	char *buf;
	size_t n, cap, max;
	FILE *f;
	EVP_MD_CTX *md;
	uint64_t bytes;
	bool too_big;
	int werr;		/* errno of a failed write to the file */
	void (*progress)(void *arg, uint64_t bytes);
	void *progress_arg;
	const int *cancel;	/* stop when nonzero: another download of the command failed */
	const struct reg_tap *tap;
};

struct response {
	long status;
	char challenge[1024];	/* WWW-Authenticate */
	char location[2048];
	char content_type[256];
	char digest[80];	/* Docker-Content-Digest */
};

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct sink *s = arg;
	size_t n = sz * nm;

	if (s->f) {
		if (s->cancel && __atomic_load_n(s->cancel, __ATOMIC_RELAXED)) {
			s->werr = ECANCELED;
			return 0;
		}
		if (fwrite(p, 1, n, s->f) != n) {
			s->werr = errno ? errno : EIO;
			return 0;
		}
		if (s->md)
			EVP_DigestUpdate(s->md, p, n);
		if (s->tap && s->tap->data && s->tap->data(s->tap->arg, p, n)) {
			s->werr = EBADMSG;
			return 0;
		}
		s->bytes += n;
		if (s->progress)
			s->progress(s->progress_arg, n);
		return n;
	}
	if (s->n + n > s->max) {
		s->too_big = true;
		return 0;
	}
	if (s->n + n + 1 > s->cap) {
		size_t cap = (s->n + n + 1) * 2;
		char *b = realloc(s->buf, cap);

		if (!b)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->n, p, n);
	s->n += n;
	s->buf[s->n] = 0;
	return n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t k = strlen(name);

	if (n > k && !strncasecmp(line, name, k)) {
		const char *v = line + k;
		size_t vl = n - k;

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		snprintf(out, outlen, "%.*s", (int)vl, v);
	}
}

static size_t on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct response *r = arg;
	size_t n = sz * nm;

	header_value(p, n, "www-authenticate:", r->challenge, sizeof(r->challenge));
	header_value(p, n, "location:", r->location, sizeof(r->location));
	header_value(p, n, "content-type:", r->content_type, sizeof(r->content_type));
	header_value(p, n, "docker-content-digest:", r->digest, sizeof(r->digest));
	return n;
}

struct upload {
	FILE *f;		/* a file to PUT, or */
	const char *buf;	/* bytes to PUT */
	size_t n;
	const char *content_type;
	bool region;		/* PATCH bytes [off, off + len) of f (a chunk) */
	uint64_t off, len, sent;
};

static size_t read_region(char *p, size_t sz, size_t nm, void *arg)
{
	struct upload *up = arg;
	size_t want = sz * nm;
	ssize_t n;

	if (want > up->len - up->sent)
		want = (size_t)(up->len - up->sent);
	if (!want)
		return 0;
	n = pread(fileno(up->f), p, want, (off_t)(up->off + up->sent));
	if (n <= 0)
		return CURL_READFUNC_ABORT;
	up->sent += (uint64_t)n;
	return (size_t)n;
}

static int perform(struct reg_client *c, const char *method, const char *url, const char *range,
		   const struct upload *up, struct sink *s, struct response *r, char *why, size_t len)
{
	struct curl_slist *h = NULL;
	char auth[4096], ctype[300], errbuf[CURL_ERROR_SIZE] = "";
	struct sink discard = { .max = 1u << 20 };	/* bodies nobody reads */
	CURL *curl = curl_easy_init();
	FILE *mem = NULL;
	CURLcode rc;

	if (!curl) {
		snprintf(why, len, "libcurl: cannot make a handle");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	if (!s)
		s = &discard;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);	/* blobs redirect to storage */
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	/* a stall, not a slow link: fewer than 1 byte/s for the whole timeout */
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, c->timeout);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ovbd");
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->insecure) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (range)
		curl_easy_setopt(curl, CURLOPT_RANGE, range);
	/* into a file, only a 2xx body: a 401 or 404 body must not join a blob */
	if (s->f)
		curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
	h = curl_slist_append(h, ACCEPT_MANIFESTS);
	if (c->bearer)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->bearer);
	else if (c->basic)
		snprintf(auth, sizeof(auth), "Authorization: Basic %s", c->basic);
	if (c->bearer || c->basic)
		h = curl_slist_append(h, auth);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (!strcmp(method, "PATCH") && up && up->region) {
		char crange[80];

		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PATCH");
		((struct upload *)up)->sent = 0;
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_region);
		curl_easy_setopt(curl, CURLOPT_READDATA, up);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
		snprintf(crange, sizeof(crange), "Content-Range: %llu-%llu", (unsigned long long)up->off,
			 (unsigned long long)(up->off + up->len - 1));
		h = curl_slist_append(h, crange);
		h = curl_slist_append(h, "Content-Type: application/octet-stream");
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		if (up && up->f) {
			struct stat st;

			fstat(fileno(up->f), &st);
			rewind(up->f);
			curl_easy_setopt(curl, CURLOPT_READDATA, up->f);
			curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
		} else {
			mem = fmemopen((void *)(up && up->n ? up->buf : ""), up && up->n ? up->n : 1, "r");
			curl_easy_setopt(curl, CURLOPT_READDATA, mem);
			curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(up ? up->n : 0));
		}
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 up && up->content_type ? up->content_type : "application/octet-stream");
		h = curl_slist_append(h, ctype);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	if (mem)
		fclose(mem);
	free(discard.buf);
	memset(auth, 0, sizeof(auth));
	if (rc == CURLE_WRITE_ERROR && s && s->werr) {
		snprintf(why, len, "writing what %s sends: %s", url, strerror(s->werr));
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && s && s->too_big) {
		snprintf(why, len, "%s: larger than %zu bytes", url, s->max);
		return -1;
	}
	if (rc == CURLE_HTTP_RETURNED_ERROR && r->status >= 400)
		return 0;	/* the status is the answer; the caller judges it */
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s: %s%s%s", url, curl_easy_strerror(rc),
			 errbuf[0] ? ": " : "", errbuf);
		return -1;
	}
	return 0;
}

/* key="value" out of a Bearer challenge */
static void challenge_param(const char *ch, const char *key, char *out, size_t outlen)
{
	char pat[64];
	const char *p, *e;

	out[0] = 0;
	snprintf(pat, sizeof(pat), "%s=\"", key);
	p = strstr(ch, pat);
	if (!p)
		return;
	p += strlen(pat);
	e = strchr(p, '"');
	if (e)
		snprintf(out, outlen, "%.*s", (int)(e - p), p);
}

/* Answer a 401: Basic with the stored credentials, or fetch a Bearer token. */
static int authenticate(struct reg_client *c, const char *challenge, char *why, size_t len)
{
	char realm[1024], service[256], scope[512], url[2048];
	struct sink s = { .max = 1u << 20 };
	struct json_object *o, *t;
	struct response r;
	char *esc_s, *esc_sc;
	CURL *e;
	int ret = -1;

	if (!strncasecmp(challenge, "Basic", 5)) {
		if (!c->basic)
			snprintf(why, len, "%s: the registry asks for a user and password, and none is stored for %s (docker login, podman login or skopeo login write them)",
				 c->base, c->ref.host);
		return c->basic ? 0 : -1;
	}
	if (strncasecmp(challenge, "Bearer", 6)) {
		snprintf(why, len, "%s: unknown authentication scheme '%.40s'", c->base, challenge);
		return -1;
	}
	challenge_param(challenge, "realm", realm, sizeof(realm));
	challenge_param(challenge, "service", service, sizeof(service));
	challenge_param(challenge, "scope", scope, sizeof(scope));
	if (!scope[0])
		snprintf(scope, sizeof(scope), "repository:%s:pull,push", c->ref.repo);
	if (strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7)) {
		snprintf(why, len, "%s: a Bearer challenge without an http(s) realm", c->base);
		return -1;
	}
	e = curl_easy_init();
	esc_s = curl_easy_escape(e, service, 0);
	esc_sc = curl_easy_escape(e, scope, 0);
	snprintf(url, sizeof(url), "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
		 esc_s ? esc_s : "", esc_sc ? esc_sc : "");
	curl_free(esc_s);
	curl_free(esc_sc);
	curl_easy_cleanup(e);
	free(c->bearer);
	c->bearer = NULL;	/* the token request carries Basic, if anything */
	if (perform(c, "GET", url, NULL, NULL, &s, &r, why, len))
		goto out;
	if (r.status != 200) {
		snprintf(why, len, "%s: the token service answered HTTP %ld%s", realm, r.status,
			 r.status == 401 || r.status == 403 ? ": wrong or missing credentials" : "");
		goto out;
	}
	o = s.buf ? json_tokener_parse(s.buf) : NULL;
	if (o && (json_object_object_get_ex(o, "token", &t) ||
		  json_object_object_get_ex(o, "access_token", &t)) &&
	    json_object_is_type(t, json_type_string)) {
		c->bearer = strdup(json_object_get_string(t));
		ret = 0;
	} else {
		snprintf(why, len, "%s: the token service's answer has no token", realm);
	}
	json_object_put(o);
out:
	free(s.buf);
	return ret;
}

/* A request, answering one 401 challenge. */
static int request(struct reg_client *c, const char *method, const char *url, const char *range,
		   const struct upload *up, struct sink *s, struct response *r, char *why, size_t len)
{
	int ret = perform(c, method, url, range, up, s, r, why, len);

	/* once: a first challenge, or a token that expired since (authenticate drops it) */
	if (!ret && r->status == 401 && r->challenge[0]) {
		if (authenticate(c, r->challenge, why, len))
			return -1;
		if (s && !s->f)	/* a file got nothing of the 401 (CURLOPT_FAILONERROR) */
			s->n = 0;
		ret = perform(c, method, url, range, up, s, r, why, len);
	}
	if (!ret && (r->status == 401 || r->status == 403)) {
		snprintf(why, len, "%s: HTTP %ld: %s", url, r->status,
			 c->basic || c->bearer ? "the credentials are refused" : "authentication needed and no credentials stored");
		return -1;
	}
	return ret;
}

static void url_of(struct reg_client *c, char *url, size_t n, const char *kind, const char *ref)
{
	snprintf(url, n, "%s/v2/%s/%s/%s", c->base, c->ref.repo, kind, ref);
}

int reg_get_manifest(struct reg_client *c, const char *reference, char **body, size_t *n,
		     char *media_type, size_t mtlen, char *digest, char *why, size_t len)
{
	struct sink s = { .max = MANIFEST_MAX };
	EVP_MD_CTX *md;
	struct response r;
	char url[2048];

	*body = NULL;
	url_of(c, url, sizeof(url), "manifests", reference);
	if (request(c, "GET", url, NULL, NULL, &s, &r, why, len)) {
		free(s.buf);
		return -1;
	}
	if (r.status != 200) {
		snprintf(why, len, "%s/%s: HTTP %ld%s", c->ref.host, c->ref.repo, r.status,
			 r.status == 404 ? ": no such repository, tag or manifest" : "");
		free(s.buf);
		return -1;
	}
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, s.buf ? s.buf : "", s.n);
	oci_sha256_final(md, digest);
	EVP_MD_CTX_free(md);
	if (!strncmp(reference, "sha256:", 7) && strcmp(reference, digest)) {
		snprintf(why, len, "%s/%s@%s: the manifest's bytes hash to %s", c->ref.host,
			 c->ref.repo, reference, digest);
		free(s.buf);
		return -1;
	}
	snprintf(media_type, mtlen, "%.*s", (int)strcspn(r.content_type, ";"), r.content_type);
	*body = s.buf;
	*n = s.n;
	return 0;
}

int reg_get_blob(struct reg_client *c, const char *digest, uint64_t size, const char *path,
		 const struct reg_tap *tap, uint64_t *fetched, char *why, size_t len)
{
	char part[4096], url[2048], range[64], got[80];
	struct sink s = { 0 };
	struct response r;
	struct stat st;
	uint64_t have = 0;
	int ret = -1;

	*fetched = 0;
	s.progress = c->progress;
	s.progress_arg = c->progress_arg;
	s.cancel = c->cancel;
	s.tap = tap;
	snprintf(part, sizeof(part), "%s.partial", path);
	s.md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
	s.f = fopen(part, "a+");
	if (!s.f) {
		snprintf(why, len, "%s: %s", part, strerror(errno));
		goto out;
	}
	setvbuf(s.f, NULL, _IOFBF, 1u << 20);
	/* an earlier, interrupted download: hash what is there, fetch the rest */
	if (!fstat(fileno(s.f), &st) && st.st_size > 0 && (uint64_t)st.st_size < size) {
		char *buf = malloc(1u << 20);
		size_t k;

		rewind(s.f);
		while (buf && (k = fread(buf, 1, 1u << 20, s.f)) > 0) {
			EVP_DigestUpdate(s.md, buf, k);
			if (tap && tap->data && tap->data(tap->arg, buf, k)) {
				free(buf);
				snprintf(why, len, "%s: its partial download was refused", digest);
				goto out;
			}
		}
		if (!buf) {
			snprintf(why, len, "out of memory");
			goto out;
		}
		free(buf);
		have = (uint64_t)st.st_size;
	} else if (st.st_size) {
		if (ftruncate(fileno(s.f), 0))
			goto out;
	}
	fseek(s.f, 0, SEEK_END);
	url_of(c, url, sizeof(url), "blobs", digest);
	snprintf(range, sizeof(range), "%llu-", (unsigned long long)have);
	if (request(c, "GET", url, have ? range : NULL, NULL, &s, &r, why, len))
		goto out;
	if (have && r.status == 200) {	/* no Range support: the whole blob came again */
		snprintf(why, len, "%s: the registry ignored the resume request; fetch again", digest);
		fclose(s.f);
		s.f = NULL;
		unlink(part);
		goto out;
	}
	if (r.status != 200 && r.status != 206) {
		snprintf(why, len, "%s/%s blob %s: HTTP %ld%s", c->ref.host, c->ref.repo, digest,
			 r.status, r.status == 404 ? ": not in the registry" : "");
		goto out;
	}
	if (fflush(s.f) || fsync(fileno(s.f))) {
		snprintf(why, len, "%s: %s", part, strerror(errno));
		goto out;
	}
	*fetched = s.bytes;
	oci_sha256_final(s.md, got);
	if (have + s.bytes != size || strcmp(got, digest)) {
		snprintf(why, len, "blob %s: %llu bytes hashing to %s, expected %llu bytes with that digest: not stored",
			 digest, (unsigned long long)(have + s.bytes), got, (unsigned long long)size);
		fclose(s.f);
		s.f = NULL;
		unlink(part);
		goto out;
	}
	if (tap && tap->verdict && tap->verdict(tap->arg, why, len)) {
		fclose(s.f);
		s.f = NULL;
		unlink(part);
		goto out;
	}
	if (rename(part, path)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (s.f)
		fclose(s.f);
	EVP_MD_CTX_free(s.md);
	return ret;
}

int reg_has_blob(struct reg_client *c, const char *digest, bool *has, char *why, size_t len)
{
	struct response r;
	char url[2048];

	url_of(c, url, sizeof(url), "blobs", digest);
	if (request(c, "HEAD", url, NULL, NULL, NULL, &r, why, len))
		return -1;
	*has = r.status == 200;
	if (r.status != 200 && r.status != 404) {
		snprintf(why, len, "%s: HTTP %ld", url, r.status);
		return -1;
	}
	return 0;
}

/* An absolute upload URL from a Location header (which may be relative). */
static void location_url(struct reg_client *c, const char *location, char *loc, size_t n)
{
	if (strncmp(location, "http", 4))
		snprintf(loc, n, "%s%s", c->base, location);
	else
		snprintf(loc, n, "%s", location);
}

int reg_put_blob(struct reg_client *c, const char *digest, const char *path,
		 char *why, size_t len)
{
	struct upload up = { 0 };
	struct response r;
	char url[4096], loc[2400];
	uint64_t chunk = c->chunk_size, size;
	struct stat st;
	int ret = -1;

	snprintf(url, sizeof(url), "%s/v2/%s/blobs/uploads/", c->base, c->ref.repo);
	if (request(c, "POST", url, NULL, NULL, NULL, &r, why, len))
		return -1;
	if (r.status != 202 || !r.location[0]) {
		snprintf(why, len, "%s: HTTP %ld, expected 202 with a Location", url, r.status);
		return -1;
	}
	location_url(c, r.location, loc, sizeof(loc));
	up.f = fopen(path, "r");
	if (!up.f || fstat(fileno(up.f), &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		if (up.f)
			fclose(up.f);
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (chunk && size > chunk) {	/* chunked: a PATCH per chunk, then an empty PUT */
		for (up.off = 0; up.off < size; up.off += chunk) {
			up.region = true;
			up.len = size - up.off < chunk ? size - up.off : chunk;
			if (request(c, "PATCH", loc, NULL, &up, NULL, &r, why, len))
				goto out;
			if (r.status != 202 || !r.location[0]) {
				snprintf(why, len, "blob %s: the chunk at %llu answered HTTP %ld, expected 202",
					 digest, (unsigned long long)up.off, r.status);
				goto out;
			}
			location_url(c, r.location, loc, sizeof(loc));
		}
		fclose(up.f);
		memset(&up, 0, sizeof(up));	/* the PUT that closes the upload has no body */
	}
	snprintf(url, sizeof(url), "%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", digest);
	if (!request(c, "PUT", url, NULL, &up, NULL, &r, why, len)) {
		if (r.status == 201)
			ret = 0;
		else
			snprintf(why, len, "blob %s: upload answered HTTP %ld, expected 201", digest,
				 r.status);
	}
out:
	if (up.f)
		fclose(up.f);
	return ret;
}

int reg_put_manifest(struct reg_client *c, const char *reference, const char *body, size_t n,
		     const char *media_type, char *why, size_t len)
{
	struct upload up = { .buf = body, .n = n, .content_type = media_type };
	struct response r;
	char url[2048];

	url_of(c, url, sizeof(url), "manifests", reference);
	if (request(c, "PUT", url, NULL, &up, NULL, &r, why, len))
		return -1;
	if (r.status != 201) {
		snprintf(why, len, "%s: HTTP %ld, expected 201", url, r.status);
		return -1;
	}
	return 0;
}

int reg_auth_header(struct reg_client *c, const char *digest, char *out, size_t outlen,
		    char *why, size_t len)
{
	bool has;

	out[0] = 0;
	if (reg_has_blob(c, digest, &has, why, len))	/* answers any challenge */
		return -1;
	if (c->bearer)
		snprintf(out, outlen, "Authorization: Bearer %s", c->bearer);
	else if (c->basic)
		snprintf(out, outlen, "Authorization: Basic %s", c->basic);
	return 0;
}

int reg_open_insecure(struct reg_client *c, const struct reg_ref *ref, char *why, size_t len)
{
	char url[REG_HOST_MAX + 32], err[600];
	struct response r;

	if (reg_open(c, ref, false, why, len))
		return -1;
	if (!strncmp(c->base, "http://", 7))
		return 0;
	c->insecure = true;
	snprintf(url, sizeof(url), "%s/v2/", c->base);
	if (perform(c, "GET", url, NULL, NULL, NULL, &r, err, sizeof(err)))	/* no TLS there */
		snprintf(c->base, sizeof(c->base), "http://%s", ref->host);
	return 0;
}
