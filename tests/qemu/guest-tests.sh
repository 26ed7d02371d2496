#!/bin/sh
# Runs inside the QEMU guest (busybox sh), from the data disk. Prints
# "ok - ", "not ok - ", "skip - " lines; the host counts them and scans the
# console for kernel splats; it counts the lines, since some run in subshells.
# QUICK=1 (kernel command line ovbd.quick) runs a subset; FULL=1 (ovbd.full)
# runs the soak's round counts; the default is CI's (see depth()).
P=0 F=0 S=0
ok() { P=$((P + 1)); echo "ok - $*"; }
not_ok() { F=$((F + 1)); echo "not ok - $*"; }
skip() { S=$((S + 1)); echo "skip - $*"; }
check() {	# NAME CMD...
	local what=$1; shift
	if "$@" >/tmp/check.out 2>&1; then ok "$what"; else not_ok "$what: $(tail -c 400 /tmp/check.out | tr '\n' ' ')"; fi
}
DM="dmsetup --noudevsync"
# busybox ash prefers its own applets to PATH: use util-linux's tools
losetup() { /sbin/losetup "$@"; }
blockdev() { /sbin/blockdev "$@"; }
T=timeout
grep -q ovbd.quick /proc/cmdline && QUICK=1
grep -q ovbd.full /proc/cmdline && FULL=1
depth() { if [ -n "$FULL" ]; then echo "$1"; elif [ -n "$QUICK" ]; then echo "$3"; else echo "$2"; fi; }	# FULL CI QUICK
grep -q ovbd.smoke /proc/cmdline && SMOKE=1	# load the module, map one image, stop
dev_sha() { $T 300 head -c "$2" "$1" | sha256sum | cut -d' ' -f1; }
CM=/sys/module/dm_overlaybd/parameters/cache_mb	# zfile's decoded-block cache limit
zst() { dmsetup status "$1" | awk -v f="$2" '{print $f}'; }	# status field N of device D
kmsg_has() { dmesg | tail -n 20 | grep -q "$1"; }
one_step_line() {	# K FILE: one "ovbd: " line naming step K (OVBD_TEST_FAIL_AT)
	[ "$(wc -l <"$2")" = 1 ] && grep -qE "^ovbd: .*step $1 \(" "$2"
}
# what more than one part uses, so that each part also runs alone
# (SECTIONS, and run.sh's second boot): the fixtures' directories
E=stacks/ext4 V=verity/layout H=hostile
OVBD_BIN=$(command -v ovbd)
mem() { awk '/^(SUnreclaim|VmallocUsed):/ {s += $2} END {print s}' /proc/meminfo; }
zsect() { echo $(( ($(cat "$1") + 511) / 512 )); }
vtree_ok() {	# MOUNTPOINT: every file's sha256 as in the source tree of layers 0-1
	(cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) >/tmp/vtree.sha256 2>/dev/null
	cmp -s /tmp/vtree.sha256 $E/tree-2.sha256
}
# DEV reads as $E/ref.raw does: O_DIRECT in 1 MiB and in 4 KiB, and buffered
# whole from a cold page cache
reads_match() {	# LABEL DEV
	[ -n "$refsha" ] || refsha=$(sha256sum <$E/ref.raw | cut -d' ' -f1)
	check "$1: O_DIRECT 1 MiB reads match the reference" $T 300 blkprobe cmp "$2" $E/ref.raw 1048576
	check "$1: O_DIRECT 4 KiB reads match the reference" $T 300 blkprobe cmp "$2" $E/ref.raw 4096
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dev_sha "$2" "$(stat -c %s $E/ref.raw)")
	[ "$got" = "$refsha" ] && ok "$1: buffered read of the whole device matches" ||
		not_ok "$1: buffered read sha256 $got"
}
# "# section SECONDS NAME": where the run's time goes (tests/qemu/run.sh sums it)
section() { echo "# section $(cut -d. -f1 /proc/uptime) $*"; }

