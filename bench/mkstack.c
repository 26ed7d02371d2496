// SPDX-License-Identifier: GPL-2.0-only
/*
 * mkstack: NLAYERS synthetic LSMT layers of NSEGS one-sector segments each,
 * layer l mapping sectors l, l + NLAYERS, l + 2 NLAYERS, ... so that the
 * merged index keeps every segment: the worst case for the lsmt ctr.
 * Usage: mkstack DIR NLAYERS NSEGS
 */
#include <ovbd/lsmt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned int nl, l;
	u64 ns, i, nidx, vsize;
	u8 hdr[OVBD_LSMT_HDR_SIZE], *idx;

	if (argc != 4)
		return fprintf(stderr, "usage: mkstack DIR NLAYERS NSEGS\n"), 2;
	nl = (unsigned int)atoi(argv[2]);
	ns = strtoull(argv[3], NULL, 10);
	nidx = (ns + 255) & ~255ull;
	vsize = (u64)nl * ns * 512;
	idx = calloc(nidx, OVBD_LSMT_ENTRY_SIZE);
	for (l = 0; l < nl; l++) {
		struct ovbd_lsmt_hdr h = { .struct_size = 390, .version = 1, .sub_version = 1 };
		char path[4096];
		FILE *f;

		for (i = 0; i < nidx; i++) {
			struct ovbd_seg s = i < ns ? ovbd_seg_make(l + i * nl, 1, 8, false, 0) :
						     ovbd_seg_make(OVBD_LSMT_INVALID, 0, 0, false, 0);

			ovbd_lsmt_encode_entry(&s, idx + i * OVBD_LSMT_ENTRY_SIZE);
		}
		snprintf(path, sizeof(path), "%s/layer%03u", argv[1], l);
		f = fopen(path, "w");
		if (!f)
			return perror(path), 1;
		h.virtual_size = vsize;
		snprintf(h.uuid, sizeof(h.uuid), "00000000-0000-4000-8000-%012u", l);
		h.flags = OVBD_LSMT_FLAG_HEADER | OVBD_LSMT_FLAG_DATA | OVBD_LSMT_FLAG_SEALED;
		ovbd_lsmt_encode_hdr(&h, hdr);
		fwrite(hdr, 1, sizeof(hdr), f);
		memset(hdr, 0xab, sizeof(hdr));		/* the one data block (sector 8..) */
		fwrite(hdr, 1, sizeof(hdr), f);
		fwrite(idx, OVBD_LSMT_ENTRY_SIZE, nidx, f);
		h.flags = OVBD_LSMT_FLAG_DATA | OVBD_LSMT_FLAG_SEALED;
		h.index_offset = 2 * OVBD_LSMT_HDR_SIZE;
		h.index_size = nidx;
		ovbd_lsmt_encode_hdr(&h, hdr);
		fwrite(hdr, 1, sizeof(hdr), f);
		if (fclose(f))
			return perror(path), 1;
	}
	free(idx);
	return 0;
}
