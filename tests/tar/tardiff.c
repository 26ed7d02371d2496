// SPDX-License-Identifier: GPL-2.0-only
/*
 * The format core's tar reader against libarchive's, file by file: each
 * FILE is a layer blob's tar wrapper. The core picks the payload as the
 * kernel and ovbd do (ovbd_tar_find_payload over the first 16 KiB);
 * libarchive (its tar reader alone) yields the first regular file that
 * holds data (a layer is never empty: empty files are skipped). They
 * agree when both refuse the file, or both read it and the bytes and size
 * of libarchive's member are the core's [offset, offset + size) of the
 * file, or the core refuses a file that libarchive reads only with a
 * warning that it is damaged (a malformed PAX record it skips: the core
 * refuses what it cannot read exactly). Prints one line per file: "agree
 * read|refused|damaged FILE ..." or "DIFFER FILE: ..."; exits 1 if any differ.
 * Usage: tardiff FILE...
 */
#include <archive.h>
#include <archive_entry.h>
#include <ovbd/tar.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	struct stat st;

	if (!f || fstat(fileno(f), &st) || !(buf = malloc((size_t)st.st_size + 1)) ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	*n = buf ? (size_t)st.st_size : 0;
	if (f)
		fclose(f);
	return buf;
}

/* libarchive's first regular file: 1 and its bytes, 0 when none, -1 when it refuses the archive. */
static int archive_pick(const unsigned char *blob, size_t n, unsigned char **data, size_t *len,
			bool *warned, char *why, size_t wlen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, ret = -1;

	*data = NULL;
	*len = 0;
	archive_read_support_format_tar(a);	/* the tar wrapper only: no other format, no filter */
	if (archive_read_open_memory(a, blob, n) != ARCHIVE_OK) {
		snprintf(why, wlen, "%s", archive_error_string(a));
		goto out;
	}
	*warned = false;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		la_int64_t size;
		size_t got = 0;

		if (r == ARCHIVE_WARN) {
			*warned = true;
			snprintf(why, wlen, "%s", archive_error_string(a));
		}
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    archive_entry_size(e) <= 0)
			continue;
		size = archive_entry_size(e);
		*data = malloc(size > 0 ? (size_t)size : 1);
		while (*data && got < (size_t)size) {
			la_ssize_t k = archive_read_data(a, *data + got, (size_t)size - got);

			if (k <= 0) {
				snprintf(why, wlen, "data: %s", k ? archive_error_string(a) : "short");
				goto out;
			}
			got += (size_t)k;
		}
		*len = got;
		ret = 1;
		goto out;
	}
	if (r == ARCHIVE_EOF) {
		ret = 0;
		snprintf(why, wlen, "no regular file");
	} else {
		snprintf(why, wlen, "%s", archive_error_string(a));
	}
out:
	archive_read_free(a);
	return ret;
}

int main(int argc, char **argv)
{
	int i, differ = 0;

	for (i = 1; i < argc; i++) {
		char awhy[300] = "", cwhy[300] = "";
		unsigned char *blob, *adata;
		struct ovbd_err e = { 0 };
		size_t n, alen;
		u64 off = 0, size = 0;
		bool warned = false;
		int c, a;

		blob = slurp(argv[i], &n);
		if (!blob) {
			printf("DIFFER %s: cannot read it\n", argv[i]);
			differ = 1;
			continue;
		}
		c = ovbd_tar_find_payload(blob, n < OVBD_TAR_SCAN_BYTES ? n : OVBD_TAR_SCAN_BYTES, n,
					  &off, &size, &e);
		if (c < 0)
			ovbd_err_text(&e, cwhy, sizeof(cwhy));
		else if (c == 0)
			snprintf(cwhy, sizeof(cwhy), "not a tar header");
		a = archive_pick(blob, n, &adata, &alen, &warned, awhy, sizeof(awhy));
		if (c == 1 && a == 1 && alen == size && !memcmp(adata, blob + off, alen)) {
			printf("agree read %s: payload at %llu, %llu bytes\n", argv[i],
			       (unsigned long long)off, (unsigned long long)size);
		} else if (c != 1 && a != 1) {
			printf("agree refused %s: core: %s; libarchive: %s\n", argv[i], cwhy, awhy);
		} else if (c < 0 && a == 1 && warned) {
			printf("agree damaged %s: core: %s; libarchive read it warning: %s\n", argv[i], cwhy,
			       awhy);
		} else {
			differ = 1;
			if (c == 1 && a == 1)
				printf("DIFFER %s: core picks [%llu, +%llu), libarchive's member is %zu bytes%s\n",
				       argv[i], (unsigned long long)off, (unsigned long long)size, alen,
				       alen == size ? " of other bytes" : "");
			else
				printf("DIFFER %s: core %s, libarchive %s\n", argv[i],
				       c == 1 ? "reads it" : cwhy, a == 1 ? "reads it" : awhy);
		}
		free(adata);
		free(blob);
	}
	return differ;
}
