/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: the layer list of an overlaybd-tcmu config.v1.json. */
#ifndef OVBD_CONFIG_H
#define OVBD_CONFIG_H

#include <ovbd/lsmt.h>

struct image_config {
	unsigned int nlowers;
	char *lowers[OVBD_LSMT_MAX_LAYERS + 1];	/* blob paths, bottom first */
	char *result_file;			/* NULL when absent */
	bool has_upper;
};

/* Parse path; returns 0, or -1 with why set. */
int config_load(const char *path, struct image_config *c, char *why, size_t whylen);
void config_free(struct image_config *c);

/*
 * ovbd's own settings, the defaults of options: $OVBD_CONF, else
 * /etc/ovbd/ovbd.json, a JSON object; a missing file is all defaults.
 *   "require-verity": true   open, bundle and boot-time mapping refuse an
 *                            image whose layers lack dm-verity root hashes
 */
#define OVBD_CONF_DEFAULT	"/etc/ovbd/ovbd.json"
struct ovbd_settings {
	bool require_verity;
};
int settings_load(struct ovbd_settings *s, char *why, size_t len);

#endif /* OVBD_CONFIG_H */