# ovbd.sections=a,b (tests/qemu/run.sh SECTIONS=): this script's prelude, its
# module section and the sections named, cut out of it by their "section" lines
want=$(sed -n 's/.*ovbd\.sections=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$want" ] && [ -z "$OVBD_SLICED" ]; then
	awk -v want=",module,$want,end," '/^section [a-z0-9-]+$/ { keep = index(want, "," $2 ",") > 0 }
		!started && /^section / { started = 1 } !started || keep' "$0" >/tmp/sliced.sh
	OVBD_SLICED=1 exec sh /tmp/sliced.sh
fi

# ---- module
section module
check "insmod dm-overlaybd" insmod /modules/dm-overlaybd.ko
for t in zfile lsmt zfile_target lsmt_target; do
	check "target $t registered" sh -c "dmsetup targets | grep -q '^$t '"
done

# ---- upstream images, through ovbd open and through hand-written tables
section upstream
if [ -f shared/expected.tsv ]; then
	row=0
	grep -v '^#' shared/expected.tsv | while IFS='	' read -r kind layers bytes digest; do
		[ -n "$SMOKE" ] && [ "$row" -gt 0 ] && break
		files=$(echo "$layers" | tr , ' ')
		set --; for f in $files; do set -- "$@" "shared/$f"; done
		if [ "$bytes" = 0 ]; then
			check "ovbd open $kind $layers: a 0-byte image is refused with a message" \
				sh -c "! ovbd open img$row $* 2>/tmp/e && grep -q 'nothing to map' /tmp/e"
			row=$((row + 1)); continue
		fi
		if ovbd open "img$row" "$@" >/tmp/open.out 2>&1; then
			got=$(dev_sha "/dev/mapper/img$row" "$bytes")
			[ "$got" = "$digest" ] && ok "ovbd open $kind $layers: sha256" ||
				not_ok "ovbd open $kind $layers: sha256 $got"
			check "ovbd close img$row" ovbd close "img$row"
		else
			not_ok "ovbd open $kind $layers: $(cat /tmp/open.out)"
		fi
		[ -n "$SMOKE" ] && break
		# the same with dmsetup and the RFC's target names
		i=0; loops=""
		for f in $files; do
			src=shared/$f; sz=$(stat -c %s "$src")
			if [ $((sz % 512)) -gt 416 ]; then	# trailer fields in the sector a loop drops
				cp "$src" "/tmp/$f"; truncate -s $(( (sz + 511) / 512 * 512 )) "/tmp/$f"; src=/tmp/$f
			fi
			l=$(losetup -r -f --show "$src"); loops="$loops $l"
			eval "L$i=$l"; i=$((i + 1))
		done
		made=""; good=1
		while IFS='	' read -r r name table; do
			[ "$r" = "$row" ] || continue
			for j in 0 1 2 3; do eval "table=\$(echo \"\$table\" | sed \"s#@$j#\$L$j#g\")"; done
			if $DM create --readonly "$name" --table "$table"; then made="$name $made"; else good=0; fi
			$DM mknodes "$name"
		done <shared/tables.txt
		top=${made%% *}
		if [ $good = 1 ] && [ -n "$top" ]; then
			got=$(dev_sha "/dev/mapper/$top" "$bytes")
			[ "$got" = "$digest" ] && ok "dmsetup tables $kind $layers: sha256" ||
				not_ok "dmsetup tables $kind $layers: sha256 $got"
		else
			not_ok "dmsetup tables $kind $layers: create failed"
		fi
		for d in $made; do $DM remove "$d"; done
		for l in $loops; do losetup -d "$l"; done
		rm -f /tmp/*.zfile
		row=$((row + 1))
	done
else
	skip "upstream images: ../shared is absent"
fi

# ---- ovbd-made ext4 stacks: 2 and 10 layers, and 255 layers
section ext4-stacks
check_tree() {	# NAME LAYERS|oci:DIR:TAG TREE_MANIFEST DISK_SHA
	local name=$1 n=$2 tree=$3 disk=$4
	set --; for f in $(ls $E/L* | head -n "$n"); do set -- "$@" "$f"; done
	case $n in oci:*) set -- "$n";; esac
	if ! ovbd open "$name" "$@" >/tmp/open.out 2>&1; then
		not_ok "$name: ovbd open: $(cat /tmp/open.out)"; return
	fi
	got=$(dev_sha "/dev/mapper/$name" $((48 << 20)))
	[ "$got" = "$(cat "$disk")" ] && ok "$name: device sha256" || not_ok "$name: device sha256 $got"
	mkdir -p "/mnt/$name"
	if mount -t ext4 -o ro,noload "/dev/mapper/$name" "/mnt/$name"; then
		(cd "/mnt/$name" && find . -type f | LC_ALL=C sort | xargs sha256sum) >/tmp/tree.sha256
		check "$name: ext4 mounted read-only, every file's sha256 matches" cmp /tmp/tree.sha256 "$tree"
		umount "/mnt/$name"
	else
		not_ok "$name: mount ext4"
	fi
	check "$name: ovbd status" sh -c "ovbd status $name | grep -q lsmt"
	case $n in oci:*) check "$name: ovbd status names the image and its manifest digest" \
		sh -c "ovbd status $name | grep -qE '^image $n manifest sha256:[0-9a-f]{64}\$'";; esac
	check "$name: reset_counters zeroes the read counter" sh -c \
		"dmsetup message $name 0 reset_counters && dmsetup status $name | awk '{n = \$7; seen = 1} END {exit !(seen && n == 0)}'"
	check "$name: an unknown message is refused" sh -c "! dmsetup message $name 0 frobnicate 2>/dev/null"
	check "$name: ovbd close" ovbd close "$name"
}
check_tree ext4x2 2 $E/tree-2.sha256 $E/disk-2.sha256
[ -n "$SMOKE" ] && { echo "guest: smoke tests finished"; exit 0; }
check_tree ext4x10 10 $E/tree-10.sha256 $E/disk-10.sha256
# the same 2-layer image as an OCI layout made by ovbd image build
check_tree ext4oci oci:stacks/layout:ext4 $E/tree-2.sha256 $E/disk-2.sha256

# ---- a registry on the guest's loopback: open by reference, and open --lazy
section registry-lazy
REG=127.0.0.1:5000
if [ -d registry ] && command -v docker-registry >/dev/null && command -v nbdkit >/dev/null &&
   command -v nbd-client >/dev/null; then
	REG_PID=$(guest-registry registry) || not_ok "docker-registry did not answer on $REG: $(tail -c 300 /tmp/reg.log)"
	export OVBD_STORE=/tmp/store OVBD_LAZY_TIMEOUT=5
	tree_ok() {	# MOUNTPOINT [TAG [SUMS]]: every file's sha256 as in the source tree (SUMS: tree-2's)
		(cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) >/tmp/tree$2.sha256 2>/tmp/tree$2.err
		cmp -s /tmp/tree$2.sha256 "${3:-$E/tree-2.sha256}"
	}
	# NAME MOUNTPOINT [SUMS] [LABEL]: 8 readers of every file (tree_ok) across
	# NAME's handover, which the test hook held until now
	readers_across_handover() {
		readers=""
		for r in 1 2 3 4 5 6 7 8; do
			( n=0 bad=0; while [ ! -e /tmp/readers.stop ] || [ $n -lt 2 ]; do
				tree_ok "$2" .$r "$3" || bad=$((bad + 1)); n=$((n + 1)); done; echo "$n $bad" >/tmp/reader.$r ) &
			readers="$readers $!"
		done
		sleep 2; touch /run/ovbd/$1.go
		check "open --lazy$4: the supervisor downloads, verifies and hands every layer over" settled $1
		touch /tmp/readers.stop; wait $readers
		bad=$(cat /tmp/reader.* | awk '{b += $2} END {print b + 0}'); rounds=$(cat /tmp/reader.* | awk '{n += $1} END {print n + 0}')
		[ "$bad" = 0 ] && [ "$rounds" -ge 16 ] && ok "handover$4 under 8 readers of the mounted ext4: $rounds tree reads, no mismatch, no error" ||
			not_ok "handover$4 under 8 readers: $bad of $rounds tree reads failed"
		rm -f /tmp/readers.stop /tmp/reader.*
	}
	settled() {	# NAME: the supervisor handed everything over (its state is gone)
		i=0; while [ $i -lt 600 ] && [ -e /run/ovbd/$1.lazy ]; do sleep 0.2; i=$((i + 1)); done
		[ ! -e /run/ovbd/$1.lazy ]
	}
	lazy_env_ok() {	# NAME: TMPDIR=the store in each nbdkit's environment only (its cache file there)
		local store sup kits k
		store=$(awk '$1 == "store" {print $2}' /run/ovbd/$1.lazy)
		sup=$(awk '$1 == "supervisor" {print $2}' /run/ovbd/$1.lazy)
		kits=$(awk '$1 == "layer" && $7 > 0 {print $7}' /run/ovbd/$1.lazy)
		[ -n "$store" ] && [ -n "$sup" ] && [ -n "$kits" ] || return 1
		tr '\0' '\n' </proc/$sup/environ | grep -qx "TMPDIR=$store" && return 1
		for k in $kits; do
			tr '\0' '\n' </proc/$k/environ | grep -qx "TMPDIR=$store" || return 1
			ls -l /proc/$k/fd/ | grep -q " $store/.*(deleted)" || return 1
		done
	}
	lazy_piece_ok() {	# NAME PIECE: each nbdkit's cache piece (its registry requests) is PIECE bytes
		local pid got
		awk '$1 == "layer" && $7 > 0 {print $7}' /run/ovbd/$1.lazy >/tmp/pieces
		[ -s /tmp/pieces ] || return 1
		while read -r pid; do
			got=$(tr '\0' '\n' </proc/$pid/cmdline | sed -n 's/^cache-min-block-size=//p')
			[ "$got" = "$2" ] || { echo "nbdkit $pid: piece $got, not $2"; return 1; }
		done </tmp/pieces
	}
	left() {	# an nbd connection, nbdkit, loop device or dm device
		ls /sys/block/nbd*/pid >/dev/null 2>&1 || pidof nbdkit >/dev/null ||
		[ -n "$(losetup -a)" ] || [ -n "$(dmsetup ls | grep -v 'No devices')" ]
	}
	nothing_left() {	# within 20 s (loop devices clear themselves asynchronously)
		i=0; while [ $i -lt 200 ] && left; do sleep 0.1; i=$((i + 1)); done
		! left
	}
	drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

	# open by reference: pulled into the store, mapped, every file checked
	if ovbd open byref $REG/ext4:v1 >/tmp/open.out 2>&1; then
		mkdir -p /mnt/byref
		check "open by registry reference: mounted, every file's sha256 matches" sh -c \
			"mount -t ext4 -o ro,noload /dev/mapper/byref /mnt/byref && (cd /mnt/byref && find . -type f | LC_ALL=C sort | xargs sha256sum) | cmp - $E/tree-2.sha256"
		umount /mnt/byref 2>/dev/null
		check "open by registry reference: status names the reference and its manifest" sh -c \
			"ovbd status byref | grep -qE '^image $REG/ext4:v1 manifest sha256:[0-9a-f]{64}\$'"
		check "open by registry reference: close" ovbd close byref
	else
		not_ok "open by registry reference: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store

	# lazy: mapped at once from the registry, handed over to local files
	mkdir -p /mnt/lz
	if OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy --timings lz $REG/ext4:v1 >/tmp/open.out 2>&1; then
		ok "open --lazy: mapped with nothing in the store"
		# the phases of the open, each a time >= 0, adding up to the total
		check "open --lazy --timings: $(grep '^timings:' /tmp/open.out)" awk '
			/^timings:/ { n++; for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[2] !~ /^[0-9]+\.[0-9]+$/) bad = 1
				if (kv[1] == "total") t = kv[2]; else { s += kv[2]; k = k " " kv[1] } } }
			END { exit !(n == 1 && !bad && k == " manifest trees nbdkit nbd devices supervisor" && s - t < 0.01 && t - s < 0.01) }' /tmp/open.out
		check "open --lazy: status shows every layer remote, on an nbd device" sh -c \
			"[ \$(ovbd status lz | grep -c '^layer [0-9] sha256:.* remote /dev/nbd') = 2 ]"
		check "open --lazy: TMPDIR=the store for nbdkit's cache file only, not for the supervisor" lazy_env_ok lz
		check "open --lazy: each blob's registry requests are 512 KiB pieces" lazy_piece_ok lz 524288
		check "open --lazy: each nbdkit tries a failed registry request once more, and the kernel's nbd timeout allows for 8 requests in line, each with both tries (98 s)" sh -c "
			awk '\$1 == \"layer\" && \$7 > 0 {print \$7}' /run/ovbd/lz.lazy >/tmp/kits && [ -s /tmp/kits ] &&
			while read -r k; do tr '\\0' '\\n' </proc/\$k/cmdline | grep -qx -e --filter=retry-request &&
				tr '\\0' '\\n' </proc/\$k/cmdline | grep -qx retry-request-retries=1 || exit 1; done </tmp/kits &&
			for t in /sys/block/nbd*/pid; do [ -e \$t ] || continue; d=\${t%/pid};
				[ \$(cat \$d/queue/io_timeout) = 98000 ] || exit 1; done"
		mount -t ext4 -o ro,noload /dev/mapper/lz /mnt/lz
		check "open --lazy: mounted, every file's sha256 matches (read from the registry)" tree_ok /mnt/lz
		nbdread=$(awk '{s += $3} END {print s * 512}' /sys/block/nbd*/stat)
		echo "# lazy: $nbdread bytes read through nbd for the whole tree; store: $(du -sk /tmp/store | cut -f1) KiB"
		readers_across_handover lz /mnt/lz
		check "after the handover: loop devices of the stored blobs, no nbd device" sh -c \
			"ovbd status lz | grep -q '^loop  /dev/loop.* /tmp/store/blobs/sha256/' && ! ovbd status lz | grep -q nbd && ! ls /sys/block/nbd*/pid >/dev/null 2>&1"
		# the handover ends on the stored blobs' shared parts (one set per blob),
		# which a second open of the image, its blobs stored now, reuses
		check "after the handover: each layer on its stored blob's shared part, no private part left ($(dmsetup ls | tr '\n' ' '))" sh -c \
			"[ \$(dmsetup ls | grep -cE '^ovbd-blob-[0-9a-f]{24}-[lz]\s') = 2 ] && ! dmsetup ls | grep -qE '^lz-' &&
			 ovbd status lz | grep -qE 'ovbd-blob-[0-9a-f]{24}-z: .*\(used by lz\)'"
		if ovbd open --lazy lz2 $REG/ext4:v1 >/tmp/open2.out 2>&1; then
			check "a second open --lazy of the image after the handover: the same two parts, used by both" sh -c \
				"[ \$(dmsetup ls | grep -cE '^ovbd-blob-') = 2 ] && ovbd status lz2 | grep -qE 'ovbd-blob-[0-9a-f]{24}-z: .*\(used by (lz, lz2|lz2, lz)\)'"
			ovbd close lz2 >/dev/null
			check "... closed: the parts stay for lz" sh -c "[ \$(dmsetup ls | grep -cE '^ovbd-blob-') = 2 ]"
		else
			not_ok "a second open --lazy after the handover: $(cat /tmp/open2.out)"
		fi
		drop
		check "after the handover: every file still matches" tree_ok /mnt/lz
		umount /mnt/lz
		check "after the handover: ovbd close" ovbd close lz
		check "after the handover: close leaves nothing (nbd, nbdkit, loop, dm)" nothing_left
	else
		not_ok "open --lazy: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store

	# OVBD_LAZY_PIECE (for measuring) reaches every nbdkit
	if OVBD_LAZY_PIECE=65536 OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy pc $REG/ext4:v1 >/tmp/open.out 2>&1; then
		check "OVBD_LAZY_PIECE=65536: each blob's registry requests are 64 KiB pieces" lazy_piece_ok pc 65536
		ovbd close pc >/dev/null 2>&1
	else
		not_ok "OVBD_LAZY_PIECE: open --lazy: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store
	# the registry stalls (SIGSTOP): EIO after the timeout, never a hang; back when
	# it resumes. Each request takes two tries of 5 s a second apart (nbdkit's
	# retry-request filter) and the read waits for the requests in line before
	# its own: 120 s bounds a hang (the kernel's hung-task warning comes at 120 s)
	if OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy st $REG/ext4:v1 >/tmp/open.out 2>&1 &&
	   mount -t ext4 -o ro,noload /dev/mapper/st /mnt/lz; then
		drop; kill -STOP $REG_PID
		t0=$(date +%s)
		cat /mnt/lz/bin/busybox >/dev/null 2>/tmp/e; rc=$?
		t1=$(date +%s)
		[ $rc != 0 ] && [ $((t1 - t0)) -lt 120 ] && ok "a stalled registry: the read fails with an I/O error after $((t1 - t0)) s (two tries of 5 s per request), no hang" ||
			not_ok "a stalled registry: exit $rc after $((t1 - t0)) s: $(cat /tmp/e)"
		kill -CONT $REG_PID; drop
		check "the registry resumes: the same read works again" sh -c "cmp -s /mnt/lz/bin/busybox /bin/busybox"
		touch /run/ovbd/st.go
		check "... and so does the background download (handed over)" settled st
		umount /mnt/lz; ovbd close st >/dev/null 2>&1
	else
		not_ok "stalled registry: open or mount: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store

	# nbdkit killed: I/O errors, not a hang; the handover recovers the device
	if OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy nk $REG/ext4:v1 >/tmp/open.out 2>&1 &&
	   mount -t ext4 -o ro,noload /dev/mapper/nk /mnt/lz; then
		drop; kill -9 $(pidof nbdkit)
		t0=$(date +%s); cat /mnt/lz/bin/busybox >/dev/null 2>/tmp/e; rc=$?; t1=$(date +%s)
		# the supervisor sees nbdkit gone within 0.2 s and disconnects its nbd
		# device: the read fails at once on both kernels (6.1's nbd alone fails
		# a request in flight only when its timeout expires, 98 s here)
		[ $rc != 0 ] && [ $((t1 - t0)) -lt 30 ] && ok "nbdkit killed: reads fail with an I/O error after $((t1 - t0)) s, no hang" ||
			not_ok "nbdkit killed: exit $rc after $((t1 - t0)) s"
		check "nbdkit killed: status says so for the layer (within 5 s)" sh -c \
			"for i in \$(seq 50); do ovbd status nk | grep -q 'nbdkit exited: /dev/nbd[0-9]* disconnected' && exit 0; sleep 0.1; done; exit 1"
		touch /run/ovbd/nk.go
		check "nbdkit killed: the background download still hands over" settled nk
		drop
		check "nbdkit killed: after the handover the same mount reads every file again" tree_ok /mnt/lz
		umount /mnt/lz; ovbd close nk >/dev/null 2>&1
	else
		not_ok "nbdkit killed: open or mount: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store

	# wrong bytes from the registry: CRC32C errors, the handover refused, the remote path kept
	# the zstd ZFile layer (layer 1 of ext4:v1, whose digest mkdata.sh wrote)
	zl=$(cut -d' ' -f1 stacks/twin1.sha256)
	blob=/tmp/reg/docker/registry/v2/blobs/sha256/$(echo $zl | cut -c1-2)/$zl/data
	cp "$blob" /tmp/good.blob
	third=$(( $(stat -c %s "$blob") / 512 / 3 ))
	dd if=/dev/urandom of="$blob" bs=512 seek=$third count=$third conv=notrunc 2>/dev/null
	if ovbd open --lazy wb $REG/ext4:v1 >/tmp/open.out 2>&1; then
		mount -t ext4 -o ro,noload /dev/mapper/wb /mnt/lz 2>/dev/null
		(cd /mnt/lz 2>/dev/null && find . -type f | xargs cat >/dev/null 2>/tmp/e)
		check "wrong bytes: reads of the damaged blocks fail (zfile's CRC32C), the rest reads" sh -c \
			"grep -q 'Input/output error' /tmp/e && dmesg | grep -qi 'crc32c'"
		# the download starts once the reads above have stopped: wait for its verdict
		check "wrong bytes: the sha256 check refuses the handover; the layer stays remote, and status says why" sh -c \
			"i=0; while [ \$i -lt 300 ] && ! ovbd status wb | grep -q 'download failed'; do sleep 0.2; i=\$((i + 1)); done
			 ovbd status wb | grep -q '^layer .* remote /dev/nbd.*download failed'"
		cp /tmp/good.blob "$blob"
		check "wrong bytes: once the registry serves the right ones, a retry hands over" settled wb
		umount /mnt/lz 2>/dev/null; ovbd close wb >/dev/null 2>&1
	else
		not_ok "wrong bytes: open: $(cat /tmp/open.out)"
		cp /tmp/good.blob "$blob"
	fi
	rm -rf /tmp/store

	# three lazy opens at once: each starts its layers side by side, and
	# they race for the same free nbd devices; a loser takes the next one
	pids=
	for x in 1 2 3; do
		OVBD_STORE=/tmp/store$x OVBD_TEST_LAZY_HOLD=1 $T 120 ovbd open --lazy cc$x $REG/ext4:v1 >/tmp/open$x.out 2>&1 &
		pids="$pids $!"
	done
	wait $pids	# not a bare wait: the registry runs in the background too
	good=0
	for x in 1 2 3; do
		mkdir -p /mnt/cc$x
		[ -b /dev/mapper/cc$x ] || echo "# open --lazy cc$x: $(cat /tmp/open$x.out)"
		[ -b /dev/mapper/cc$x ] && mount -t ext4 -o ro,noload /dev/mapper/cc$x /mnt/cc$x && tree_ok /mnt/cc$x cc$x &&
			good=$((good + 1))
	done
	check "3 concurrent open --lazy of a 2-layer image: 6 distinct nbd devices, every file of each matches" sh -c \
		"[ $good = 3 ] && [ \$(ls /sys/block/nbd*/pid | wc -l) = 6 ] &&
		 [ \$(cat /run/ovbd/cc?.lazy | grep -o '/dev/nbd[0-9]*' | sort -u | wc -l) = 6 ]"
	for x in 1 2 3; do
		umount /mnt/cc$x 2>/dev/null; OVBD_STORE=/tmp/store$x ovbd close cc$x >/dev/null 2>&1
		rm -rf /tmp/store$x
	done
	check "the 3 concurrent lazy opens closed: nothing left" nothing_left

	# the download waits while the first reads go on (here until 2 s without
	# one), then starts and hands over
	rm -rf /tmp/store
	if OVBD_LAZY_IDLE_MS=2000 ovbd open --lazy id $REG/ext4:v1 >/tmp/open.out 2>&1; then
		blkprobe read /dev/mapper/id 6 >/tmp/id.out 2>&1 &
		rp=$!
		sleep 4
		check "open --lazy: no download while the first reads go on (every layer remote after 4 s of reads)" sh -c \
			"! ls /tmp/store/blobs/sha256/ 2>/dev/null | grep -q partial && [ \$(ovbd status id | grep -c '^layer .* remote /dev/nbd') = 2 ]"
		wait $rp
		check "open --lazy: random reads through nbd for 6 s: $(cat /tmp/id.out)" grep -q "blocks read" /tmp/id.out
		check "open --lazy: once the reads stop, the download starts and hands every layer over" settled id
		ovbd close id >/dev/null 2>&1
	else
		not_ok "open --lazy with reads: $(cat /tmp/open.out)"
	fi
	rm -rf /tmp/store

	# a verified image: every layer read through dm-verity from the first
	# read, its tree read from the registry as lazily as its blob
	rm -rf /tmp/store
	if OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy lv $REG/ext4:vv >/tmp/open.out 2>&1; then
		ovbd status lv >/tmp/lv.status 2>&1
		check "open --lazy of a verified image: each layer's blob and its tree on nbd devices ($(tr '\n' '|' </tmp/lv.status | cut -c1-400))" \
			[ "$(grep -c '^layer [0-9] sha256:.* remote /dev/nbd[0-9]*, dm-verity tree /dev/nbd' /tmp/lv.status)" = 2 ]
		check "open --lazy of a verified image: a dm-verity device under each layer ($(dmsetup ls | tr '\n' ' '))" \
			[ "$(dmsetup ls | grep -cE '^lv-v00[01]\s')" = 2 ]
		mount -t ext4 -o ro,noload /dev/mapper/lv /mnt/lz
		check "open --lazy of a verified image: every file matches, verified from the registry" tree_ok /mnt/lz
		touch /run/ovbd/lv.go
		check "open --lazy of a verified image: the download hands each blob and tree over" settled lv
		drop
		check "... after the handover: loops under the verity devices, no nbd device" sh -c \
			"! ovbd status lv | grep -q nbd && [ \$(ovbd status lv | grep -c 'dm-verity verified') = 2 ]"
		check "... and every file still matches" tree_ok /mnt/lz
		umount /mnt/lz; ovbd close lv >/dev/null 2>&1
		check "open --lazy of a verified image: close leaves nothing" nothing_left
	else
		not_ok "open --lazy of a verified image: $(cat /tmp/open.out)"
	fi
	# the registry serves one range tampered: EIO on it, never wrong bytes;
	# the handover refuses the bad blob (its sha256 and root hash)
	rm -rf /tmp/store
	read vblob voff <verity/flip.txt
	vdata=/tmp/reg/docker/registry/v2/blobs/sha256/$(echo ${vblob#sha256:} | cut -c1-2)/${vblob#sha256:}/data
	cp "$vdata" /tmp/vgood.data; printf 'X' | dd of="$vdata" bs=1 seek=$voff conv=notrunc 2>/dev/null
	grep -v ' ./etc/file40$' $E/tree-2.sha256 >/tmp/vt2.want
	if ovbd open --lazy lt $REG/ext4:vv >/tmp/open.out 2>&1 && mount -t ext4 -o ro,noload /dev/mapper/lt /mnt/lz; then
		check "a tampered range served by the registry: the file over it fails with EIO" sh -c \
			"! cat /mnt/lz/etc/file40 >/dev/null 2>/tmp/e && grep -q 'Input/output error' /tmp/e"
		check "... the other files read right" sh -c \
			"(cd /mnt/lz && find . -type f ! -path ./etc/file40 | LC_ALL=C sort | xargs sha256sum) | cmp -s - /tmp/vt2.want"
		check "... and the handover refuses the tampered blob: that layer stays remote, status says why" sh -c \
			"i=0; while [ \$i -lt 300 ] && ! ovbd status lt | grep -q 'download failed'; do sleep 0.2; i=\$((i + 1)); done
			 ovbd status lt | grep -q '^layer 0 .* remote /dev/nbd.*download failed'"
		umount /mnt/lz
	else
		not_ok "tampered range: open --lazy and mount: $(cat /tmp/open.out)"
	fi
	ovbd close lt >/dev/null 2>&1
	cp /tmp/vgood.data "$vdata"
	check "the tampered lazy open closed: nothing left" nothing_left
	# no trees in the registry: each verified layer is downloaded whole and
	# verified before it is mapped, never mapped unverified
	rm -rf /tmp/store
	if ovbd open --lazy ln $REG/ext4:vn >/tmp/open.out 2>&1; then
		check "a verified image whose trees the registry lacks: its layers local before mapping, under dm-verity" sh -c \
			"! ovbd status ln | grep -q nbd && [ \$(dmsetup ls | grep -cE '^ovbd-blob-[0-9a-f]{24}-[0-9a-f]{16}-v\s') = 2 ]"
		mount -t ext4 -o ro,noload /dev/mapper/ln /mnt/lz
		check "... every file matches" tree_ok /mnt/lz
		umount /mnt/lz; ovbd close ln >/dev/null 2>&1
	else
		not_ok "open --lazy of a verified image without trees: $(cat /tmp/open.out)"
	fi
	check "--require-verity refuses a lazy open of an unverified image, naming the layer" sh -c \
		"! ovbd open --lazy --require-verity rv $REG/ext4:v1 2>/tmp/e && grep -q 'layer 0 .*no dm-verity root hash' /tmp/e"
	check "... and leaves nothing" nothing_left
	rm -rf /tmp/store

	# every step of open --lazy fails in turn (nbdkit start, nbd connect, dm
	# create): exit 1 with one line naming it; no dm, loop or nbd device,
	# nbdkit or /run/ovbd file left
	run_empty() { [ -z "$(ls /run/ovbd/ 2>/dev/null | grep "^$1\.")" ]; }
	lazy_fault_steps() {	# REF LABEL MIN_STEPS
		k=1 bad=0 lsteps=0
		while [ $k -le 40 ]; do
			rm -rf /tmp/store
			if OVBD_TEST_FAIL_AT=$k OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy fl $1 >/dev/null 2>/tmp/e; then
				lsteps=$((k - 1)); ovbd close fl >/dev/null 2>&1; break
			fi
			one_step_line $k /tmp/e || { bad=$((bad + 1)); echo "# open --lazy, step $k: $(cat /tmp/e)"; }
			{ nothing_left && run_empty fl; } || { bad=$((bad + 1)); echo "# open --lazy, step $k left: nbd $(ls /sys/block/nbd*/pid 2>/dev/null | wc -l), nbdkit '$(pidof nbdkit)', loops $(losetup -a | wc -l), dm $(dmsetup ls | grep -vc 'No devices'), run: $(ls /run/ovbd)"; }
			k=$((k + 1))
		done
		check "open --lazy$2: each of its $lsteps steps failed in turn: exit 1, one line naming it, nothing left ($bad bad)" \
			sh -c "[ $bad = 0 ] && [ $lsteps -ge $3 ]"
	}
	lazy_fault_steps $REG/ext4:v1 "" 5	# two layers: two nbdkit starts, two connects, dm creates

	# FULL: the same at 4 GiB (ext4:big, the last layer's tree in a sparse
	# 4 GiB ext4): mapped at once, 8 readers across the handover, and each
	# step of open --lazy failed in turn
	if [ -n "$FULL" ]; then
		if OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy lb $REG/ext4:big >/tmp/open.out 2>&1 &&
		   mount -t ext4 -o ro,noload /dev/mapper/lb /mnt/lz; then
			check "open --lazy at 4 GiB: $(blockdev --getsize64 /dev/mapper/lb) bytes mapped, every file matches" \
				tree_ok /mnt/lz .big $E/tree-10.sha256
			readers_across_handover lb /mnt/lz $E/tree-10.sha256 " at 4 GiB"
			umount /mnt/lz
			check "open --lazy at 4 GiB: close leaves nothing" sh -c "ovbd close lb && sleep 1 && ! ls /sys/block/nbd*/pid >/dev/null 2>&1"
		else
			not_ok "open --lazy at 4 GiB: $(cat /tmp/open.out)"
			ovbd close lb >/dev/null 2>&1
		fi
		lsteps_v1=$lsteps
		lazy_fault_steps $REG/ext4:big " at 4 GiB" 4	# one layer
		lsteps=$lsteps_v1	# the handover's steps below follow the two-layer open's
		rm -rf /tmp/store
	fi
	# then each step of the handover (per layer: loop attach, table load,
	# suspend, resume): the supervisor logs it, keeps the device reading
	# from the registry, retries and hands over; close leaves nothing
	j=1 bad=0
	while [ $j -le $(depth 8 8 4) ]; do
		rm -rf /tmp/store
		k=$((lsteps + j))
		if OVBD_TEST_FAIL_AT=$k OVBD_TEST_LAZY_HOLD=1 ovbd open --lazy hf $REG/ext4:v1 >/dev/null 2>/tmp/e &&
		   mount -t ext4 -o ro,noload /dev/mapper/hf /mnt/lz; then
			cmp -s /mnt/lz/bin/busybox /bin/busybox || { bad=$((bad + 1)); echo "# handover step $k: read before"; }
			touch /run/ovbd/hf.go
			settled hf || { bad=$((bad + 1)); echo "# handover step $k: not settled: $(cat /run/ovbd/hf.lazy)"; }
			grep -q "step $k (" /run/ovbd/hf.log || { bad=$((bad + 1)); echo "# handover step $k: not in the log: $(cat /run/ovbd/hf.log)"; }
			drop
			cmp -s /mnt/lz/bin/busybox /bin/busybox || { bad=$((bad + 1)); echo "# handover step $k: read after"; }
			umount /mnt/lz
		else
			bad=$((bad + 1)); echo "# handover step $k: open or mount: $(cat /tmp/e)"
		fi
		ovbd close hf >/dev/null 2>&1
		{ nothing_left && run_empty hf; } || { bad=$((bad + 1)); echo "# handover step $k: left $(ls /run/ovbd)"; }
		j=$((j + 1))
	done
	check "the handover: each of its first $((j - 1)) steps failed once: logged, retried, every read right, nothing left after close ($bad bad)" [ $bad = 0 ]
	rm -rf /tmp/store

	# open, handover and close, again and again: nothing leaks
	rounds=$(depth 50 12 6)
	slab0=$(awk '/^Slab:/ {print $2}' /proc/meminfo); vm0=$(awk '/^VmallocUsed:/ {print $2}' /proc/meminfo)
	bad=0 r=0
	while [ $r -lt $rounds ]; do
		rm -rf /tmp/store
		ovbd open --lazy rr $REG/ext4:v1 >/dev/null 2>&1 && settled rr && ovbd close rr >/dev/null 2>&1 &&
			nothing_left || { bad=$((bad + 1)); ovbd close rr >/dev/null 2>&1
			echo "# lazy round $r failed: nbd $(ls /sys/block/nbd*/pid 2>/dev/null | wc -l), nbdkit '$(pidof nbdkit)', loops $(losetup -a | wc -l), dm $(dmsetup ls | grep -vc 'No devices')"; }
		r=$((r + 1))
	done
	drop
	slab1=$(awk '/^Slab:/ {print $2}' /proc/meminfo); vm1=$(awk '/^VmallocUsed:/ {print $2}' /proc/meminfo)
	[ $bad = 0 ] && [ $((slab1 - slab0)) -lt 4096 ] && [ $((vm1 - vm0)) -lt 4096 ] &&
		ok "$rounds rounds of open --lazy, handover and close: nothing left (slab $((slab1 - slab0)) KiB, vmalloc $((vm1 - vm0)) KiB)" ||
		not_ok "$rounds lazy rounds: $bad failed; slab $((slab1 - slab0)) KiB, vmalloc $((vm1 - vm0)) KiB"
	kill $REG_PID
	rm -rf /tmp/store /tmp/reg
else
	skip "registry, open by reference and --lazy: docker-registry, nbdkit or nbd-client missing from the guest"
fi

# ---- the kernel as the one record: DM UUIDs, list, status --json, crash safety
section records-crash
no_leftovers() {	# NAME: no dm device, loop device or record of NAME is left
	i=0
	while [ $i -lt 50 ] && [ -n "$(losetup -a)" ]; do sleep 0.1; i=$((i + 1)); done
	! dmsetup ls | grep -qE "^($1|ovbd-blob-)" && [ -z "$(losetup -a)" ] && [ ! -e /run/ovbd/$1.image ]
}
set --; for f in $(ls $E/L* | head -n 3); do set -- "$@" "$f"; done
if ovbd open uu "$@" >/tmp/open.out 2>&1; then
	check "uuids: the stack is OVBD-stack-<32 hex>-uu, each layer's shared part ovbd-blob-<24 hex>-z (OVBD-blob-<64 hex>-z)" sh -c "
		dmsetup info -c --noheadings -o name,uuid | grep -qE '^uu:OVBD-stack-[0-9a-f]{32}-uu\$' &&
		[ \$(dmsetup info -c --noheadings -o name,uuid | grep -cE '^ovbd-blob-[0-9a-f]{24}-[zl]:OVBD-blob-[0-9a-f]{64}-[zl]\$') = 3 ]"
	check "uuids: three read-only loop devices that clear themselves (LO_FLAGS_AUTOCLEAR)" sh -c "
		[ \$(/sbin/losetup -l -n -O AUTOCLEAR,RO | grep -cE '^ *1 +1 *\$') = 3 ]"
	check "ovbd list: the stack, its layers and counters, from the kernel alone" sh -c "ovbd list | grep -qE '^uu +3 '"
	check "ovbd list --json and status --json: names, layers, devices and counters" sh -c "
		ovbd list --json | grep -q '\"name\": \"uu\"' && ovbd status --json uu | grep -q '\"layers\": 3' &&
		ovbd status --json uu | grep -q '\"kind\": \"loop\"' && ovbd status --json uu | grep -q '\"reads\": '"
	check "ovbd status: loops with their files, the zfile devices, the stack's uuid" sh -c "
		ovbd status uu | grep -q '^loop  /dev/loop[0-9]* .*/L00' && ovbd status uu | grep -qE '^dm    ovbd-blob-[0-9a-f]{24}-z: .* \(used by uu\)' && ovbd status uu | grep -q '^uuid  OVBD-stack-'"
	check "open of a name that is open is refused" sh -c "! ovbd open uu $* 2>/tmp/e && grep -q 'exists already' /tmp/e"
	check "ovbd close removes every device, and the loops go with them" sh -c "ovbd close uu && ! dmsetup ls | grep -qE '^(uu|ovbd-blob-)'"
	check "... no loop device is left" no_leftovers uu
else
	not_ok "uuids: ovbd open: $(cat /tmp/open.out)"
fi
check "close of a name that is not open says so" sh -c "! ovbd close nothere 2>/tmp/e && grep -q 'not open' /tmp/e"
# SIGKILL at every step of open (each loop attach, each table load), then recover
rounds=$(depth 100 32 16)
bad=0 killed=0 r=0
while [ $r -lt $rounds ]; do
	k=$(( r % 8 + 1 ))
	OVBD_TEST_KILL_AT=$k ovbd open crash "$@" >/dev/null 2>&1; rc=$?
	[ $rc = 137 ] && killed=$((killed + 1))
	if [ $((r % 2)) = 0 ]; then
		ovbd close crash >/dev/null 2>&1
	elif dmsetup info crash >/dev/null 2>&1; then	# killed after its last step: it is open
		ovbd close crash >/dev/null 2>&1
	else	# or open again, which clears what the killed one left
		ovbd open crash "$@" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# round $r: open again failed"; }
		ovbd close crash >/dev/null 2>&1
	fi
	no_leftovers crash || { bad=$((bad + 1)); echo "# round $r (killed after step $k): $(dmsetup ls | tr '\n' ' ') $(losetup -a | tr '\n' ' ')"; }
	r=$((r + 1))
done
[ $bad = 0 ] && [ $killed -gt $((rounds / 2)) ] && ok "SIGKILL at each step of ovbd open ($rounds rounds, $killed killed), then close or open again: no dm device, loop device or record left" ||
	not_ok "crash safety: $bad of $rounds rounds left something ($killed killed)"
dmsetup ls | grep -q crash && ovbd close crash >/dev/null 2>&1

# every step of ovbd open and of ovbd close fails in turn (OVBD_TEST_FAIL_AT,
# a test hook of the library): the command exits 1 with one line naming the
# step; a failed open leaves nothing, a failed close is finished by the next
section faults
k=1 bad=0 steps=0
while [ $k -le 60 ]; do
	if OVBD_TEST_FAIL_AT=$k ovbd open flt "$@" >/dev/null 2>/tmp/e; then
		steps=$((k - 1)); ovbd close flt >/dev/null 2>&1; break
	fi
	one_step_line $k /tmp/e || { bad=$((bad + 1)); echo "# open, step $k: $(cat /tmp/e)"; }
	no_leftovers flt || { bad=$((bad + 1)); echo "# open, step $k left: $(dmsetup ls | tr '\n' ' ') $(losetup -a | tr '\n' ' ')"; }
	k=$((k + 1))
done
check "ovbd open: each of its $steps steps (loop attach, dm create) failed in turn: exit 1, one line naming it, nothing left ($bad bad)" \
	sh -c "[ $bad = 0 ] && [ $steps -ge 6 ]"
k=1 bad=0 steps=0
while [ $k -le 20 ]; do
	ovbd open flt "$@" >/dev/null 2>&1 || { bad=$((bad + 1)); break; }
	if OVBD_TEST_FAIL_AT=$k ovbd close flt 2>/tmp/e; then steps=$((k - 1)); no_leftovers flt || bad=$((bad + 1)); break; fi
	one_step_line $k /tmp/e || { bad=$((bad + 1)); echo "# close, step $k: $(cat /tmp/e)"; }
	ovbd close flt >/dev/null 2>/tmp/e2 || { bad=$((bad + 1)); echo "# close after step $k: $(cat /tmp/e2)"; }
	no_leftovers flt || { bad=$((bad + 1)); echo "# close, step $k left: $(dmsetup ls | tr '\n' ' ')"; }
	k=$((k + 1))
done
check "ovbd close: each of its $steps steps (dm remove) failed in turn: one line naming it; the next close leaves nothing ($bad bad)" \
	sh -c "[ $bad = 0 ] && [ $steps -ge 2 ]"

# ---- verified images: dm-verity under every layer that has a root hash in
# the manifest, from ovbd open to every block read
section verity
mkdir -p /mnt/vr
vleft() { dmsetup ls | grep -qE "^($1(-|\s)|ovbd-blob-)" || [ -n "$(losetup -a)" ]; }
vnothing_left() { i=0; while [ $i -lt 50 ] && vleft "$1"; do sleep 0.1; i=$((i + 1)); done; ! vleft "$1"; }
if ovbd open vr oci:$V:v >/tmp/open.out 2>&1; then
	vparts=$(dmsetup ls | grep -oE '^ovbd-blob-[0-9a-f]{24}-[0-9a-f]{16}-v' | tr '\n' ' ')
	check "verity: each layer of a verified image is read through its blob's dm-verity part, the ZFile layer's in 4096-byte data blocks, the uncompressed one's in 512 (ovbd-blob-<blob>-<root>-v: $vparts)" sh -c \
		"[ \$(echo $vparts | wc -w) = 2 ] && [ \"\$(for p in $vparts; do dmsetup table \$p | awk '\$3 == \"verity\" {print \$7 \"/\" \$8}'; done | sort | tr '\\n' ' ')\" = '4096/4096 512/4096 ' ]"
	mount -t ext4 -o ro,noload /dev/mapper/vr /mnt/vr
	check "verity: mounted, every file's sha256 matches the source" vtree_ok /mnt/vr
	umount /mnt/vr
	check "verity: status shows each layer's dm-verity state (verified)" sh -c \
		"[ \$(ovbd status vr | grep -c 'dm-verity verified') = 2 ] && ovbd status --json vr | grep -q '\"verity\": \"verified\"'"
	check "verity: close removes the verity devices and the loops of the blobs and trees" sh -c "ovbd close vr"
	check "verity: nothing left after close" vnothing_left vr
else
	not_ok "verity: ovbd open of a verified image: $(cat /tmp/open.out)"
fi
check "--require-verity refuses an image without root hashes, naming the first layer, and maps nothing" sh -c \
	"! ovbd open --require-verity rq oci:stacks/layout:ext4 2>/tmp/e && grep -q 'layer 0 .*no dm-verity root hash.*verity is required' /tmp/e && ! dmsetup info rq >/dev/null 2>&1"
check "--require-verity opens a verified image" sh -c "ovbd open --require-verity rq oci:$V:v >/dev/null && ovbd close rq"
mkdir -p /etc/ovbd; echo '{"require-verity": true}' >/etc/ovbd/ovbd.json
check "\"require-verity\": true in /etc/ovbd/ovbd.json: the default refuses an unverified image" sh -c \
	"! ovbd open rq oci:stacks/layout:ext4 2>/tmp/e && grep -q 'verity is required' /tmp/e && ! dmsetup info rq >/dev/null 2>&1"
check "... and so a list of layer files, which has no manifest" sh -c "! ovbd open rq $E/L00 2>/tmp/e && grep -q 'no image manifest' /tmp/e"
rm -f /etc/ovbd/ovbd.json
# a byte of /etc/file40 flipped in layer 0's stored blob: EIO on that file, the others read
read vblob voff <$V/../flip.txt
grep -v ' ./etc/file40$' $E/tree-2.sha256 >/tmp/vt.want
rm -rf /tmp/vt; cp -r $V /tmp/vt; chmod -R u+w /tmp/vt
printf 'X' | dd of=/tmp/vt/blobs/sha256/${vblob#sha256:} bs=1 seek=$voff conv=notrunc 2>/dev/null
if ovbd open vt oci:/tmp/vt:v >/tmp/open.out 2>&1 && mount -t ext4 -o ro,noload /dev/mapper/vt /mnt/vr; then
	echo 3 >/proc/sys/vm/drop_caches
	check "verity: a byte flipped in a stored blob: reading the file over it fails with EIO" sh -c \
		"! cat /mnt/vr/etc/file40 >/dev/null 2>/tmp/e && grep -q 'Input/output error' /tmp/e"
	check "verity: ... and every other file still reads right" sh -c \
		"(cd /mnt/vr && find . -type f ! -path ./etc/file40 | LC_ALL=C sort | xargs sha256sum) | cmp -s - /tmp/vt.want"
	check "verity: ... status says that layer's verity device is corrupted, the kernel log names the block" sh -c \
		"ovbd status vt | grep -qE 'ovbd-blob-[0-9a-f-]*-v: .*dm-verity corrupted' && dmesg | grep -qE 'verity: .*data block [0-9]+ is corrupted'"
	umount /mnt/vr
else
	not_ok "verity: open and mount of the tampered copy: $(cat /tmp/open.out)"
fi
ovbd close vt >/dev/null 2>&1
check "verity: the tampered copy's devices closed: nothing left" vnothing_left vt
# a byte flipped in the middle of layer 1's blob (the zstd ZFile: 4096-byte
# verity blocks under the zfile part): reading the device fails with EIO,
# and the kernel log names that 4 KiB block of the blob
zb=$(cut -d' ' -f1 stacks/twin1.sha256)
rm -rf /tmp/vz /tmp/e; cp -r $V /tmp/vz; chmod -R u+w /tmp/vz
zsize=$(stat -c %s /tmp/vz/blobs/sha256/$zb); zoff=$((zsize / 2))
printf '\xa5' | dd of=/tmp/vz/blobs/sha256/$zb bs=1 seek=$zoff conv=notrunc 2>/dev/null
cmp -s /tmp/vz/blobs/sha256/$zb stacks/layout/blobs/sha256/$zb &&
	printf '\x5a' | dd of=/tmp/vz/blobs/sha256/$zb bs=1 seek=$zoff conv=notrunc 2>/dev/null
# (the blob is small: the ctrs' reads of the LSMT index may cover that
# block already, and then the open fails with EIO instead of the read)
n0=$(dmesg | wc -l)
if ovbd open vz oci:/tmp/vz:v >/tmp/open.out 2>&1; then
	dd if=/dev/mapper/vz of=/dev/null bs=1M iflag=direct 2>/tmp/e && echo "read it all" >/tmp/e
fi
check "verity: a byte flipped in the ZFile layer's blob ($zoff of $zsize): EIO (at open or read), and the kernel log names its 4 KiB block $((zoff / 4096)) on the blob's device" sh -c \
	"grep -q 'Input/output error' /tmp/open.out /tmp/e 2>/dev/null && dmesg | tail -n +$((n0 + 1)) | grep -qE 'verity: [0-9]+:[0-9]+: data block $((zoff / 4096)) is corrupted'"
ovbd close vz >/dev/null 2>&1
rm -rf /tmp/vz
check "verity: the copy with a flipped ZFile layer closed: nothing left" vnothing_left vz
# without the trees in the layout (its artifact's tag removed, then its
# blobs), open makes them from the stored blobs: the changed one is refused
ovbd rmi /tmp/vt:$(grep -o '"sha256-[0-9a-f]*"' /tmp/vt/index.json | tr -d '"') >/dev/null
check "verity: with no trees in the layout, open makes them and refuses the changed blob, naming the layer" sh -c \
	"! ovbd open vt oci:/tmp/vt:v 2>/tmp/e && grep -q 'layer 0 .*root hash is .*the blob was changed' /tmp/e && ! dmsetup info vt >/dev/null 2>&1"
rm -rf /tmp/vt
# open and close, again and again: no verity, loop or dm device left
rounds=$(depth 100 20 10) bad=0
for r in $(seq 1 $rounds); do
	{ ovbd open vr oci:$V:v >/dev/null && head -c 1048576 /dev/mapper/vr >/dev/null && ovbd close vr >/dev/null; } || bad=$((bad + 1))
done
check "verity: $rounds rounds of open, read and close succeed and leave no verity, loop or dm device ($bad bad)" \
	sh -c "[ $bad = 0 ] && ! dmsetup ls | grep -qE '^(vr|ovbd-blob-)' && [ -z \"\$(losetup -a)\" ]"

# ---- sharing: a layer blob's parts once, for every stack that uses it; the
# kernel is the record (a part lives while a table names it)
section sharing
parts() { dmsetup ls | grep -cE '^ovbd-blob-'; }
nloops() { losetup -a | grep -c .; }
sh_left() { dmsetup ls | grep -qE '^(sh[0-9a-z]*|ovbd-blob-[0-9a-f-]*)\s' || [ -n "$(losetup -a)" ]; }
sh_nothing_left() { i=0; while [ $i -lt 50 ] && sh_left; do sleep 0.1; i=$((i + 1)); done; ! sh_left; }
b2="$E/L00 $E/L01" b10=$(ls $E/L0* | tr '\n' ' ')
tree_of() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) 2>/dev/null | cmp -s - "$2"; }
mkdir -p /mnt/sa /mnt/sb
# shellcheck disable=SC2086
if ovbd open sha $b10 >/tmp/open.out 2>&1 && ovbd open shb $b2 >>/tmp/open.out 2>&1; then
	check "sharing: two stacks on one base: one set of parts for the ten blobs (10 parts, 10 loops)" \
		sh -c "[ \$(dmsetup ls | grep -cE '^ovbd-blob-') = 10 ] && [ \$(losetup -a | grep -c .) = 10 ]"
	check "sharing: status names both stacks on the base's parts, one on the others" sh -c \
		"[ \$(ovbd status shb | grep -c '(used by sha, shb)') = 2 ] && [ \$(ovbd status sha | grep -c '(used by sha)\$') = 8 ] &&
		 ovbd status --json sha | grep -q '\"shared\": true'"
	check "sharing: close of a part's user keeps it (open count from the kernel)" sh -c \
		"! ovbd open sha $b10 2>/dev/null; [ \$(dmsetup ls | grep -cE '^ovbd-blob-') = 10 ]"
	mount -t ext4 -o ro,noload /dev/mapper/shb /mnt/sb
	check "sharing: close the ten-layer stack: the other keeps its two parts, the eight unused go" sh -c \
		"ovbd close sha && [ \$(dmsetup ls | grep -cE '^ovbd-blob-') = 2 ] && [ \$(losetup -a | grep -c .) = 2 ]"
	drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }; drop
	check "sharing: ... and it still reads every file right (tree of layers 0-1)" tree_of /mnt/sb $E/tree-2.sha256
	umount /mnt/sb
	check "sharing: the last close removes the shared parts: nothing left" sh -c "ovbd close shb && ! dmsetup ls | grep -q ovbd-blob- && [ -z \"\$(losetup -a)\" ]"
