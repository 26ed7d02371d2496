/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: a stack mapped before its image is downloaded (open --lazy), then
 * handed over to local files with no daemon left. It is a dmstack whose
 * missing layers are nbd devices served by nbdkit from the registry, plus
 * a supervisor process that pulls the image into the store and retargets
 * each layer to a loop device of its stored blob as it completes.
 * A verified image's layers are read through dm-verity from the first
 * read: each tree is read from the registry as lazily as its blob (the
 * image's artifact), or the layer is downloaded whole and verified before
 * it is mapped; the handover moves both under the verity device.
 * Library code: functions return 0 or -1 with why set, and never exit.
 */
#ifndef OVBD_LAZY_H
#define OVBD_LAZY_H

#include <stdbool.h>
#include <stddef.h>

struct xfer_notes;
/* Where lazy_open's time goes, phase by phase (seconds, monotonic clock). */
enum lazy_phase {
	LAZY_MANIFEST,		/* registry login, the manifest, the plan */
	LAZY_TREES,		/* the dm-verity trees' artifact (verified images) */
	LAZY_NBDKIT,		/* nbdkit started, one per remote blob or tree */
	LAZY_NBD,		/* nbd-client connected, each device sized */
	LAZY_DEVICES,		/* dmstack_open: the ctrs' reads of trailers and indexes */
	LAZY_SUPERVISOR,	/* the record, the supervisor forked and named */
	LAZY_NPHASES
};

struct lazy_timings {
	double s[LAZY_NPHASES];
	double total;
};

/* "manifest", "trees", ...: the phase's name in --timings. */
const char *lazy_phase_name(enum lazy_phase p);

struct lazy_opts {
	bool plain_http;
	bool require_verity;	/* refuse an image whose layers lack dm-verity root hashes */
	/* what the supervisor says (its pull, a refused handover): its log */
	const struct xfer_notes *notes;
	/* when set, lazy_open fills it in on success */
	struct lazy_timings *timings;
};

/*
 * Map the registry image ref as NAME at once, and start the supervisor.
 * On failure nothing is left: no dm, loop or nbd device, nbdkit or state.
 */
int lazy_open(const char *name, const char *ref, const struct lazy_opts *o, char *why,
	      size_t len);
/*
 * Close NAME, lazy or not: stop its supervisor (no handover during the
 * teardown), remove its devices (dmstack_close), then its nbd devices,
 * nbdkit processes and state. As dmstack_close: 0, 1 when nothing of NAME
 * existed, -1 with why set.
 */
int lazy_close(const char *name, char *why, size_t len);
/* The lazy state of NAME for status (NULL when NAME is not in a lazy phase). */
struct json_object;
struct json_object *lazy_status(const char *name);

#endif /* OVBD_LAZY_H */
