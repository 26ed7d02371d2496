// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: the device-mapper tables that map a stack of layer blobs. */
#include "commands.h"
#include "dmplan.h"
#include "stack.h"
#include "util.h"

void dmplan_zfile_name(char *out, size_t len, const char *name, unsigned int i)
{
	snprintf(out, len, "%s-z%03u", name, i);
}

static void probe_layer(struct dmplan_layer *l, const char *path, unsigned int i,
			unsigned int n)
{
	struct blob b;
	u64 rem;

	if (blob_open(&b, path))
		die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why);
	l->lsmt = content_is_lsmt(&b);
	if (l->lsmt && blob_open_lsmt(&b))
		die(EXIT_BAD_INPUT, "layer %u: %s", i, b.why);
	l->zfile = b.zfile;
	if (l->zfile && !b.content_size)
		die(EXIT_BAD_INPUT, "layer %u: %s: empty ZFile: nothing to map "
		    "(device-mapper devices have at least one sector)", i, path);
	if (!l->lsmt && !(n == 1 && l->zfile))
		die(EXIT_BAD_INPUT, "layer %u: %s: expected an LSMT layer", i, path);
	l->file_size = b.file_size;
	l->content_size = b.content_size;
	l->virtual_size = l->lsmt ? b.layer.tail.virtual_size : 0;
	if (l->lsmt) {
		snprintf(l->uuid, sizeof(l->uuid), "%s", b.layer.tail.uuid);
		snprintf(l->parent, sizeof(l->parent), "%s", b.layer.tail.parent_uuid);
	}
	rem = b.file_size % DMPLAN_SECTOR;
	l->tail = l->zfile && !b.zf.from_header && rem > DMPLAN_SECTOR - OVBD_ZF_FIELDS_SIZE;
	if (l->tail)		/* tail_sector is zeroed by dmplan_probe() */
		pread_full(b.fd, l->tail_sector, rem, b.file_size - rem, path);
	blob_close(&b);
}

void dmplan_probe(struct dm_plan *p, const char *name, char **blobs, unsigned int n)
{
	unsigned int i;

	if (strlen(name) + 5 >= DMPLAN_NAME_MAX || strchr(name, '/'))
		die(EXIT_USAGE, "NAME: expected at most %d characters and no '/'",
		    DMPLAN_NAME_MAX - 6);
	if (!n || n > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "a stack has 1..255 layers, not %u", n);
	memset(p, 0, sizeof(*p));
	p->nlayers = n;
	for (i = 0; i < n; i++)
		probe_layer(&p->layer[i], blobs[i], i, n);
	if (p->layer[0].lsmt) {
		const char *u[OVBD_LSMT_MAX_LAYERS], *pu[OVBD_LSMT_MAX_LAYERS];

		for (i = 0; i < n; i++) {
			u[i] = p->layer[i].uuid;
			pu[i] = p->layer[i].parent;
		}
		stack_check_chain(blobs, u, pu, n);
	}
}

static struct dm_dev_plan *plan_add(struct dm_plan *p, const char *name)
{
	struct dm_dev_plan *d = &p->dev[p->n++];

	snprintf(d->name, sizeof(d->name), "%s", name);
	d->table = xmalloc(DMPLAN_TABLE_MAX);
	return d;
}

void dmplan_render(struct dm_plan *p, const char *name, char **devs)
{
	char lsmt_args[DMPLAN_TABLE_MAX - 32] = "", zname[DMPLAN_NAME_MAX];
	size_t used = 0;
	u64 vsize = 0;
	unsigned int i;

	dmplan_free(p);
	for (i = 0; i < p->nlayers; i++) {
		const struct dmplan_layer *l = &p->layer[i];

		dmplan_zfile_name(zname, sizeof(zname), name, i);
		if (l->zfile)
			snprintf(plan_add(p, l->lsmt ? zname : name)->table, DMPLAN_TABLE_MAX,
				 "0 %llu zfile %s %llu",
				 (unsigned long long)((l->content_size + 511) >> 9), devs[i],
				 (unsigned long long)l->file_size);
		if (!l->lsmt)
			return;		/* a single standalone ZFile */
		if (l->virtual_size)
			vsize = l->virtual_size;
		used += (size_t)snprintf(lsmt_args + used, sizeof(lsmt_args) - used,
					 " %s%s %llu", l->zfile ? "/dev/mapper/" : "",
					 l->zfile ? zname : devs[i],
					 (unsigned long long)(l->zfile ? l->content_size : l->file_size));
		if (used >= sizeof(lsmt_args))
			die(EXIT_USAGE, "device paths too long for one table");
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