else
	not_ok "sharing: ovbd open of two stacks on one base: $(cat /tmp/open.out)"
fi
# a verified base under three stacks of two images (vb, vc: v's base layer
# with its root hash, other configs): one dm-verity part for it
rm -rf /tmp/sh; cp -r $V /tmp/sh; chmod -R u+w /tmp/sh
if ovbd open --require-verity shv oci:/tmp/sh:v >/tmp/open.out 2>&1 && ovbd open --require-verity shw oci:/tmp/sh:vb >>/tmp/open.out 2>&1 &&
   ovbd open --require-verity shx oci:/tmp/sh:vc >>/tmp/open.out 2>&1; then
	check "sharing: a verified base under three stacks is one dm-verity part, verified for all" sh -c \
		"[ \$(dmsetup ls | grep -cE '^ovbd-blob-[0-9a-f]{24}-[0-9a-f]{16}-v\s') = 2 ] &&
		 ovbd status shw | grep -E 'ovbd-blob-.*-v: .*dm-verity verified \(used by shv, shw, shx\)'"
	l0=$(dev_sha /dev/mapper/shw $(blockdev --getsize64 /dev/mapper/shw))
	b0=$(ovbd verity show --json oci:$V:v | grep -o '"blob": *"[^"]*' | head -n 1 | sed 's|.*/||')
	want0=$(ovbd cat $V/blobs/sha256/$b0 | sha256sum | cut -d' ' -f1)
	lx=$(dev_sha /dev/mapper/shx $(blockdev --getsize64 /dev/mapper/shx))
	mount -t ext4 -o ro,noload /dev/mapper/shv /mnt/sa
	check "sharing: ... vb and vc read the base alone, as ovbd cat of its blob ($l0, $lx)" sh -c \
		"[ '$l0' = '$want0' ] && [ '$lx' = '$want0' ]"
	check "sharing: ... and v, over the shared verified base, reads every file right" vtree_ok /mnt/sa
	umount /mnt/sa
	ovbd close shv; ovbd close shw; echo 3 >/proc/sys/vm/drop_caches
	lx=$(dev_sha /dev/mapper/shx $(blockdev --getsize64 /dev/mapper/shx))
	check "sharing: close two of three: the verified base stays for the third, which still reads right" sh -c \
		"[ '$lx' = '$want0' ] && [ \$(dmsetup ls | grep -cE '^ovbd-blob-.*-v\s') = 1 ]"
	ovbd close shx >/dev/null 2>&1
	check "sharing: verified parts: nothing left after the last close" sh_nothing_left
