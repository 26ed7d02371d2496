# Sourced by the init scripts of bench/uml.sh and bench/uml-ab.sh, inside
# the UML guest: results go to a file on the host (hostfs is the host's /);
# the caller sets RES, SAMPLE_MIB and OVBD (and RANDREAD for randiops).
# shellcheck shell=sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
# the host's /run says udev runs; in here it does not
mount -t tmpfs run /run
exec >"$RES" 2>&1
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
zdev() {	# NAME FILE: the zfile device of FILE, as ovbd open makes it (its last sector too)
	"$OVBD" open "$1" "$2" >/dev/null
}
seqread() {	# DEV KEY [BS_MIB]: the first SAMPLE_MIB of /dev/mapper/DEV, cold, the fastest of 3
	# passes: lz4 -b and zstd -b report their fastest loop, and a pass
	# here lasts a fifth of a second, in which the host's other tenants
	# take 10-30% now and then. BS_MIB (default 1) MiB a read: O_DIRECT
	# splits a read into 1 MiB bios, so BS_MIB of them are in flight
	for p in 1 2 3; do
		cold
		# dd's own clock, to /dev/null: a pipe to wc capped every device
		# near 230 MB/s in UML, and forking date costs milliseconds there
		dd if=/dev/mapper/$1 of=/dev/null bs=${3:-1}M count=$((SAMPLE_MIB / ${3:-1})) iflag=direct 2>&1
	done | awk -v k="$2" '/bytes.*copied/ {for (i = 1; i <= NF; i++) if ($i == "s,") t = $(i - 1);
		if (t > 0 && $1 / t > best) best = $1 / t}
		END {if (best > 0) printf "BENCH %s %.1f\n", k, best / 1e6}'
}
randiops() {	# DEV KEY: 20 000 random 4 KiB O_DIRECT reads of /dev/mapper/DEV, cold
	cold; t0=$(now)
	"$RANDREAD" /dev/mapper/$1 20000 && t1=$(now) &&
		echo "BENCH $2 $(awk -v a=$t0 -v b=$t1 'BEGIN {printf "%.0f", 20000 / (b - a)}')"
}
# the images in UML's own memory (tmpfs), so that the figures are the
# targets' and not hostfs's
mkdir -p /tmp/img; mount -t tmpfs -o size=1200M img /tmp/img
lz4_b_MBps() {	# FILE: lz4 -b's decompression speed of FILE cut into 4 KiB blocks
	lz4 -b1 -B4096 -i3 "$1" 2>&1 | tr '\r' '\n' | grep -oE '[0-9.]+ MB/s' | tail -1 | grep -oE '[0-9.]+'
}
