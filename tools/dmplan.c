// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: the device-mapper tables that map a stack of layer blobs. */
#include "commands.h"
#include "dmplan.h"
#include "util.h"

void dmplan_zfile_name(char *out, size_t len, const char *name, unsigned int i)
{
	snprintf(out, len, "%s-z%03u", name, i);
}

static struct dm_dev_plan *plan_add(struct dm_plan *p, const char *name)
{
	struct dm_dev_plan *d = &p->dev[p->n++];

	snprintf(d->name, sizeof(d->name), "%s", name);
	d->table = xmalloc(DMPLAN_TABLE_MAX);
	return d;
}

void dmplan_make(struct dm_plan *p, const char *name, char **blobs, char **devs,
		 unsigned int n)
{
	char lsmt_args[DMPLAN_TABLE_MAX] = "", zname[DMPLAN_NAME_MAX];
	size_t used = 0;
	u64 vsize = 0;
	unsigned int i;

	if (strlen(name) + 5 >= DMPLAN_NAME_MAX || strchr(name, '/'))
		die(EXIT_USAGE, "NAME: expected at most %d characters and no '/'",
		    DMPLAN_NAME_MAX - 6);
	if (!n || n > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "a stack has 1..255 layers, not %u", n);
	memset(p, 0, sizeof(*p));
	for (i = 0; i < n; i++) {
		struct blob b;
		bool lsmt;

		if (blob_open(&b, blobs[i]))
			die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why);
		lsmt = content_is_lsmt(&b);
		if (lsmt && blob_open_lsmt(&b))
			die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why);
		if (b.zfile && !b.content_size)
			die(EXIT_BAD_INPUT, "layer %u: %s: empty ZFile: nothing to map "
			    "(device-mapper devices have at least one sector)", i, blobs[i]);
		if (b.zfile) {
			struct dm_dev_plan *d;

			dmplan_zfile_name(zname, sizeof(zname), name, i);
			d = plan_add(p, n == 1 && !lsmt ? name : zname);
			snprintf(d->table, DMPLAN_TABLE_MAX, "0 %llu zfile %s %llu",
				 (unsigned long long)((b.content_size + 511) >> 9), devs[i],
				 (unsigned long long)b.file_size);
		}
		if (!lsmt) {
			if (n == 1 && b.zfile) {
				blob_close(&b);
				return;
			}
			die(EXIT_BAD_INPUT, "layer %u: %s: expected an LSMT layer", i, blobs[i]);
		}
		if (b.layer.tail.virtual_size)
			vsize = b.layer.tail.virtual_size;
		used += (size_t)snprintf(lsmt_args + used, sizeof(lsmt_args) - used,
					 " %s%s %llu", b.zfile ? "/dev/mapper/" : "",
					 b.zfile ? zname : devs[i],
					 (unsigned long long)(b.zfile ? b.content_size : b.file_size));
		if (used >= sizeof(lsmt_args))
			die(EXIT_USAGE, "device paths too long for one table");
		blob_close(&b);
	}
	snprintf(plan_add(p, name)->table, DMPLAN_TABLE_MAX, "0 %llu lsmt%s",
		 (unsigned long long)(vsize >> 9), lsmt_args);
}

void dmplan_free(struct dm_plan *p)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		free(p->dev[i].table);
	p->n = 0;
}
