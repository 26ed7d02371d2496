// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-overlaybd: device-mapper targets for OverlayBD images.
 * Module registration and the helpers both targets share.
 */
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <ovbd/tar.h>
#include "dm-overlaybd.h"

/* ---- ctr error messages ---- */

/*
 * dm core prints ti->error after a failed ctr but never frees it, and 16
 * loads may fail at once: no buffer we could point it at has an owner.
 * So the detail is logged here, under the device's name as dm-clone does,
 * and ti->error is a constant that points to it.
 */
void ovbd_ti_error(struct dm_target *ti, const char *fmt, ...)
{
	char buf[256], name[DM_NAME_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* the name the user gave (dmsetup create NAME), else major:minor */
	if (dm_copy_name_and_uuid(dm_table_get_md(ti->table), name, NULL))
		strscpy(name, dm_table_device_name(ti->table), sizeof(name));
	DMERR("%s: %s", name, buf);
	ti->error = "invalid image or table: the overlaybd message before this names the cause";
}

void ovbd_ti_core_error(struct dm_target *ti, const char *what,
			const struct ovbd_err *e)
{
	char buf[200];

	ovbd_err_text(e, buf, sizeof(buf));
	if (what)
		ovbd_ti_error(ti, "%s: %s", what, buf);
	else
		ovbd_ti_error(ti, "%s", buf);
}

int ovbd_counters_message(unsigned int argc, char **argv, atomic64_t *ctr,
			  unsigned int n, const char *target)
{
	unsigned int i;

	if (argc != 1 || strcasecmp(argv[0], "reset_counters")) {
		DMERR("%s: unknown message; expected reset_counters", target);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		atomic64_set(&ctr[i], 0);
	return 0;
}

bool ovbd_arg_is_number(const char *arg)
{
	return *arg && strspn(arg, "0123456789") == strlen(arg);
}

int ovbd_parse_features(struct dm_target *ti, struct dm_arg_set *as, const char *const *names,
			unsigned int n, unsigned long *seen, const char *what)
{
	static const struct dm_arg ovbd_features_arg = {
		0, BITS_PER_LONG, "Invalid number of feature arguments"
	};
	unsigned int count, i;
	int ret;

	*seen = 0;
	if (!as->argc)
		return 0;
	ret = dm_read_arg_group(&ovbd_features_arg, as, &count, &ti->error);
	if (ret)
		return ret;
	while (count--) {
		const char *f = dm_shift_arg(as);

		for (i = 0; i < n && strcasecmp(f, names[i]); i++)
			;
		if (i == n || (*seen & BIT(i))) {
			ovbd_ti_error(ti, "%s: %s feature '%s'", what, i == n ? "unknown" : "repeated", f);
			return -EINVAL;
		}
		*seen |= BIT(i);
	}
	if (as->argc) {
		ovbd_ti_error(ti, "%s: %u arguments after the feature group", what, as->argc);
		return -EINVAL;
	}
	return 0;
}

int ovbd_check_readonly(struct dm_target *ti)
{
	if (dm_table_get_mode(ti->table) & OVBD_MODE_WRITE) {
		ti->error = "read-only target: load the table with --readonly";
		return -EROFS;
	}
	return 0;
}

int ovbd_parse_blob_bytes(struct dm_target *ti, const char *arg,
			  struct dm_dev *dev, const char *what, u64 *bytes)
{
	u64 dev_bytes = ovbd_bdev_bytes(dev->bdev);

	if (!strcmp(arg, "-")) {
		*bytes = dev_bytes;
		return 0;
	}
	if (kstrtoull(arg, 10, bytes) || !*bytes) {
		ovbd_ti_error(ti, "%s: blob length '%s': expected a byte count or '-'",
			      what, arg);
		return -EINVAL;
	}
	/* a loop device drops a blob's partial last sector: allow that much */
	if (*bytes >= dev_bytes + SECTOR_SIZE) {
		ovbd_ti_error(ti, "%s: blob length = %llu, expected at most the device's %llu bytes + 511",
			      what, *bytes, dev_bytes);
		return -EINVAL;
	}
	return 0;
}

sector_t ovbd_blob_sectors(struct dm_dev *dev, u64 bytes)
{
	return min_t(u64, DIV_ROUND_UP(bytes, SECTOR_SIZE),
		     ovbd_bdev_bytes(dev->bdev) >> SECTOR_SHIFT);
}

/* ---- synchronous reads for the ctrs ---- */

void ovbd_reader_set_dev(struct ovbd_reader *r, struct block_device *bdev)
{
	r->bdev = bdev;
	r->lbs = bdev_logical_block_size(bdev);
	r->dev_bytes = ovbd_bdev_bytes(bdev);
}

int ovbd_reader_init(struct ovbd_reader *r, struct block_device *bdev)
{
	ovbd_reader_set_dev(r, bdev);
	r->client = dm_io_client_create();
	if (IS_ERR(r->client)) {
		int ret = PTR_ERR(r->client);

		r->client = NULL;
		return ret;
	}
	r->bounce = vmalloc(OVBD_READ_CHUNK + 2 * PAGE_SIZE);	/* lbs <= PAGE_SIZE */
	if (!r->bounce) {
		dm_io_client_destroy(r->client);
		r->client = NULL;
		return -ENOMEM;
	}
	return 0;
}

void ovbd_reader_exit(struct ovbd_reader *r)
{
	vfree(r->bounce);
	if (r->client)
		dm_io_client_destroy(r->client);
	r->bounce = NULL;
	r->client = NULL;
}

int ovbd_io_read(struct dm_io_client *client, struct block_device *bdev, u64 start,
		 u64 end, void *vbuf, io_notify_fn fn, void *context)
{
	struct dm_io_region where = {
		.bdev = bdev,
		.sector = start >> SECTOR_SHIFT,
		.count = (end - start) >> SECTOR_SHIFT,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.client = client,
		.notify.fn = fn,	/* NULL: synchronous */
		.notify.context = context,
	};

	/*
	 * kvmalloc() memory is either: dm-io finds a vmalloc buffer's pages
	 * with vmalloc_to_page() and a kmalloc buffer's with virt_to_page().
	 * vmalloc_to_page() of a linear-map address only works where the
	 * kernel's page tables happen to map it (x86-64); under UML it gave
	 * a bogus page, and the loop worker faulted writing into it.
	 */
	if (is_vmalloc_addr(vbuf)) {
		req.mem.type = DM_IO_VMA;
		req.mem.ptr.vma = vbuf;
	} else {
		req.mem.type = DM_IO_KMEM;
		req.mem.ptr.addr = vbuf;
	}

	return ovbd_dm_io(&req, &where);
}

int ovbd_read(struct ovbd_reader *r, u64 off, void *buf, size_t len)
{
	u64 start = round_down(off, r->lbs);
	u64 end = min(round_up(off + len, r->lbs), r->dev_bytes);
	int ret;

	if (len > OVBD_READ_CHUNK)
		return -EINVAL;
	if (end <= start) {		/* wholly past the device end */
		memset(buf, 0, len);
		return 0;
	}
	ret = ovbd_io_read(r->client, r->bdev, start, end, r->bounce, NULL, NULL);
	if (ret)
		return ret;
	/* bytes past the device end (a cut partial sector) read as zeros */
	memset(r->bounce + (end - start), 0, round_up(off + len, r->lbs) - end);
	memcpy(buf, r->bounce + (off - start), len);
	return 0;
}

int ovbd_find_payload(struct dm_target *ti, struct ovbd_reader *r, const char *what,
		      u64 blob_bytes, u64 *off, u64 *size)
{
	size_t n = min_t(u64, blob_bytes, OVBD_TAR_SCAN_BYTES);
	struct ovbd_err e = { 0 };
	u8 *scan;
	int ret;

	*off = 0;
	*size = blob_bytes;
	if (blob_bytes < OVBD_TAR_BLOCK)
		return 0;
	scan = kzalloc(OVBD_TAR_SCAN_BYTES, GFP_KERNEL);
	if (!scan)
		return -ENOMEM;
	/* one block first: the rest of the scan window only for a tar header */
	ret = ovbd_read(r, 0, scan, OVBD_TAR_BLOCK);
	if (!ret && ovbd_tar_is_header(scan, OVBD_TAR_BLOCK))
		ret = ovbd_read(r, 0, scan, n);
	else
		n = OVBD_TAR_BLOCK;
	if (ret) {
		ovbd_ti_error(ti, "%s: read error %d at byte 0", what, ret);
		goto out;
	}
	ret = ovbd_tar_find_payload(scan, n, blob_bytes, off, size, &e);
	if (ret < 0) {
		ovbd_ti_core_error(ti, what, &e);
		goto out;
	}
	ret = 0;	/* 0 (not tar) keeps the whole blob set above */
out:
	kfree(scan);
	return ret;
}

/* ---- module parameters ---- */

unsigned long ovbd_max_index_entries = 8ul << 20;
module_param_named(max_index_entries, ovbd_max_index_entries, ulong, 0644);
MODULE_PARM_DESC(max_index_entries,
		 "valid LSMT index entries in one lsmt table, all layers together (default 8388608: 128 MiB of layer indexes, at most 256 MiB merged)");

/* ---- registration: the targets, and the RFC's names as aliases ---- */

static struct target_type *const ovbd_all_targets[] = {
	&ovbd_zfile_target, &ovbd_zfile_alias, &ovbd_lsmt_target, &ovbd_lsmt_alias,
};

static int __init dm_overlaybd_init(void)
{
	int i, ret;

	ret = ovbd_lsmt_init();
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(ovbd_all_targets); i++) {
		ret = dm_register_target(ovbd_all_targets[i]);
		if (ret) {
			DMERR("register %s: %d", ovbd_all_targets[i]->name, ret);
			while (--i >= 0)
				dm_unregister_target(ovbd_all_targets[i]);
			ovbd_lsmt_exit();
			return ret;
		}
	}
	DMINFO("version " OVBD_VERSION ": targets zfile, lsmt");
	return 0;
}

static void __exit dm_overlaybd_exit(void)
{
	int i;

	for (i = ARRAY_SIZE(ovbd_all_targets) - 1; i >= 0; i--)
		dm_unregister_target(ovbd_all_targets[i]);
	ovbd_lsmt_exit();
}

module_init(dm_overlaybd_init);
module_exit(dm_overlaybd_exit);

MODULE_DESCRIPTION(DM_NAME " targets for OverlayBD images (zfile, lsmt)");
MODULE_LICENSE("GPL");
MODULE_VERSION(OVBD_VERSION);
MODULE_ALIAS("dm-zfile");
MODULE_ALIAS("dm-lsmt");
MODULE_ALIAS("dm-zfile_target");
MODULE_ALIAS("dm-lsmt_target");
