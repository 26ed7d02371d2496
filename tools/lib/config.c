// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: the layer list of an overlaybd-tcmu config.v1.json, read with json-c. */
#include "config.h"
#include "jsonfile.h"
#include "util.h"
#include <unistd.h>

#define CONFIG_MAX_BYTES	(1u << 20)

/* "file", or "dir" + "/overlaybd.commit", of one lowers[] element. */
static char *lower_path(struct json_object *o)
{
	struct json_object *v;
	char *p;

	if (json_object_object_get_ex(o, "file", &v) && json_object_is_type(v, json_type_string))
		return strdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "dir", &v) && json_object_is_type(v, json_type_string)) {
		p = xmalloc(strlen(json_object_get_string(v)) + sizeof("/overlaybd.commit"));
		sprintf(p, "%s/overlaybd.commit", json_object_get_string(v));
		return p;
	}
	return NULL;
}

int config_load(const char *path, struct image_config *c, char *why, size_t whylen)
{
	struct json_object *root, *lowers, *v;
	size_t i;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	root = json_file_object(path, CONFIG_MAX_BYTES, why, whylen);
	if (!root)
		return -1;
	if (!json_object_object_get_ex(root, "lowers", &lowers) ||
	    !json_object_is_type(lowers, json_type_array) || !json_object_array_length(lowers)) {
		snprintf(why, whylen, "%s: \"lowers\": expected an array of 1..%d layers",
			 path, OVBD_LSMT_MAX_LAYERS);
		goto out;
	}
	if (json_object_array_length(lowers) > OVBD_LSMT_MAX_LAYERS) {
		snprintf(why, whylen, "%s: \"lowers\": %zu layers, expected at most %d", path,
			 json_object_array_length(lowers), OVBD_LSMT_MAX_LAYERS);
		goto out;
	}
	for (i = 0; i < json_object_array_length(lowers); i++) {
		struct json_object *o = json_object_array_get_idx(lowers, i);
		char *p = json_object_is_type(o, json_type_object) ? lower_path(o) : NULL;

		if (!p) {
			snprintf(why, whylen, "%s: lowers[%zu]: expected an object with \"file\" or \"dir\"",
				 path, i);
			goto out;
		}
		c->lowers[c->nlowers++] = p;
	}
	if (json_object_object_get_ex(root, "resultFile", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(why, whylen, "%s: \"resultFile\": expected a string", path);
			goto out;
		}
		c->result_file = strdup(json_object_get_string(v));
	}
	c->has_upper = json_object_object_get_ex(root, "upper", &v) && !json_object_is_type(v, json_type_null);
	ret = 0;
out:
	if (ret)
		config_free(c);
	json_object_put(root);
	return ret;
}

void config_free(struct image_config *c)
{
	unsigned int i;

	for (i = 0; i < c->nlowers; i++)
		free(c->lowers[i]);
	free(c->result_file);
	memset(c, 0, sizeof(*c));
}

int settings_load(struct ovbd_settings *s, char *why, size_t len)
{
	const char *path = getenv("OVBD_CONF");
	struct json_object *root, *v;

	memset(s, 0, sizeof(*s));
	if (!path || !*path)
		path = OVBD_CONF_DEFAULT;
	if (access(path, F_OK))
		return 0;
	root = json_file_object(path, CONFIG_MAX_BYTES, why, len);
	if (!root)
		return -1;
	if (json_object_object_get_ex(root, "require-verity", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			json_object_put(root);
			return failf(why, len, "%s: \"require-verity\": expected true or false", path);
		}
		s->require_verity = json_object_get_boolean(v);
	}
	json_object_put(root);
	return 0;
}