else
	not_ok "sharing: three verified stacks on one base: $(cat /tmp/open.out)"
	for n in shv shw shx; do ovbd close $n >/dev/null 2>&1; done
fi
rm -rf /tmp/sh
# 20 opens at once of stacks on one base: exactly one set of parts
# shellcheck disable=SC2086
ovbd open sh0 $b2 >/dev/null 2>&1; one=$(parts); ovbd close sh0 >/dev/null 2>&1
bad=0
for i in $(seq 1 20); do
	# shellcheck disable=SC2086
	{ if [ $((i % 2)) = 0 ]; then ovbd open sh$i $b2; else ovbd open sh$i $E/L00 $E/L01 $E/L02; fi >/dev/null 2>/tmp/race$i.err || echo fail >>/tmp/race$i.err; } &
done
wait
for i in $(seq 1 20); do grep -q fail /tmp/race$i.err && { bad=$((bad + 1)); echo "# racing open sh$i: $(head -c 300 /tmp/race$i.err)"; }; done
check "sharing: 20 racing opens on one base all succeed, with exactly one set of parts ($(parts) parts, $(nloops) loops; $one for the base)" \
	sh -c "[ $bad = 0 ] && [ \$(dmsetup ls | grep -cE '^ovbd-blob-') = $((one + 1)) ] && [ \$(losetup -a | grep -c .) = 3 ]"
