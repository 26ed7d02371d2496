#!/bin/bash
# make demo: build the module and ovbd, make a 3-layer OverlayBD image of an
# ext4 tree with ovbd commit (upper layers add, change and delete files; lz4
# and zstd; tar-wrapped as OCI layer blobs), make it an OCI image with ovbd
# image build, push it to a local registry (Debian's docker-registry on
# 127.0.0.1, started and stopped here) and pull it into a fresh store, then
# map it by reference (ovbd open demo oci:store:demo) in a QEMU guest
# running Debian's 6.1 kernel, mount it and compare every file's sha256
# with the source tree. HOST=1 maps it on this machine instead (the module
# must be loadable here: installed with DKMS, or build it with make).
# Then the same for an ordinary image: umoci (Debian's, not ovbd) builds a
# 2-layer gzip OCI image of the same tree, skopeo pushes it to the registry,
# ovbd convert turns it into an OverlayBD image there (rootless), and the
# guest maps that by reference too and checks every file again. Last, the
# guest runs a container from the converted image: ovbd bundle, runc run.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
OVBD=$TOP/tools/build/ovbd
W=$TOP/build/demo
say() { printf '\n== %s\n' "$*"; }

if [ "${SKIP_DEPS:-0}" != 1 ]; then say "installing what the demo needs (apt-get)"; tools/install-deps.sh; fi
say "building ovbd"
make -s -C tools
rm -rf "$W"; mkdir -p "$W/data" "$W/tree"

say "making the source tree and its ext4 image"
tree=$W/tree
mkdir -p "$tree/etc" "$tree/docs" "$tree/bin"
cp /usr/share/common-licenses/GPL-2 /usr/share/common-licenses/Apache-2.0 "$tree/docs/"
cp /bin/busybox "$tree/bin/"
printf 'hostname=demo\n' >"$tree/etc/config"
for i in 1 2 3 4 5; do head -c $((i * 40000)) /dev/urandom >"$tree/etc/blob$i"; done
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$tree" "$W/disk.raw" 32M
cp -a "$tree" "$W/tree0"	# the base, for the ordinary image's first layer
L1=$W/layers/layer1.tar L2=$W/layers/layer2.tar L3=$W/layers/layer3.tar
mkdir -p "$W/layers"
"$OVBD" commit --zfile --algo lz4 --tar -m "base" "$W/disk.raw" "$L1"

say "layer 2 (zstd): add docs/NEWS, change etc/config, delete etc/blob1"
printf 'dm-overlaybd demo: layer 2 was here\n' >"$tree/docs/NEWS"
printf 'hostname=demo\nlayer=2\n' >"$tree/etc/config"
rm "$tree/etc/blob1"
debugfs -w -f - "$W/disk.raw" >/dev/null 2>&1 <<CMDS
write $tree/docs/NEWS /docs/NEWS
rm /etc/config
write $tree/etc/config /etc/config
rm /etc/blob1
CMDS
"$OVBD" commit --lower "$L1" --zfile --algo zstd --block-size 16384 --tar -m "layer 2" "$W/disk.raw" "$L2"

