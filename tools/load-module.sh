#!/bin/bash
# Load dm-overlaybd for make demo HOST=1: the installed module (DKMS) with
# modprobe, else the one built here with insmod; or say why neither can be.
# Usage: load-module.sh TOP. OVBD_PROC (default /proc) and OVBD_LIBMOD
# (default /lib/modules) are for tests/cli/badinput.sh only.
TOP=$1 PROC=${OVBD_PROC:-/proc} LIBMOD=${OVBD_LIBMOD:-/lib/modules}
grep -q '^dm_overlaybd ' "$PROC/modules" 2>/dev/null && exit 0
if [ "$(cat "$PROC/sys/kernel/modules_disabled" 2>/dev/null)" = 1 ] || [ ! -d "$LIBMOD/$(uname -r)" ]; then
	echo "demo: this kernel ($(uname -r)) cannot load modules here; run make demo, which maps the image in a QEMU guest"
	exit 1
fi
if modinfo dm-overlaybd >/dev/null 2>&1; then	# installed, e.g. by the DKMS package
	modprobe dm-overlaybd && exit 0
	echo "demo: modprobe dm-overlaybd failed (its message is above); see dkms status dm-overlaybd"
	exit 1
fi
if [ -f "$TOP/src/dm-overlaybd.ko" ]; then	# built here with make
	modprobe -a dm-mod lz4_decompress zstd_decompress libcrc32c 2>/dev/null
	insmod "$TOP/src/dm-overlaybd.ko" && exit 0
	echo "demo: insmod $TOP/src/dm-overlaybd.ko failed (its message is above)"
	exit 1
fi
echo "demo: dm-overlaybd is neither installed (the DKMS package, see README) nor built here (make)"
exit 1