for i in $(seq 1 20); do ovbd close sh$i >/dev/null 2>&1 & done; wait
check "sharing: 20 racing closes: nothing left" sh_nothing_left
# SIGKILL at each step of open and of close of a stack whose base another
# stack uses: the other keeps reading, and nothing is left at the end
# shellcheck disable=SC2086
ovbd open shk $b2 >/dev/null 2>&1
want=$(dev_sha /dev/mapper/shk 4194304) wantall=$(dev_sha /dev/mapper/shk $(blockdev --getsize64 /dev/mapper/shk))
rounds=$(depth 100 32 16) bad=0 killed=0
for r in $(seq 1 $rounds); do
	k=$(( r % 8 + 1 ))
	if [ $((r % 3)) = 0 ]; then	# kill the close
		ovbd open shc $b10 >/dev/null 2>&1
		OVBD_TEST_KILL_AT=$(( r % 4 + 1 )) ovbd close shc >/dev/null 2>&1; [ $? = 137 ] && killed=$((killed + 1))
	else
		OVBD_TEST_KILL_AT=$k ovbd open shc $b10 >/dev/null 2>&1; [ $? = 137 ] && killed=$((killed + 1))
	fi
	if [ $((r % 2)) = 0 ]; then ovbd close shc >/dev/null 2>&1; else ovbd list --prune >/dev/null 2>&1; ovbd close shc >/dev/null 2>&1; fi
	{ echo 1 >/proc/sys/vm/drop_caches; [ "$(dev_sha /dev/mapper/shk 4194304)" = "$want" ] && [ "$(parts)" = 2 ] &&
	  [ "$(nloops)" = 2 ] && ! dmsetup info shc >/dev/null 2>&1; } ||
		{ bad=$((bad + 1)); echo "# shared kill round $r: $(dmsetup ls | tr '\n' ' ') loops $(nloops)"; }
done
check "sharing: SIGKILL of open or close of a stack on a shared base ($rounds rounds, $killed killed): the other reads right, and close or list --prune leaves only its parts ($bad bad)" \
	sh -c "[ $bad = 0 ] && [ $killed -gt $((rounds / 2)) ]"
echo 1 >/proc/sys/vm/drop_caches
check "sharing: ... and after them the other stack still reads its whole device right" [ "$(dev_sha /dev/mapper/shk $(blockdev --getsize64 /dev/mapper/shk))" = "$wantall" ]
ovbd close shk >/dev/null 2>&1
check "sharing: nothing left after the kill rounds" sh_nothing_left
check "sharing: ovbd list --prune with nothing to prune is quiet" sh -c "ovbd list --prune >/dev/null 2>/tmp/e && [ ! -s /tmp/e ]"

# ---- an ordinary image converted by ovbd convert, against umoci's unpack
section convert
if ovbd open conv oci:converted/layout:img >/tmp/open.out 2>&1; then
	ok "converted image: ovbd open oci:converted/layout:img"
	mkdir -p /mnt/conv
	if mount -t ext4 -o ro "/dev/mapper/conv" /mnt/conv; then
		converted/treelist /mnt/conv >/tmp/conv.txt
		check "converted image: every path's type, mode, owner, size, content, link target, xattrs and hard links match umoci's unpack ($(wc -l <converted/ref.txt) paths)" \
			cmp /tmp/conv.txt converted/ref.txt
		[ -s /tmp/conv.txt ] && ! cmp -s /tmp/conv.txt converted/ref.txt && diff /tmp/conv.txt converted/ref.txt | head -5 | cut -c1-200
		check "converted image: the 2 GiB sparse file reads back with its size" \
			sh -c "[ \$(stat -c %s /mnt/conv/srv/sparse.img) = 2147483648 ]"
		umount /mnt/conv
	else
		not_ok "converted image: mount ext4"
	fi
	check "converted image: ovbd close" ovbd close conv
else
	not_ok "converted image: ovbd open: $(cat /tmp/open.out)"
fi

# ---- containers: ovbd bundle, then runc and crun run the image's own config
section containers
CL=oci:containers/layout REG=${REG:-127.0.0.1:5000}
no_bundle_left() {	# nothing of a bundle: no mount under /tmp/b, no stack, no loop or nbd in use
	grep -q ' /tmp/b' /proc/mounts && return 1
	dmsetup ls | grep -qE '^(ovbd-bundle-|ovbd-blob-)' && return 1
	[ -z "$(losetup -a)" ] || return 1
	for sz in /sys/block/nbd*/size; do [ "$(cat "$sz" 2>/dev/null || echo 0)" = 0 ] || return 1; done
}
S_='[[:space:]]' 
bundle_stack() { sed -n 's/.*"stack": *"\([^"]*\)".*/\1/p' "$1/.ovbd/bundle.json"; }
if ! command -v runc >/dev/null || ! command -v crun >/dev/null; then
	not_ok "containers: runc and crun are in the guest image (tools/install-deps.sh installs them on the host)"