say "layer 3 (lz4): add etc/blob6, change etc/blob2, delete docs/Apache-2.0"
head -c 300000 /dev/urandom >"$tree/etc/blob6"
head -c 7777 /dev/urandom >"$tree/etc/blob2"
rm "$tree/docs/Apache-2.0"
debugfs -w -f - "$W/disk.raw" >/dev/null 2>&1 <<CMDS
write $tree/etc/blob6 /etc/blob6
rm /etc/blob2
write $tree/etc/blob2 /etc/blob2
rm /docs/Apache-2.0
CMDS
"$OVBD" commit --lower "$L1" --lower "$L2" --zfile --algo lz4 --tar -m "layer 3" "$W/disk.raw" "$L3"
(cd "$tree" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$W/data/tree.sha256"
for l in "$L1" "$L2" "$L3"; do
	printf '  %-8s %8d bytes  %s\n' "$(basename "$l")" "$(stat -c %s "$l")" "$("$OVBD" info "$l" | awk '$1 == "kind" {print $2}')"
done
"$OVBD" verify "$L1" "$L2" "$L3"

say "an OCI image, pushed to a local registry and pulled back by reference"
"$OVBD" image build --tag demo "$W/layout" "$L1" "$L2" "$L3"
. tests/registry-lib.sh
start_registry "$W/registry"
port=$REG_PORT reg=$REG_PID
trap 'kill $reg 2>/dev/null' EXIT
echo "demo: ovbd push $W/layout:demo 127.0.0.1:$port/demo:latest"
"$OVBD" push "$W/layout:demo" "127.0.0.1:$port/demo:latest"
echo "demo: ovbd pull 127.0.0.1:$port/demo:latest store"
"$OVBD" pull "127.0.0.1:$port/demo:latest" "$W/data/store"

say "an ordinary image of the same tree (umoci, gzip layers), converted by ovbd convert"
umoci init --layout "$W/plain"
umoci new --image "$W/plain:demo"
umoci unpack --image "$W/plain:demo" "$W/bundle" >/dev/null
cp -a "$W/tree0/." "$W/bundle/rootfs/"
umoci repack --refresh-bundle --image "$W/plain:demo" "$W/bundle" >/dev/null	# layer 1: the base tree
rm -rf "$W/bundle/rootfs/"*; cp -a "$tree/." "$W/bundle/rootfs/"
umoci repack --image "$W/plain:demo" "$W/bundle" >/dev/null	# layer 2: changes, whiteouts
# what the container runs: the image config's Entrypoint, Cmd, Env and WorkingDir
umoci config --image "$W/plain:demo" --config.entrypoint /bin/busybox --config.entrypoint sh \
	--config.entrypoint -c --config.cmd 'echo "hello from a container on dm-overlaybd, in $(pwd) as $(busybox id -u)"; busybox cat /etc/config' \
	--config.env DEMO=1 --config.workingdir /docs
rm -rf "$W/bundle"
skopeo inspect oci:"$W/plain:demo" | python3 -c 'import json, sys; print("demo: umoci made", *json.load(sys.stdin)["Layers"])'
skopeo copy -q oci:"$W/plain:demo" "docker://127.0.0.1:$port/plain:latest" --dest-tls-verify=false
echo "demo: ovbd convert --zfile 127.0.0.1:$port/plain:latest 127.0.0.1:$port/plain:overlaybd"
"$OVBD" convert --zfile "127.0.0.1:$port/plain:latest" "127.0.0.1:$port/plain:overlaybd"
"$OVBD" pull "127.0.0.1:$port/plain:overlaybd" "$W/data/store"
kill $reg; trap - EXIT
# LAZY=1: the registry's storage goes to the guest, which serves it on its
# loopback and maps demo:latest with ovbd open --lazy before any download
[ "${LAZY:-0}" = 1 ] && cp -a "$W/registry" "$W/data/registry"
cp tests/qemu/demo-common.sh "$W/data/"

if [ "${HOST:-0}" = 1 ]; then
	say "mapping on this machine (HOST=1)"
	tools/load-module.sh "$TOP" || exit 1
	cd "$W/data"
	PATH=$TOP/tools/build:$PATH
	. ./demo-common.sh
	demo_map_and_check "$W/mnt" latest && demo_map_and_check "$W/mnt" overlaybd
	exit
fi

kver=$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -1)
say "building dm-overlaybd.ko for $kver"
rm -rf "$W/module"; mkdir -p "$W/module"; cp -r src include VERSION "$W/module/"
make -s -C "$W/module/src" KVER="$kver" >/dev/null
cp tests/qemu/demo-guest.sh "$W/data/guest.sh"
mkfs.ext4 -q -F -O ^has_journal -d "$W/data" "$W/data.img" 64M
gcc -O2 -static -o "$W/blkprobe" tests/qemu/blkprobe.c
BLKPROBE=$W/blkprobe tests/qemu/mkinitramfs.sh "$kver" "$W/module/src/dm-overlaybd.ko" "$OVBD" "$W/initrd.gz"

say "booting Debian's $kver in QEMU (TCG) and mapping the image there"
accel="-accel tcg"; [ "${OVBD_QEMU_KVM:-0}" = 1 ] && accel="-accel kvm -cpu host"
timeout 600 qemu-system-x86_64 $accel -m 1024 -smp 2 -nographic -no-reboot \
	-kernel "/boot/vmlinuz-$kver" -initrd "$W/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=4 log_buf_len=16M${LAZY:+ ovbd.lazy}" \
	-drive "file=$W/data.img,if=virtio,format=raw,readonly=on" </dev/null 2>&1 |
	tr -d '\r' | tee "$W/console.log" | sed -n '/^demo:\|^hello\|^hostname\|^layer=\|^DEMO\|^  same\|^  DIFF\|^loop\|^nbd \|^dm  \|^layer \|^\.\|^total\|^-\|^d\|^\//p'
if grep -qE 'BUG:|WARNING:|Oops|general protection fault|KASAN|UBSAN|hung task|soft lockup' "$W/console.log"; then
	echo "demo: FAILED: kernel splat on the console ($W/console.log)"; exit 1
fi
[ "$(grep -c '^DEMO: PASS' "$W/console.log")" = $([ "${LAZY:-0}" = 1 ] && echo 4 || echo 3) ] ||
	{ echo "demo: FAILED ($W/console.log)"; exit 1; }
echo "demo: PASSED: every file of the mounted 3-layer image, and of the converted ordinary image, matches the source tree, and runc ran a container from it"
