#!/bin/bash
# Random and sequential reads against upstream's daemons, side by side in one
# Debian 6.12 guest boot (TCG, 2 vCPUs): the same ZFile lz4 4 KiB layer of
# the bench tree's ext4 image through dm-overlaybd (ovbd open), through
# overlaybd-ublk and overlaybd-tcmu (../shared/peers: benchmark peers only,
# never a test dependency), and the raw image through dm-linear; the
# sha256 of each device checked first; fio O_DIRECT 1 MiB sequential at
# queue depth 1, 4 KiB random at queue depths 1 and 16; rounds rotated
# (ROUNDS, default 3), medians; CPU time per MiB from /proc/stat. Writes
# bench/results/peers.md. Skipped, saying so, where ../shared/peers is absent.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. bench/guest-lib.sh
PEERS=${PEERS:-$TOP/../shared/peers}
if [ ! -x "$PEERS/bin/overlaybd-ublk" ] || [ ! -x "$PEERS/bin/overlaybd-tcmu" ]; then
	echo "bench: peers: skipped: no upstream daemons in $PEERS (../shared/peers is absent)"
	exit 0
fi
BENCH_KVER=$(ls /lib/modules | grep -E '^6\.12\.' | sort -V | tail -1)
[ -n "$BENCH_KVER" ] || { echo "bench: peers: no 6.12 kernel (ublk needs it)"; exit 1; }
B=$TOP/build/bench-peers D=$TOP/build/bench-peers/data
MIB=${PEERS_MIB:-180} ROUNDS=${ROUNDS:-3}
OVBD=$TOP/tools/build/ovbd
make -s -C tools
rm -rf "$B"; mkdir -p "$D/peers/lib" "$D/kmod" "$B/tree"
say "the tree: $MIB MiB of files in ext4, as one ZFile lz4 4 KiB layer"
bench_tree "$MIB" "$B/tree"
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$B/tree" "$D/raw.img" "$(( $(du -sm "$B/tree" | cut -f1) * 5 / 4 + 16 ))M"
rm -rf "$B/tree"
"$OVBD" commit --zfile --algo lz4 --block-size 4096 "$D/raw.img" "$D/layer.zf"
sha256sum "$D/raw.img" | cut -d' ' -f1 >"$D/raw.sha"
say "the peers, their libraries, the modules they need, and fio"
for b in overlaybd-ublk overlaybd-tcmu; do
	cp "$PEERS/bin/$b" "$D/peers/"
	ldd "$PEERS/bin/$b" | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do cp -L "$lib" "$D/peers/lib/"; done
done
cp "$PEERS/overlaybd.json" "$D/peers/"
# their image service refuses to start without CA certificates ("no certificates found")
cp -L /etc/ssl/certs/ca-certificates.crt "$D/peers/"
for m in configfs target_core_mod target_core_user uio tcm_loop scsi_mod sd_mod ublk_drv; do
	modprobe -S "$BENCH_KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	n=$(basename "$ko"); n=${n%.xz}; n=${n%.zst}
	case "$ko" in *.xz) xz -dc "$ko" >"$D/kmod/$n";; *.zst) zstd -qdc "$ko" >"$D/kmod/$n";; *) cp "$ko" "$D/kmod/$n";; esac
	echo "$n" >>"$D/kmod/order"
done
bench_copy_bin "$(command -v fio)" "$D/fio"
bench_copy_bin "$(command -v perf)" "$D/perf"	# the read path's profile
cp bench/peers-guest.sh "$D/guest.sh"
: >"$B/host.log"
bench_section_guest "$B" "$D" peers "$MIB" "$ROUNDS"