else
	grep -q ' /sys/fs/cgroup ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
	export OVBD_STORE=/tmp/store
	# RUNTIME DIR ID: run the bundle, its stdout in /tmp/ID.out, its exit status in /tmp/ID.rc
	run_in() {
		$T 120 $1 run --no-pivot -b "$2" "$3" >/tmp/$3.out 2>/tmp/$3.err </dev/null
		echo $? >/tmp/$3.rc
	}
	for rt in runc crun; do
		if ovbd bundle $CL:app /tmp/b-$rt >/tmp/bundle.out 2>&1; then
			ok "$rt: ovbd bundle of the converted, verified image"
		else
			not_ok "$rt: ovbd bundle: $(cat /tmp/bundle.out)"; continue
		fi
		stack=$(bundle_stack /tmp/b-$rt)
		[ $rt = runc ] && before=$(dev_sha /dev/mapper/$stack $(blockdev --getsize64 /dev/mapper/$stack))
		run_in $rt /tmp/b-$rt c-$rt
		check "$rt: the image's script exits 7, as the container's status" [ "$(cat /tmp/c-$rt.rc)" = 7 ]
		check "$rt: stdout says hello from ovbd-app (Entrypoint + Cmd, Env)" grep -qx "hello from ovbd-app" /tmp/c-$rt.out
		check "$rt: cwd is the image's WorkingDir /srv/app" grep -qx "cwd=/srv/app" /tmp/c-$rt.out
		check "$rt: uid:gid:groups are app's from the image's passwd and group (1000:1000:1000 1001)" \
			grep -qx "ids=1000:1000:1000 1001" /tmp/c-$rt.out
		for e in NAME=ovbd-app "GREETING=a b=c" HOME=/home/app PATH=/bin TERM=xterm; do
			check "$rt: environment has $e" grep -qx "$e" /tmp/c-$rt.out
		done
		check "$rt: the container wrote into its upper (upper/srv/app/note), read back in the container" \
			sh -c "grep -qx written /tmp/c-$rt.out && [ \"\$(cat /tmp/b-$rt/upper/srv/app/note)\" = written ]"
		[ -s /tmp/c-$rt.err ] && echo "# $rt stderr: $(head -c 300 /tmp/c-$rt.err)"
	done
	check "two bundles of one image share its one stack (and its verity devices)" \
		sh -c "[ \$(dmsetup ls | grep -c '^ovbd-bundle-[0-9a-f]*$S_') = 1 ] && dmsetup ls | grep -q '^ovbd-blob-[0-9a-f]*-[0-9a-f]*-v$S_'"
	check "the image's device reads the same after the containers wrote (sha256)" \
		[ "$(dev_sha /dev/mapper/$stack $(blockdev --getsize64 /dev/mapper/$stack))" = "$before" ]
	check "bundle --remove of one bundle keeps the stack the other one uses" \
		sh -c "ovbd bundle --remove /tmp/b-runc && dmsetup ls | grep -q '^$stack$S_' && [ ! -e /tmp/b-runc/rootfs ] &&
			cmp /tmp/b-crun/rootfs/bin/busybox /bin/busybox"
	remove_last() { ovbd bundle --remove /tmp/b-crun && no_bundle_left; }
	check "bundle --remove of the last bundle leaves no mount, dm, loop or nbd device" remove_last
	# --tmpfs, and a lazy bundle from the guest's registry
	if ovbd bundle --tmpfs $CL:app /tmp/bt >/tmp/bundle.out 2>&1; then
		run_in crun /tmp/bt ct
		check "--tmpfs: the container runs and its writes go to the tmpfs, not DIR/upper" \
			sh -c "[ \$(cat /tmp/ct.rc) = 7 ] && [ ! -e /tmp/bt/upper ] && [ \"\$(cat /tmp/bt/.ovbd/rw/upper/srv/app/note)\" = written ]"
		check "--tmpfs: bundle --remove" ovbd bundle --remove /tmp/bt
	else
		not_ok "--tmpfs: ovbd bundle: $(cat /tmp/bundle.out)"
	fi
	if [ -d registry ] && REG_PID=$(guest-registry registry); then
		if $T 120 ovbd bundle --lazy --plain-http $REG/app:v /tmp/bl >/tmp/bundle.out 2>&1; then
			run_in runc /tmp/bl cl
			check "--lazy: runc runs the image mapped from the registry, verified (exit 7, hello)" \
				sh -c "[ \$(cat /tmp/cl.rc) = 7 ] && grep -qx 'hello from ovbd-app' /tmp/cl.out && dmsetup ls | grep -q '^ovbd-bundle-.*-v000$S_'"
			check "--lazy: bundle --remove closes the lazy stack" \
				sh -c "ovbd bundle --remove /tmp/bl && ! dmsetup ls | grep -q '^ovbd-bundle-'"
		else
			not_ok "--lazy: ovbd bundle: $(cat /tmp/bundle.out)"
		fi
		kill $REG_PID; wait $REG_PID 2>/dev/null
	else
		not_ok "--lazy: the guest's registry did not start"
	fi
	# refusals: a disk with no file system, the image is named; a directory in use
	nofs_refused() {
		! ovbd bundle $CL:nofs /tmp/bn 2>/tmp/e && grep -q 'no file system that blkid knows' /tmp/e &&
			[ "$(wc -l </tmp/e)" = 1 ] && no_bundle_left
	}
	check "an image with no file system on its disk is refused, saying so, and nothing is left" nofs_refused
	# a runtime still in the rootfs: --remove refuses, then succeeds once it is gone
	ovbd bundle $CL:app /tmp/bb >/dev/null 2>&1
	(cd /tmp/bb/rootfs && sleep 3) &
	sleep 1
	check "bundle --remove refuses while the rootfs is busy, naming the mount" \
		sh -c "! ovbd bundle --remove /tmp/bb 2>/tmp/e && grep -q 'busy' /tmp/e"
	wait
	check "bundle --remove succeeds once the rootfs is free" ovbd bundle --remove /tmp/bb
	# every step of bundle failing (OVBD_TEST_FAIL_AT) and killed (OVBD_TEST_KILL_AT)
	fbad=0 kbad=0 k=1
	while [ $k -le 30 ]; do
		if OVBD_TEST_FAIL_AT=$k ovbd bundle $CL:app /tmp/bk >/dev/null 2>/tmp/e; then
			ovbd bundle --remove /tmp/bk; break	# past the last step
		fi
		one_step_line $k /tmp/e && no_bundle_left || { fbad=$((fbad + 1)); echo "# fail at $k: $(cat /tmp/e)"; }
		OVBD_TEST_KILL_AT=$k ovbd bundle $CL:app /tmp/bk >/dev/null 2>&1
		ovbd bundle --remove /tmp/bk >/tmp/e 2>&1 && no_bundle_left || { kbad=$((kbad + 1)); echo "# kill at $k: $(cat /tmp/e)"; }
		rm -rf /tmp/bk
		k=$((k + 1))
	done
	check "bundle: each of its $((k - 1)) steps failing leaves nothing, with one line naming the step ($fbad bad)" [ $fbad = 0 ]
	check "bundle: SIGKILL after each of its $((k - 1)) steps, then bundle --remove, leaves nothing ($kbad bad)" [ $kbad = 0 ]
	rounds=$(depth 100 20 5) bad=0
	for r in $(seq 1 $rounds); do
		rt=runc; [ $((r % 2)) = 0 ] && rt=crun
		{ ovbd bundle $CL:app /tmp/br >/dev/null && run_in $rt /tmp/br cr$r && [ "$(cat /tmp/cr$r.rc)" = 7 ] &&
			ovbd bundle --remove /tmp/br >/dev/null; } || bad=$((bad + 1))
		rm -rf /tmp/br /tmp/cr$r.*
	done
	rounds_clean() { [ $bad = 0 ] && no_bundle_left && [ -z "$(runc list -q)" ] && [ -z "$(crun list -q 2>/dev/null)" ]; }
	check "$rounds rounds of bundle, run (runc and crun in turn) and remove leak no mount, device or container ($bad bad)" rounds_clean
fi

# ---- the VM flow: the host handed the app image's layer and tree as read-only
# virtio disks (ovbd vm-disks --qemu); the guest maps them with what vm-disks
# printed, verifying with the manifest's root hashes
section vm
CL=${CL:-oci:containers/layout}
if [ -f vm/guest.cmd ]; then
	vmref=$(ovbd open vmref $CL:app >/dev/null 2>&1 && dev_sha /dev/mapper/vmref $(blockdev --getsize64 /dev/mapper/vmref))
	ovbd close vmref >/dev/null 2>&1
	if sh vm/guest.cmd >/tmp/vm.out 2>&1; then
		ok "vm-disks: the guest maps the image from its disks by serial ($(cut -c1-60 vm/guest.cmd)...)"
		vmgot=$(dev_sha /dev/mapper/vmimg $(blockdev --getsize64 /dev/mapper/vmimg))
		check "vm-disks: the mapped image reads as the stored image does (sha256), through dm-verity on the disks" \
			sh -c "[ -n '$vmref' ] && [ '$vmgot' = '$vmref' ] && dmsetup table vmimg-v000 | grep -q ' verity 1 '"
		mkdir -p /mnt/vm
		check "vm-disks: its files match (bin/busybox, mounted ext4)" \
			sh -c "mount -t ext4 -o ro,noload /dev/mapper/vmimg /mnt/vm && cmp /mnt/vm/bin/busybox /bin/busybox; r=\$?; umount /mnt/vm; exit \$r"
		check "vm-disks: ovbd close" ovbd close vmimg
	else
		not_ok "vm-disks: ovbd open --disks: $(cat /tmp/vm.out)"
	fi
	sed 's/ovbd-l000:/bad-l000:/' vm/guest.cmd >/tmp/vmbad.cmd
	if sh /tmp/vmbad.cmd >/tmp/vm.out 2>&1; then
		check "vm-disks: a disk with a flipped byte gives EIO in the guest, never its bytes" \
			sh -c "! cat /dev/mapper/vmimg >/dev/null 2>/tmp/vm.err && grep -qi 'input/output error' /tmp/vm.err"
		ovbd close vmimg >/dev/null 2>&1
	else
		not_ok "vm-disks: the flipped disk did not map: $(cat /tmp/vm.out)"
	fi
	check "vm-disks: a spec naming a disk the guest lacks is refused, naming the serial" \
		sh -c "! ovbd open --disks vmx nosuch-l000 2>/tmp/vm.err && grep -q 'no disk with the serial nosuch-l000' /tmp/vm.err"
	check "vm-disks: a malformed spec is a usage error (exit 2), naming the field" \
		sh -c "ovbd open --disks vmx 'ovbd-l000:ovbd-t000:xyz' 2>/tmp/vm.err; [ \$? = 2 ] && grep -q 'SERIAL:TREE:ROOT' /tmp/vm.err"
	check "vm-disks: --require-verity refuses a spec without root hashes" \
		sh -c "! ovbd open --require-verity --disks vmx ovbd-l000 2>/tmp/vm.err && grep -q 'verity is required' /tmp/vm.err"
	check "vm-disks: nothing is left" sh -c "! dmsetup ls | grep -q '^vm' && [ -z \"\$(losetup -a)\" ]"
else
	not_ok "vm-disks: no vm/guest.cmd in the fixtures"
fi

if [ -z "$QUICK" ]; then
	set --; for f in stacks/s255/S*; do set -- "$@" "$f"; done
	if ovbd open s255 "$@" >/tmp/open.out 2>&1; then
		ok "255 layers: ovbd open"
		got=$(dev_sha /dev/mapper/s255 $((2 << 20)))
		[ "$got" = "$(cat stacks/s255/disk.sha256)" ] && ok "255 layers: sha256" || not_ok "255 layers: sha256 $got"
		check "255 layers: ovbd close" ovbd close s255
	else
		not_ok "255 layers: ovbd open: $(cat /tmp/open.out)"
	fi
fi

# ---- concurrency: 8 readers at random offsets, every block verified
section concurrency
set --; for f in $E/L*; do set -- "$@" "$f"; done
ovbd open conc "$@" >/dev/null
check "8 concurrent readers for 20 s, every block verified" $T 120 blkprobe stress /dev/mapper/conc $E/ref.raw 8 20
# hole pieces zeroed in map (0), on the workqueue (1: every one) and as by
# default (large ones on the workqueue): the same bytes, direct and buffered
ZW=/sys/module/dm_overlaybd/parameters/zero_work_sectors
zw0=$(cat $ZW)
for zw in 0 1 "$zw0"; do
	echo "$zw" >$ZW
	reads_match "zero_work_sectors=$zw" /dev/mapper/conc
done
check "holes were zero-filled (status)" sh -c "dmsetup status conc | awk '{exit !(\$9 >= 1)}'"
ovbd close conc

# ---- zfile's prefetch of a sequential stream's next run (seq_prefetch), on
# and off: the same bytes direct and buffered, the prefetches used counted
# (status field 12), and suspend/resume under a sequential reader, which
# waits for the prefetches in flight
section prefetch
SP=/sys/module/dm_overlaybd/parameters/seq_prefetch
sp0=$(cat $SP)
for sp in N Y; do
	echo "$sp" >$SP
	for img in lz4.zfile zstd.tar; do
		w="seq_prefetch=$sp, $img"
		ovbd open pf pf/$img >/dev/null || { not_ok "$w: ovbd open"; continue; }
		reads_match "$w" /dev/mapper/pf
		hits=$(dmsetup status pf | awk '{print $12}')
		if [ "$sp" = Y ]; then
			check "$w: prefetched runs used ($hits)" [ "${hits:-0}" -ge 1 ]
			$T 300 blkprobe cmp /dev/mapper/pf $E/ref.raw 4096 >/tmp/pf.out 2>&1 & rd=$!
			n=0; while kill -0 $rd 2>/dev/null && [ $n -lt 20 ]; do
				dmsetup suspend pf && dmsetup resume pf; n=$((n + 1))
			done
			wait $rd; rc=$?
			check "$w: $n suspends and resumes under a sequential reader, its bytes right" [ $rc = 0 ]
		else
			check "$w: no prefetch ($hits)" [ "$hits" = 0 ]
		fi
		check "$w: ovbd close" ovbd close pf
	done
done
echo "$sp0" >$SP

