#!/bin/bash
# Build the guest initramfs for kernel KVER: busybox, dmsetup, losetup, ovbd
# and their libraries, the kernel's own modules that the tests use (loaded
# in dependency order by /init) and dm-overlaybd.ko built for that kernel.
# Usage: mkinitramfs.sh KVER MODULE_KO OVBD_BIN OUT.cpio.gz
set -euo pipefail
KVER=$1 KO=$2 OVBD=$3 OUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,lib,lib64,dev,proc,sys,run,tmp,data,mnt,modules,etc}

copy_bin() {	# PATH [DEST]: a binary and the shared libraries it needs
	local src=$1 dest=${2:-$root/bin/$(basename "$1")} lib
	cp -L "$src" "$dest"
	for lib in $(ldd "$src" 2>/dev/null | grep -oE '/[^ ]+' || true); do
		mkdir -p "$root$(dirname "$lib")"
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
}
cp /bin/busybox "$root/bin/busybox"
# util-linux and lvm2 tools go to /sbin, ahead of busybox's applets in PATH
for t in dmsetup losetup blockdev; do copy_bin "/sbin/$t" "$root/sbin/$t"; done
copy_bin "$OVBD" "$root/bin/ovbd"
# open --lazy: nbdkit with its curl plugin and its filters, the kernel
# nbd client's nbd-client, and a registry to serve inside the guest
nbdlib=/usr/lib/x86_64-linux-gnu/nbdkit
if command -v nbdkit >/dev/null && [ -d "$nbdlib" ]; then
	copy_bin "$(command -v nbdkit)" "$root/bin/nbdkit"
	mkdir -p "$root$nbdlib/plugins" "$root$nbdlib/filters"
	copy_bin "$nbdlib/plugins/nbdkit-curl-plugin.so" "$root$nbdlib/plugins/nbdkit-curl-plugin.so"
	for f in readahead cache retry-request; do
		copy_bin "$nbdlib/filters/nbdkit-$f-filter.so" "$root$nbdlib/filters/nbdkit-$f-filter.so"
	done
fi
command -v nbd-client >/dev/null && copy_bin "$(command -v nbd-client)" "$root/sbin/nbd-client"
if command -v docker-registry >/dev/null; then
	copy_bin "$(command -v docker-registry)" "$root/bin/docker-registry"
	cp "$HERE/guest-registry" "$root/bin/guest-registry"	# how the guests start it
fi
# ovbd bundle's containers: the OCI runtimes
for t in runc crun; do command -v $t >/dev/null && copy_bin "$(command -v $t)" "$root/bin/$t"; done
# tc and sch_netem: the bench's emulated link between the registry and the client
command -v tc >/dev/null && copy_bin "$(command -v tc)" "$root/sbin/tc"
cp "${BLKPROBE:-$HERE/../../build/blkprobe}" "$root/bin/blkprobe"

# Kernel modules, in load order, decompressed for busybox insmod.
: >"$root/modules/order"
for m in loop virtio_blk virtio_pci dm-mod dm-flakey dm-verity sha256-ssse3 crc32c_generic crc32c-intel \
	 libcrc32c ext4 erofs overlay nbd sch_netem; do
	modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	name=$(basename "$ko"); name=${name%.xz}; name=${name%.zst}
	case "$ko" in
	*.xz) xz -dc "$ko" >"$root/modules/$name";;
	*.zst) zstd -qdc "$ko" >"$root/modules/$name";;
	*) cp "$ko" "$root/modules/$name";;
	esac
	echo "$name" >>"$root/modules/order"
done
cp "$KO" "$root/modules/dm-overlaybd.ko"
cp "$HERE/guest-init" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT"
