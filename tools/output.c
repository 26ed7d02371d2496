// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: atomic, non-destructive output files (see output.h). */
#include "output.h"
#include "util.h"
#include <ovbd/detect.h>
#include <ovbd/tar.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary file to remove if the command dies before output_commit(). */
static char *pending_tmp;

static void remove_pending(void)
{
	if (pending_tmp)
		unlink(pending_tmp);
}

static bool is_blob(const char *path)
{
	u8 head[OVBD_TAR_SCAN_BYTES] = { 0 };
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n > 0 && ovbd_detect(head, (size_t)n) != OVBD_KIND_UNKNOWN;
}

void output_open(struct output *o, const char *path, enum output_kind kind,
		 char *const *inputs, int n, bool force)
{
	static bool registered;
	struct stat out, in;
	char *dir, *copy;
	int i;

	o->path = path;
	o->tmp = NULL;
	if (!stat(path, &out)) {
		for (i = 0; i < n; i++)
			if (inputs[i] && !stat(inputs[i], &in) &&
			    in.st_dev == out.st_dev && in.st_ino == out.st_ino)
				die(EXIT_USAGE, "%s: is also an input (%s): refusing to write over it",
				    path, inputs[i]);
		if (S_ISDIR(out.st_mode))
			die(EXIT_USAGE, "%s: is a directory, expected an output file", path);
		if (!S_ISREG(out.st_mode)) {	/* a device or a pipe: in place */
			o->fd = open(path, O_WRONLY);
			if (o->fd < 0)
				die(EXIT_BAD_INPUT, "%s: %s", path, strerror(errno));
			return;
		}
		if (kind == OUTPUT_BLOB && !force && out.st_size > 0 && !is_blob(path))
			die(EXIT_USAGE, "%s: exists and is not an OverlayBD blob: refusing to overwrite it (--force to replace it)",
			    path);
	}
	copy = strdup(path);
	dir = copy ? dirname(copy) : NULL;
	o->tmp = xmalloc(strlen(path) + 32);
	snprintf(o->tmp, strlen(path) + 32, "%s/.%s.ovbd-XXXXXX", dir ? dir : ".",
		 strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	free(copy);
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0)
		die(EXIT_BAD_INPUT, "%s: cannot create a temporary file beside it: %s",
		    path, strerror(errno));
	fchmod(o->fd, 0644);
	pending_tmp = o->tmp;
	if (!registered) {
		atexit(remove_pending);
		registered = true;
	}
}

void output_commit(struct output *o)
{
	char *copy, *dir;
	int dfd;

	if (!o->tmp) {
		if (close(o->fd))
			die(EXIT_BAD_INPUT, "%s: %s", o->path, strerror(errno));
		return;
	}
	if (fsync(o->fd) || close(o->fd))
		die(EXIT_BAD_INPUT, "%s: %s", o->tmp, strerror(errno));
	if (rename(o->tmp, o->path))
		die(EXIT_BAD_INPUT, "%s: cannot rename %s into place: %s", o->path, o->tmp,
		    strerror(errno));
	pending_tmp = NULL;
	copy = strdup(o->path);
	dir = copy ? dirname(copy) : ".";
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(copy);
	free(o->tmp);
	o->tmp = NULL;
}