# ---- zfile's decoded-block cache (cache_mb): hits, misses and evictions in
# status fields 13-15; never a wrong byte, with it on, off, or shrunk by
# memory pressure; shared by every stack above a blob's zfile part
section cache
cm0=$(cat $CM)
if ovbd open zc pf/lz4.zfile >/dev/null 2>&1; then
	check "cache: the default limit is 64 MiB ($cm0)" [ "$cm0" = 64 ]
	check "cache: first O_DIRECT pass reads right" $T 300 blkprobe cmp /dev/mapper/zc $E/ref.raw 65536
	d1=$(zst zc 8) h1=$(zst zc 13) m1=$(zst zc 14)
	check "cache: a second pass reads right" $T 300 blkprobe cmp /dev/mapper/zc $E/ref.raw 4096
	d2=$(zst zc 8) h2=$(zst zc 13)
	check "cache: the second pass hits the cache (hits $h1 -> $h2, misses $m1) and decodes nothing again (decoded $d1 -> $d2)" \
		sh -c "[ $h2 -gt $h1 ] && [ $m1 -ge 1 ] && [ $d2 = $d1 ]"
	echo 2 >/proc/sys/vm/drop_caches	# the shrinkers run
	check "cache: memory pressure (drop_caches=2) evicts through the shrinker ($(zst zc 15) evictions)" sh -c "[ \$(dmsetup status zc | awk '{print \$15}') -ge 1 ]"
	check "cache: after eviction, reads are right" $T 300 blkprobe cmp /dev/mapper/zc $E/ref.raw 4096
	echo 1 >$CM
	check "cache: a 1 MiB limit, random readers verified, evicting as they go" sh -c \
		"$T 120 blkprobe stress /dev/mapper/zc $E/ref.raw 2 5 && [ \$(dmsetup status zc | awk '{print \$15}') -gt 256 ]"
	check "cache: a sequential scan does not flush a full cache (at most its first bio's blocks evicted)" sh -c \
		"e0=\$(dmsetup status zc | awk '{print \$15}'); $T 300 blkprobe cmp /dev/mapper/zc $E/ref.raw 1048576 &&
		 [ \$(dmsetup status zc | awk '{print \$15}') -le \$((e0 + 512)) ]"
	echo 0 >$CM
	h3=$(zst zc 13) d3=$(zst zc 8)
	check "cache: off (cache_mb=0): reads right, no hit, every block decoded again" sh -c \
		"$T 300 blkprobe cmp /dev/mapper/zc $E/ref.raw 1048576 && [ \$(dmsetup status zc | awk '{print \$13}') = $h3 ] && [ \$(dmsetup status zc | awk '{print \$8}') -gt $d3 ]"
	echo "$cm0" >$CM
	ovbd close zc >/dev/null
else
	not_ok "cache: ovbd open of pf/lz4.zfile"
fi
ovbd open flip bad/flip.zfile >/dev/null
$T 120 blkprobe errors /dev/mapper/flip 4096 >/dev/null; $T 120 blkprobe errors /dev/mapper/flip 4096 >/tmp/ranges
check "cache: a block whose CRC failed is never cached: EIO again on exactly it ($(zst flip 9) CRC errors)" \
	sh -c "cmp -s /tmp/ranges bad/flip.expect && [ \$(dmsetup status flip | awk '{print \$9}') -ge 2 ]"
ovbd close flip
# two stacks above one blob's zfile part share its decoded blocks
if ovbd open ca $E/L00 $E/L01 >/dev/null 2>&1 && ovbd open cb $E/L00 $E/L01 >/dev/null 2>&1; then
	z=$(dmsetup ls | grep -oE '^ovbd-blob-[0-9a-f]+-z' | head -n 1)
	dd if=/dev/mapper/ca of=/dev/null bs=1M iflag=direct 2>/dev/null
	d1=$(zst "$z" 8) h1=$(zst "$z" 13)
	dd if=/dev/mapper/cb of=/dev/null bs=1M iflag=direct 2>/dev/null
	check "cache: the second stack on a shared zfile part decodes nothing again (decoded $d1 -> $(zst "$z" 8), hits $h1 -> $(zst "$z" 13))" \
		sh -c "[ \$(dmsetup status $z | awk '{print \$8}') = $d1 ] && [ \$(dmsetup status $z | awk '{print \$13}') -gt $h1 ]"
	sz=$(blockdev --getsize64 /dev/mapper/ca)
	check "cache: ... and reads the image's bytes (sha256)" [ "$(dev_sha /dev/mapper/cb $sz)" = "$(cat $E/disk-2.sha256)" ]
else
	not_ok "cache: ovbd open of two stacks on one base"
fi
ovbd close ca >/dev/null 2>&1; ovbd close cb >/dev/null 2>&1

# ---- zfile's direct reads (direct_reads): a bio within one block that does
# not continue a stream takes no slot: copied from the cache in the map
# function, or its stored block read asynchronously and decoded when the
# read completes (status field 16 counts both)
section direct
DR=/sys/module/dm_overlaybd/parameters/direct_reads
dr0=$(cat $DR) cm0=$(cat $CM)
check "direct: on by default ($dr0)" [ "$dr0" = Y ]
for img in lz4.zfile zstd.tar; do
	w="direct, $img"
	ovbd open zd pf/$img >/dev/null 2>&1 || { not_ok "$w: ovbd open"; continue; }
	echo 0 >$CM
	n0=$(zst zd 16)
	check "$w: scattered 4 KiB O_DIRECT reads match the reference (cache off)" \
		$T 300 blkprobe cmp /dev/mapper/zd $E/ref.raw 4096 scatter
	n1=$(zst zd 16)
	check "$w: ... each one direct ($n0 -> $n1 of $(zst zd 7) reads)" sh -c "[ $n1 -ge $((n0 + 12000)) ]"
	# 512-byte pieces of the first 4 MiB: decoded beside the bio, then copied
	$DM create --readonly zd4 --table "0 8192 linear /dev/mapper/zd 0" && $DM mknodes zd4
	check "$w: scattered 512-byte reads (a piece of a block) match" \
		$T 300 blkprobe cmp /dev/mapper/zd4 $E/ref.raw 512 scatter
	$DM remove zd4
	echo "$cm0" >$CM
	$T 300 blkprobe cmp /dev/mapper/zd $E/ref.raw 4096 scatter >/dev/null
	h1=$(zst zd 13) n1=$(zst zd 16)
	$T 300 blkprobe cmp /dev/mapper/zd $E/ref.raw 4096 scatter >/dev/null; rc=$?
	h2=$(zst zd 13) n2=$(zst zd 16)
	check "$w: with the cache, a second scattered pass reads right, copied from it in map (hits $h1 -> $h2, direct $n1 -> $n2)" \
		sh -c "[ $rc = 0 ] && [ $h2 -ge $((h1 + 12000)) ] && [ $n2 -ge $((n1 + 12000)) ]"
	check "$w: 8 random readers for 10 s, every block verified" $T 120 blkprobe stress /dev/mapper/zd $E/ref.raw 8 10
	echo N >$DR
	n2=$(zst zd 16)
	check "$w: off (direct_reads=N): reads right, none direct" sh -c \
		"$T 300 blkprobe cmp /dev/mapper/zd $E/ref.raw 4096 scatter && [ \$(dmsetup status zd | awk '{print \$16}') = $n2 ]"
	echo "$dr0" >$DR
	check "$w: ovbd close" ovbd close zd
done

# the tables' feature group, "<#features> <feature>..." after the fixed
# arguments: zfile's no_prefetch turns the prefetch off for one device; an
# empty group, an unknown or repeated feature; lsmt's group (none defined)
echo Y >$SP
l=$(losetup -r -f --show pf/zstd.tar)
zt=$(ovbd table fg pf/zstd.tar | sed -n "s|^fg: \(0 [0-9]* zfile\) pf/zstd.tar \([0-9]*\)\$|\1 $l \2|p")
if [ -n "$zt" ] && $DM create --readonly fg --table "$zt 1 no_prefetch"; then
	$DM mknodes fg
	reads_match "zfile feature no_prefetch" /dev/mapper/fg
	check "zfile feature no_prefetch: no prefetch with seq_prefetch=Y ($(dmsetup status fg | awk '{print $12}'))" \
		sh -c "dmsetup status fg | awk '{exit \$12 != 0}'"
	check "zfile feature no_prefetch: the table line keeps its feature group" \
		sh -c "dmsetup table fg | grep -qE ' zfile [0-9]+:[0-9]+ [0-9]+ 1 no_prefetch\$'"
	$DM remove fg
else
	not_ok "zfile table with '1 no_prefetch': $zt"
fi
check "zfile: an empty feature group (0) is a table as before" sh -c "$DM create --readonly fg --table '$zt 0' && $DM remove fg"
for f in "1 bogus" "2 no_prefetch no_prefetch" "1 no_prefetch extra" "x"; do
	check "zfile: feature group '$f' refused with the target's message" sh -c \
		"! $DM create --readonly fg --table '$zt $f' 2>/dev/null && dmesg | tail -n 5 | grep -qE 'overlaybd: fg: (zfile|Invalid)|device-mapper: table: .*(zfile|Invalid)'"
done
losetup -d "$l"
l=$(losetup -r -f --show stacks/ext4/L00)
ovbd table fl stacks/ext4/L00 >/tmp/fl.tab
zl=$(sed -n "s|^fl-z000: \(0 [0-9]* zfile\) stacks/ext4/L00 \([0-9]*\)\$|\1 $l \2|p" /tmp/fl.tab)
lt=$(sed -n "s|^fl: \(0 [0-9]* lsmt /dev/mapper/fl-z000 [0-9]*\)\$|\1|p" /tmp/fl.tab)
$DM create --readonly fl-z000 --table "$zl" && $DM mknodes fl-z000
check "lsmt: an empty feature group (0) is a table as before" sh -c "[ -n '$lt' ] && $DM create --readonly fl --table '$lt 0' && $DM remove fl"
check "lsmt: an unknown feature is refused, naming it" sh -c \
	"! $DM create --readonly fl --table '$lt 1 bogus' 2>/dev/null && dmesg | tail -n 5 | grep -q \"overlaybd: fl: lsmt: unknown feature 'bogus'\""
$DM remove fl-z000
losetup -d "$l"
echo "$sp0" >$SP

# ---- refusals and runtime faults
section refusals
l=$(losetup -r -f --show bad/truncated.zfile)
if $DM create badz --table "0 2048 zfile $l -" 2>/dev/null; then not_ok "read-write table refused"; $DM remove badz
else check "read-write table refused with a message" kmsg_has "read-only target"; fi
if $DM create --readonly badz --table "0 2048 zfile $l -" 2>/dev/null; then not_ok "truncated zfile refused"; $DM remove badz
else check "truncated zfile refused, naming the device and the field, no doubled prefix" \
	sh -c "dmesg | tail -n 20 | grep -q 'overlaybd: badz: zfile trailer magic' && ! dmesg | grep -q 'zfile: zfile'"; fi
losetup -d "$l"
l=$(losetup -r -f --show bad/overlap.lsmt)
if $DM create --readonly badl --table "0 2048 lsmt $l -" 2>/dev/null; then not_ok "overlapping index refused"; $DM remove badl
else check "overlapping index refused, naming layer and field" kmsg_has "lsmt layer 0: lsmt index entry offset"; fi
losetup -d "$l"
check "ovbd open of a bad layer fails cleanly and rolls back" sh -c \
	"! ovbd open badopen stacks/ext4/L00 bad/overlap.lsmt 2>/tmp/e && grep -q 'ovbd: ' /tmp/e && ! dmsetup info badopen-z000 >/dev/null 2>&1 && ! dmsetup ls | grep -q ovbd-blob- && [ -z \"\$(losetup -a)\" ]"

# status field N of device D is at least 1 (no device: no line: a failure)
counted() { dmsetup status "$1" | awk -v f="$2" '{n = $f} END {exit !(n >= 1)}'; }
ovbd open flip bad/flip.zfile >/dev/null
$T 120 blkprobe errors /dev/mapper/flip 4096 >/tmp/ranges
check "CRC mismatch: EIO on exactly the damaged block" cmp /tmp/ranges bad/flip.expect
check "CRC mismatch counted in status" counted flip 9
cm0=$(cat $CM); echo 0 >$CM; d0=$(zst flip 16)
$T 120 blkprobe errors /dev/mapper/flip 4096 scatter >/tmp/ranges
check "CRC mismatch on direct reads (scattered): EIO on exactly the damaged block ($d0 -> $(zst flip 16) direct)" \
	sh -c "cmp -s /tmp/ranges bad/flip.expect && [ \$(dmsetup status flip | awk '{print \$16}') -gt $d0 ]"
echo "$cm0" >$CM
ovbd close flip

# I/O errors under the layers: dm-error over the data area, the header
# sectors [0, HEAD) and everything from DATA_END on readable
eio_under() {	# WHAT BLOB HEAD DATA_END TARGET SECTORS STATUS_FIELD
	local what=$1 blob=$2 head=$3 dend=$4 target=$5 sectors=$6 field=$7 l s
	l=$(losetup -r -f --show "$blob"); s=$(( $(blockdev --getsz "$l") ))
	printf '0 %s linear %s 0\n%s %s error\n%s %s linear %s %s\n' "$head" "$l" "$head" \
		$((dend - head)) "$dend" $((s - dend)) "$l" "$dend" | $DM create --readonly under
	$DM mknodes under
	if $DM create --readonly top --table "0 $sectors $target /dev/mapper/under $(stat -c %s "$blob")"; then
		$DM mknodes top
		$T 120 blkprobe errors /dev/mapper/top 65536 >/tmp/ranges; rc=$?
		check "dm-error under $what: EIO, no hang" [ $rc = 1 ]
		$T 120 blkprobe errors /dev/mapper/top 4096 scatter >/tmp/ranges2; rc=$?
		check "dm-error under $what: scattered 4 KiB reads (zfile's direct reads): EIO, no hang" [ $rc = 1 ]
		check "dm-error under $what: I/O errors counted in status" counted top "$field"
		$DM remove top
	else
		not_ok "dm-error under $what: create"
	fi
	$DM remove under; losetup -d "$l"
}
read zidx zorig <bad/ioerr.zfile.layout
eio_under "a zfile device" bad/ioerr.zfile 1 $((zidx / 512 - 1)) zfile $(( (zorig + 511) / 512 )) 11
ioff=$(cat bad/ioerr.lsmt.layout)
eio_under "an lsmt layer" bad/ioerr.lsmt 8 $((ioff / 512)) lsmt 2048 10

