#!/bin/bash
# Containers from a registry, side by side in one guest boot (Debian 6.1,
# TCG, 2 vCPUs), both from the same docker-registry on the guest's loopback:
#   ovbd:  ovbd bundle --lazy REF DIR, then runc run: the time to the
#          container's first line of output;
#   umoci: skopeo copy of the ordinary gzip image to a layout, umoci unpack,
#          then runc run: the same time;
# and from local copies: ovbd bundle from the store against umoci unpack
# from a layout. The tree is BENCH_MIB (280) MiB of /usr/share and /usr/lib
# files plus a static busybox that the container runs (its Entrypoint
# prints one line). The ordinary image is made by umoci (gzip), the
# OverlayBD one from it by ovbd convert --zfile. Rounds interleaved
# (ROUNDS, default 3), medians. Writes bench/results/bundle.md and prints
# "BENCH key value" lines. Part of make bench (bench/run.sh), or alone.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. bench/guest-lib.sh
B=$TOP/build/bench-bundle D=$TOP/build/bench-bundle/data
MIB=${BENCH_MIB:-280} ROUNDS=${ROUNDS:-3}
OVBD=$TOP/tools/build/ovbd
make -s -C tools
rm -rf "$B"; mkdir -p "$D" "$B/tree/bin"

say "the tree: $MIB MiB of files from /usr/share and /usr/lib, and a static busybox"
bench_tree "$MIB" "$B/tree"
cp /bin/busybox "$B/tree/bin/busybox"
say "the ordinary image (umoci, gzip) and the OverlayBD one (ovbd convert --zfile)"
umoci init --layout "$B/plain"
umoci new --image "$B/plain:b"
umoci unpack --image "$B/plain:b" "$B/ub" >/dev/null
cp -a "$B/tree/." "$B/ub/rootfs/"
umoci repack --image "$B/plain:b" "$B/ub" >/dev/null
rm -rf "$B/ub"
umoci config --image "$B/plain:b" --config.entrypoint /bin/busybox --config.entrypoint echo \
	--config.cmd "first line"
SOURCE_DATE_EPOCH=1700000000 "$OVBD" convert --zfile --size 1G oci:"$B/plain:b" oci:"$B/obd:b" >/dev/null
. tests/registry-lib.sh
start_registry "$B/reg"
trap 'kill $REG_PID 2>/dev/null' EXIT
skopeo copy -q oci:"$B/plain:b" "docker://127.0.0.1:$REG_PORT/plain:b" --dest-tls-verify=false
"$OVBD" push "$B/obd:b" "127.0.0.1:$REG_PORT/obd:b" >/dev/null 2>&1
kill $REG_PID; trap - EXIT
cp -a "$B/reg" "$D/registry"
echo "BENCH bundle_plain_bytes $(du -sb "$B/plain/blobs" | cut -f1)" >"$B/host.log"
echo "BENCH bundle_obd_bytes $(du -sb "$B/obd/blobs" | cut -f1)" >>"$B/host.log"
rm -rf "$B/tree" "$B/plain" "$B/obd" "$B/reg"
for t in skopeo umoci; do bench_copy_bin "$(command -v $t)" "$D/$t"; done
cp bench/bundle-guest.sh "$D/guest.sh"
bench_section_guest "$B" "$D" bundle "$MIB" "$ROUNDS"
