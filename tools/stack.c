// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: a stack of LSMT layers, merged; the userspace reference reader. */
#include "stack.h"
#include "util.h"

bool stack_ignore_chain;

static bool uuid_set(const char *u)
{
	return u[0] && strcmp(u, "00000000-0000-0000-0000-000000000000");
}

void stack_check_chain(char **paths, const char *const *uuid, const char *const *parent,
		       unsigned int n)
{
	unsigned int i;

	if (stack_ignore_chain)
		return;
	if (uuid_set(parent[0]))
		die(EXIT_BAD_INPUT, "layer 0: %s: parent_uuid %s is set, so a lower layer is missing (give every layer, bottom first, or --ignore-chain)",
		    paths[0], parent[0]);
	for (i = 1; i < n; i++)
		if (uuid_set(parent[i]) && uuid_set(uuid[i - 1]) && strcasecmp(parent[i], uuid[i - 1]))
			die(EXIT_BAD_INPUT, "layer %u: %s: parent_uuid %s is not the uuid %s of layer %u (%s): layers missing or out of order (bottom first; --ignore-chain to map them anyway)",
			    i, paths[i], parent[i], uuid[i - 1], i - 1, paths[i - 1]);
}

void stack_open(struct stack *s, char **paths, unsigned int n)
{
	struct ovbd_merge_src *src;
	struct ovbd_err e = { 0 };
	void *scratch;
	unsigned int i;

	if (!n || n > OVBD_LSMT_MAX_LAYERS)
		die(EXIT_USAGE, "a stack has 1..255 layers, not %u", n);
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->layers = xcalloc(n, sizeof(*s->layers));
	src = xcalloc(n, sizeof(*src));
	for (i = 0; i < n; i++) {
		struct blob *b = &s->layers[i];

		if (blob_open(b, paths[i]) || blob_open_lsmt(b) || blob_load_index(b))
			die(EXIT_BAD_INPUT, "layer %u: %s", i, b->why);
		src[i].segs = b->segs;
		src[i].n = b->layer.nsegs;
		if (b->layer.tail.virtual_size)
			s->virtual_size = b->layer.tail.virtual_size;
	}
	{
		const char **u = xcalloc(n, sizeof(*u)), **pu = xcalloc(n, sizeof(*pu));

		for (i = 0; i < n; i++) {
			u[i] = s->layers[i].layer.tail.uuid;
			pu[i] = s->layers[i].layer.tail.parent_uuid;
		}
		stack_check_chain(paths, u, pu, n);
		free(u);
		free(pu);
	}
	scratch = xmalloc(ovbd_lsmt_merge_scratch_bytes(n));
	if (ovbd_lsmt_merge(src, n, scratch, NULL, 0, &s->nmerged, &e))
		die_err(paths[0], &e);
	s->merged = xcalloc(s->nmerged, sizeof(*s->merged));
	if (ovbd_lsmt_merge(src, n, scratch, s->merged, s->nmerged, &s->nmerged, &e))
		die_err(paths[0], &e);
	free(scratch);
	free(src);
}

void stack_read(struct stack *s, u64 off, u8 *buf, size_t len)
{
	u64 sector = off >> 9, left = len >> 9;

	while (left) {
		struct ovbd_piece p;
		size_t bytes;

		ovbd_lsmt_lookup(s->merged, s->nmerged, sector, left, &p);
		bytes = (size_t)(p.sectors << 9);
		if (p.kind == OVBD_PIECE_DATA) {
			struct blob *b = &s->layers[p.layer];

			if (blob_read(b, p.moffset << 9, buf, bytes))
				die(EXIT_BAD_INPUT, "layer %u: %s", p.layer, b->why);
		} else {
			memset(buf, 0, bytes);
		}
		buf += bytes;
		sector += p.sectors;
		left -= p.sectors;
	}
}

void stack_close(struct stack *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		blob_close(&s->layers[i]);
	free(s->layers);
	free(s->merged);
	memset(s, 0, sizeof(*s));
}