# ---- every wrapper of tests/tar/mkcorpus.sh's corpus, mapped: the bytes ovbd cat reads
section tarcorpus
n=0 bad=""
for f in tarcorpus/*.tar; do
	n=$((n + 1))
	if ovbd open tw "$f" >/dev/null 2>/tmp/e; then
		got=$(dev_sha /dev/mapper/tw 1048576)
		[ "$got" = "$(cat "$f.sha256")" ] || bad="$bad $f"
		ovbd close tw
	else
		bad="$bad $f($(cat /tmp/e))"
	fi
done
check "the tar wrapper corpus: the kernel maps all $n wrappers (GNU tar, bsdtar, tarfile, busybox) and reads what ovbd cat reads:${bad:- all}" \
	[ -z "$bad" -a $n -ge 80 ]

# ---- hostile images (issue 10): each class refused cleanly or read right
section hostile
# entries past virtual_size, as overlaybd-merge of a stack that shrank writes
# them: clipped, exactly virtual_size read, as the reference made from FORMAT.md;
# a virtual_size of any byte count (shrink, odd) maps its whole sectors, as
# loop and nbd round a size down
for kind in clip shrink odd; do
	read -r want wsha <$H/$kind.lsmt.dev
	if ovbd open cl $H/$kind.lsmt >/dev/null 2>&1; then
		got=$(blockdev --getsize64 /dev/mapper/cl); sha=$(dev_sha /dev/mapper/cl "$want")
		check "entries past virtual_size ($kind, $(cat $H/$kind.lsmt.size) B): the kernel maps $want bytes, clipped, equal to the reference" \
			[ "$got" = "$want" -a "$sha" = "$wsha" ]
		ovbd close cl
	else
		not_ok "entries past virtual_size ($kind): ovbd open refused it"
	fi
done
lz=$(losetup -r -f --show $H/bomb.zfile)
$DM create --readonly bombz --table "0 $(zsect $H/bomb.bytes) zfile $lz $(stat -c %s $H/bomb.zfile)" && $DM mknodes bombz
sync; echo 3 >/proc/sys/vm/drop_caches; before=$(mem)
# two layers naming the same 256 MiB-index device: once drove the guest to the OOM killer
if $DM create --readonly bombl --table "0 2048 lsmt /dev/mapper/bombz - /dev/mapper/bombz -"; then
	$DM mknodes bombl; during=$(mem)
	check "bomb: 16M padding entries x 2 layers map with little memory (slab+vmalloc +$((during - before)) KiB)" \
		[ $((during - before)) -lt 16384 ]
	check "bomb: content reads" sh -c "head -c 512 /dev/mapper/bombl | grep -q 'bomb data 0'"
	$DM remove bombl
else
	not_ok "bomb: the lsmt table over it was refused: $(dmesg | tail -n 2 | tr '\n' ' ')"
fi
$DM remove bombz; losetup -d "$lz"

l=$(losetup -r -f --show $H/wrap.lsmt)
if $DM create --readonly wrap --table "0 2048 lsmt $l - $l -" 2>/dev/null; then not_ok "wrap: an entry across 2^50 refused"; $DM remove wrap
else check "wrap: an entry across 2^50 refused, naming the field, value and entry" \
	kmsg_has "overlaybd: wrap: lsmt layer 0: lsmt index entry end = 1125899906859004, expected at most 2^50 - 1 sectors (entry 1)"; fi
losetup -d "$l"

for t in tagged.lsmt paxdir-lsmt.tar paxdir-zfile.tar; do
	if ovbd open tg $H/$t >/tmp/open.out 2>&1; then
		check "$t: overlaybd-merge tags ignored, PAX records scoped: content right" \
			[ "$(dev_sha /dev/mapper/tg 32768)" = "$(cat $H/tagged.lsmt.sha256)" ]
		ovbd close tg
	else
		not_ok "$t: ovbd open: $(cat /tmp/open.out)"
	fi
done

lm=$(losetup -r -f --show $H/many.zfile)
$DM create --readonly manyz --table "0 $(zsect $H/many.bytes) zfile $lm $(stat -c %s $H/many.zfile)" && $DM mknodes manyz
top=$(( $(cat $H/many.bytes) / 512 - 8 ))
table() { n=$1; t=""; for i in $(seq 1 $n); do t="$t /dev/mapper/manyz -"; done; echo "0 $2 lsmt$t"; }
vs=$(( 2 * 200000 + 8 ))
start=$(date +%s)
check "manyz: the 200k-segment layer maps as a zfile device" dmsetup info manyz
if $DM create --readonly many255 --table "$(table 255 $vs)" 2>/dev/null; then not_ok "200k segments x 255 layers refused"; $DM remove many255
else
	check "200k segments x 255 layers refused by the index budget in $(( $(date +%s) - start )) s" \
		sh -c "dmesg | tail -n 3 | grep -q 'expected at most 8388608 (module parameter max_index_entries)'"
fi
# a fatal signal ends a long load: 40 x 200k entries, just inside the budget
start=""
$DM create --readonly many40 --table "$(table 40 $vs)" 2>/dev/null &
pid=$!; sleep 2
if ! kill -0 $pid 2>/dev/null; then
	not_ok "a fatal signal ends a long table load: the load was over within 2 s, nothing to interrupt"
else
	# Ctrl-C first; dmsetup may catch SIGINT, and then SIGKILL is the fatal one
	kill -INT $pid 2>/dev/null; sig=SIGINT; start=$(date +%s); i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 3 ]; do sleep 1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then kill -KILL $pid; sig="SIGKILL (dmsetup caught SIGINT)"; start=$(date +%s); fi
	i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		not_ok "a fatal signal ends a long table load: dmsetup still running 120 s after $sig"
	else
		check "$sig ends a long table load within $(( $(date +%s) - start )) s: no table loaded" \
			sh -c "! dmsetup table many40 2>/dev/null | grep -q lsmt"
		case $sig in SIGKILL*) check "the kernel logged the interrupted load" \
			sh -c "dmesg | tail -n 5 | grep -q 'interrupted by a fatal signal'";; esac
	fi
	dmsetup remove many40 2>/dev/null
fi
wait $pid 2>/dev/null
$DM remove manyz; losetup -d "$lm"

if [ -z "$QUICK" ]; then
	lx=$(losetup -r -f --show $H/max.zfile)
	$DM create --readonly maxz --table "0 $(zsect $H/max.bytes) zfile $lx $(stat -c %s $H/max.zfile)" && $DM mknodes maxz
	t=""; for i in $(seq 1 255); do t="$t /dev/mapper/maxz -"; done
	start=$(date +%s)
	if $DM create --readonly max255 --table "0 $(( 2 * 32800 + 8 )) lsmt$t"; then
		check "the largest table allowed (255 x 32800 = 8364000 entries) maps in $(( $(date +%s) - start )) s under TCG" \
			sh -c "dmsetup status max255 | grep -q ' 255 '"
		$DM remove max255
	else
		not_ok "the largest table allowed: refused: $(dmesg | tail -n 2 | tr '\n' ' ')"
	fi
	$DM remove maxz; losetup -d "$lx"
fi

# ---- memory is sized by CPUs, not by zfile devices (issue 10 point 7)
section memory
lz=$(losetup -r -f --show bad/flip.zfile); zs=$(stat -c %s bad/flip.zfile)
zsec=$(( $("$OVBD_BIN" info --json bad/flip.zfile 2>/dev/null | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1) ))
zsec=$(( (zsec + 511) / 512 ))
sync; echo 3 >/proc/sys/vm/drop_caches; m0=$(mem)
$DM create --readonly zm0 --table "0 $zsec zfile $lz $zs"
sync; echo 3 >/proc/sys/vm/drop_caches; m1=$(mem)
for i in $(seq 1 20); do $DM create --readonly zm$i --table "0 $zsec zfile $lz $zs"; done
sync; echo 3 >/proc/sys/vm/drop_caches; m21=$(mem)
per=$(( (m21 - m1) / 20 ))
check "zfile memory: the first device $((m1 - m0)) KiB (the shared pool), each further one $per KiB (< 256)" [ $per -lt 256 ]
for i in $(seq 0 20); do $DM remove zm$i; done
sync; echo 3 >/proc/sys/vm/drop_caches; mz=$(mem)
# the pool is most of the first device's cost: what stays is slab residue, far less
check "zfile memory: removing all 21 frees the pool too ($m0 -> $mz KiB, the pool ~$((m1 - m0)) KiB)" \
	[ $((mz - m0)) -lt $(( (m1 - m0) / 2 )) ]
losetup -d "$lz"

# ---- generated variants, loaded by hand so that the kernel parses each one:
# refused at create with the target's message, or mapped with reads that
# succeed or fail with EIO. Even variants are ZFiles (zfile, then lsmt on
# it), odd ones raw LSMT layers.
section variants
losetup -D; refused=0 mapped=0 eio=0 bad=0 total=0
zsect=$(cat variants/zfile.sectors)
for v in variants/v*; do
	[ -n "$QUICK" ] && [ $total -ge 100 ] && break
	total=$((total + 1)); made=""
	l=$(losetup -r -f --show "$v" 2>/dev/null) || { bad=$((bad + 1)); echo "# $v: losetup"; continue; }
	dev=$l
	case $v in *[02468]) if $DM create --readonly vz --table "0 $zsect zfile $l -" 2>/dev/null; then
		made=vz; $DM mknodes vz; dev=/dev/mapper/vz; else dev=""; fi;;
	esac
	if [ -n "$dev" ] && $DM create --readonly vl --table "0 512 lsmt $dev -" 2>/dev/null; then
		made="vl $made"; $DM mknodes vl; mapped=$((mapped + 1))
		$T 60 blkprobe errors /dev/mapper/vl 65536 >/dev/null; rc=$?
		[ $rc = 1 ] && eio=$((eio + 1))
		[ $rc -gt 1 ] && { bad=$((bad + 1)); echo "# $v: read exit $rc"; }
	else
		refused=$((refused + 1))
		dmesg | tail -n 6 | grep -qE 'device-mapper: overlaybd: v[zl]: ' ||
			{ bad=$((bad + 1)); echo "# $v: refused without a target message"; }
	fi
	for d in $made; do $DM remove "$d" || { bad=$((bad + 1)); echo "# $v: remove $d"; }; done
	losetup -d "$l" || { bad=$((bad + 1)); echo "# $v: losetup -d"; }
done
check "$total variants: $refused refused by the kernel with a message, $mapped mapped ($eio with EIO), $bad bad" [ $bad = 0 ]
check "variants: the kernel refused some and mapped some" [ $refused -gt 0 -a $mapped -gt 0 ]

# ---- lifecycle
section lifecycle
ovbd open life stacks/ext4/L00 >/dev/null
check "rmmod refused while a device exists" sh -c "! rmmod dm_overlaybd 2>/dev/null"
ovbd close life
rounds=$(depth 100 30 10)
ovbd open life stacks/ext4/L00 stacks/ext4/L01 >/dev/null && head -c 1048576 /dev/mapper/life >/dev/null && ovbd close life
sync; echo 3 >/proc/sys/vm/drop_caches; before=$(mem)
fails=0
for i in $(seq 1 $rounds); do
	{ ovbd open life stacks/ext4/L00 stacks/ext4/L01 >/dev/null &&
	  head -c 1048576 /dev/mapper/life >/dev/null && ovbd close life; } || fails=$((fails + 1))
done
sync; echo 3 >/proc/sys/vm/drop_caches; after=$(mem)
check "$rounds rounds of open, read, close: all succeeded" [ $fails = 0 ]
check "no leak over $rounds rounds (slab+vmalloc $before -> $after KiB)" [ $((after - before)) -lt 2048 ]
check "rmmod after the rounds" rmmod dm_overlaybd
check "ovbd open without the module names modprobe dm-overlaybd, and leaves nothing" \
	sh -c "! ovbd open nomod stacks/ext4/L00 2>/tmp/e && grep -q 'modprobe dm-overlaybd' /tmp/e && [ -z \"\$(losetup -a)\" ] && ! dmsetup info nomod >/dev/null 2>&1"
check "insmod again" insmod /modules/dm-overlaybd.ko
check "works after reload" sh -c "ovbd open again stacks/ext4/L00 >/dev/null && head -c 4096 /dev/mapper/again >/dev/null && ovbd close again"
section end
echo "guest: tests finished"
