#!/bin/sh
# The demo, inside the guest: map the 3-layer image and the converted one
# with ovbd open, mount each, list it and compare every file's sha256 with
# the source tree's.
losetup() { /sbin/losetup "$@"; }
echo "demo: insmod dm-overlaybd.ko"
insmod /modules/dm-overlaybd.ko || { echo "DEMO: FAIL (insmod)"; exit 1; }
. ./demo-common.sh
demo_map_and_check /mnt/demo latest
demo_map_and_check /mnt/demo overlaybd
# a container from the converted image: its config says what to run
mountpoint -q /sys/fs/cgroup 2>/dev/null || mount -t cgroup2 none /sys/fs/cgroup
echo "demo: ovbd bundle oci:store:overlaybd /tmp/bundle && runc run -b /tmp/bundle demo"
if ovbd bundle oci:store:overlaybd /tmp/bundle >/dev/null &&
   runc run --no-pivot -b /tmp/bundle demo </dev/null | tee /tmp/container.out &&
   ovbd bundle --remove /tmp/bundle && grep -q '^hello from a container on dm-overlaybd, in /docs as 0$' /tmp/container.out; then
	echo "DEMO: PASS (runc ran a container from the converted image; --no-pivot: the guest's root is its initramfs)"
else
	echo "DEMO: FAIL (container)"
fi
if grep -q ovbd.lazy /proc/cmdline && [ -d registry ]; then	# make demo LAZY=1
	guest-registry registry >/dev/null || { echo "DEMO: FAIL (docker-registry did not answer)"; exit 1; }
	export OVBD_STORE=/tmp/store
	echo "demo: ovbd open --lazy lazy 127.0.0.1:5000/demo:latest (the store is empty)"
	ovbd open --lazy lazy 127.0.0.1:5000/demo:latest || { echo "DEMO: FAIL (open --lazy)"; exit 1; }
	echo "demo: ovbd status lazy, at once"
	ovbd status lazy
	mkdir -p /mnt/lazy
	mount -t ext4 -o ro,noload /dev/mapper/lazy /mnt/lazy
	(cd /mnt/lazy && find . -type f | LC_ALL=C sort | xargs sha256sum) >/tmp/lazy1.sha256
	echo "demo: waiting for the handover"
	i=0; while [ $i -lt 300 ] && [ -e /run/ovbd/lazy.lazy ]; do sleep 0.2; i=$((i + 1)); done
	echo "demo: ovbd status lazy, after the handover"
	ovbd status lazy
	sync; echo 3 >/proc/sys/vm/drop_caches
	(cd /mnt/lazy && find . -type f | LC_ALL=C sort | xargs sha256sum) >/tmp/lazy2.sha256
	umount /mnt/lazy; ovbd close lazy
	if cmp -s /tmp/lazy1.sha256 tree.sha256 && cmp -s /tmp/lazy2.sha256 tree.sha256 && [ ! -e /run/ovbd/lazy.lazy ]; then
		echo "DEMO: PASS (lazy: every file read from the registry, then from the store after the handover)"
	else
		echo "DEMO: FAIL (lazy)"
	fi
fi
