// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: 1-4 LSMT layers (the input split evenly), indexes, merge and lookup. */
#include <ovbd/lsmt.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static int load(const u8 *d, size_t n, struct ovbd_lsmt_layer *l, struct ovbd_seg **segs)
{
	struct ovbd_err e;

	*segs = NULL;
	if (n < 2 * OVBD_LSMT_HDR_SIZE ||
	    ovbd_lsmt_open(l, d, d + n - OVBD_LSMT_HDR_SIZE, n, &e))
		return -1;
	if (l->tail.index_offset + l->tail.index_size * OVBD_LSMT_ENTRY_SIZE >
	    n - OVBD_LSMT_HDR_SIZE)
		__builtin_trap();
	*segs = malloc(l->tail.index_size * sizeof(**segs) + 1);
	ovbd_lsmt_index_begin(l, *segs, l->tail.index_size);
	if (ovbd_lsmt_index_feed(l, d + l->tail.index_offset, l->tail.index_size, &e) ||
	    ovbd_lsmt_index_end(l, &e))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct ovbd_lsmt_layer l[4];
	struct ovbd_merge_src src[4];
	struct ovbd_seg *segs[4] = { 0 }, *merged = NULL;
	unsigned int n, i;
	u64 scratch[4 * 3];	/* ovbd_lsmt_merge_scratch_bytes(4), u64-aligned */
	struct ovbd_err e;
	u64 count, c2, s, end = 0;
	size_t part;

	if (size < 1)
		return 0;
	n = 1 + data[0] % 4;
	part = (size - 1) / n;
	for (i = 0; i < n; i++) {
		if (load(data + 1 + i * part, part, &l[i], &segs[i]))
			goto out;
		src[i].segs = segs[i];
		src[i].n = l[i].nsegs;
		if (l[i].nsegs && ovbd_seg_end(&segs[i][l[i].nsegs - 1]) > end)
			end = ovbd_seg_end(&segs[i][l[i].nsegs - 1]);
	}
	if (ovbd_lsmt_merge(src, n, scratch, NULL, 0, &count, &e))
		__builtin_trap();
	merged = malloc((count + 1) * sizeof(*merged));
	if (ovbd_lsmt_merge(src, n, scratch, merged, count, &c2, &e) || c2 != count)
		__builtin_trap();
	for (s = 0; s < end;) {
		struct ovbd_piece p;

		ovbd_lsmt_lookup(merged, count, s, end - s, &p);
		if (!p.sectors || p.sectors > end - s || (p.kind != OVBD_PIECE_HOLE && p.layer >= n))
			__builtin_trap();
		if (p.kind == OVBD_PIECE_DATA &&
		    (p.moffset < 8 || p.moffset + p.sectors > l[p.layer].data_end))
			__builtin_trap();
		if (p.kind != OVBD_PIECE_HOLE) {	/* a joined piece's last sector says the same alone */
			struct ovbd_piece q;

			ovbd_lsmt_lookup(merged, count, s + p.sectors - 1, 1, &q);
			if (q.kind != p.kind || q.layer != p.layer ||
			    (p.kind == OVBD_PIECE_DATA && q.moffset != p.moffset + p.sectors - 1))
				__builtin_trap();
		}
		s += p.sectors;
	}
out:
	for (i = 0; i < n; i++)
		free(segs[i]);
	free(merged);
	return 0;
}
