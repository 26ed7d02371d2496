// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: a stack of LSMT layers, merged; the userspace reference reader. */
#include "stack.h"
#include "util.h"

bool stack_ignore_chain;

static bool uuid_set(const char *u)
{
	return u[0] && strcmp(u, "00000000-0000-0000-0000-000000000000");
}

int stack_check_chain(char **paths, const char *const *uuid, const char *const *parent,
		      unsigned int n, char *why, size_t len)
{
	unsigned int i;

	if (stack_ignore_chain)
		return 0;
	/*
	 * The bottom layer's parent, when set, names a layer outside the stack
	 * (a qcow2 import through overlaybd-create with a parent): upstream
	 * opens such a stack, and so does ovbd. Naming a layer inside it, the
	 * bottom layer is out of order.
	 */
	for (i = 1; uuid_set(parent[0]) && i < n; i++)
		if (uuid_set(uuid[i]) && !strcasecmp(parent[0], uuid[i]))
			return failf(why, len, "layer 0: %s: parent_uuid %s is the uuid of layer %u (%s): layers out of order (bottom first; --ignore-chain to map them anyway)",
				     paths[0], parent[0], i, paths[i]);
	for (i = 1; i < n; i++)
		if (uuid_set(parent[i]) && uuid_set(uuid[i - 1]) && strcasecmp(parent[i], uuid[i - 1]))
			return failf(why, len, "layer %u: %s: parent_uuid %s is not the uuid %s of layer %u (%s): layers missing or out of order (bottom first; --ignore-chain to map them anyway)",
				     i, paths[i], parent[i], uuid[i - 1], i - 1, paths[i - 1]);
	return 0;
}

int stack_open(struct stack *s, char **paths, unsigned int n, char *why, size_t len)
{
	struct ovbd_merge_src *src;
	struct ovbd_err e = { 0 };
	const char **u, **pu;
	void *scratch;
	unsigned int i;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (!n || n > OVBD_LSMT_MAX_LAYERS)
		return failu(why, len, "a stack has 1..255 layers, not %u", n);
	s->layers = xcalloc(n, sizeof(*s->layers));
	src = xcalloc(n, sizeof(*src));
	u = xcalloc(n, sizeof(*u));
	pu = xcalloc(n, sizeof(*pu));
	for (i = 0; i < n; i++) {
		struct blob *b = &s->layers[i];

		s->n = i + 1;	/* what stack_close() closes */
		if (blob_open(b, paths[i]) || blob_open_lsmt(b) || blob_load_index(b)) {
			failf(why, len, "layer %u: %s", i, b->why);
			goto out;
		}
		src[i].segs = b->segs;
		src[i].n = b->layer.nsegs;
		if (b->layer.tail.virtual_size)
			s->virtual_size = b->layer.tail.virtual_size;
		u[i] = b->layer.tail.uuid;
		pu[i] = b->layer.tail.parent_uuid;
	}
	if (stack_check_chain(paths, u, pu, n, why, len))
		goto out;
	scratch = xmalloc(ovbd_lsmt_merge_scratch_bytes(n));
	if (!ovbd_lsmt_merge(src, n, scratch, NULL, 0, &s->nmerged, &e)) {
		s->merged = xcalloc(s->nmerged, sizeof(*s->merged));
		if (!ovbd_lsmt_merge(src, n, scratch, s->merged, s->nmerged, &s->nmerged, &e))
			ret = 0;
	}
	free(scratch);
	if (ret) {
		char buf[256];

		failf(why, len, "%s: %s", paths[0], ovbd_err_text(&e, buf, sizeof(buf)));
	}
out:
	free(u);
	free(pu);
	free(src);
	if (ret)
		stack_close(s);
	return ret;
}

int stack_read(struct stack *s, u64 off, u8 *buf, size_t len, char *why, size_t wlen)
{
	u64 sector = off >> 9, left = len >> 9;

	if (len & 511) {	/* a virtual_size's last, partial sector: read whole, keep the head */
		u8 last[512];

		if (stack_read(s, off + (len & ~(size_t)511), last, sizeof(last), why, wlen))
			return -1;
		memcpy(buf + (len & ~(size_t)511), last, len & 511);
	}
	while (left) {
		struct ovbd_piece p;
		size_t bytes;

		ovbd_lsmt_lookup(s->merged, s->nmerged, sector, left, &p);
		bytes = (size_t)(p.sectors << 9);
		if (p.kind == OVBD_PIECE_DATA) {
			struct blob *b = &s->layers[p.layer];

			if (blob_read(b, p.moffset << 9, buf, bytes))
				return failf(why, wlen, "layer %u: %s", p.layer, b->why);
		} else {
			memset(buf, 0, bytes);
		}
		buf += bytes;
		sector += p.sectors;
		left -= p.sectors;
	}
	return 0;
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
