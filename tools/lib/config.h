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

#endif /* OVBD_CONFIG_H */
