#!/bin/sh
# bench/bundle.sh, inside the guest: a container's first line of output from
# the guest's registry, by ovbd bundle --lazy and by skopeo + umoci unpack,
# then ovbd bundle from a store against umoci unpack from a layout; rounds
# interleaved, a "BENCH key value" line per figure and round.
ROUNDS=${ROUNDS:-3}
REG=127.0.0.1:5000
now() { blkprobe now; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
tool() {	# NAME ARGS...: skopeo or umoci as copied with their libraries
	t=$1; shift
	if [ -e /data/$t/ld-linux-x86-64.so.2 ]; then
		/data/$t/ld-linux-x86-64.so.2 --library-path /data/$t /data/$t/$t "$@"
	else
		/data/$t/$t "$@"
	fi
}
# RUNTIME DIR ID: run the bundle; the time of its first line of output in /tmp/first
first_line() {
	rm -f /tmp/first /tmp/line
	runc run --no-pivot -b "$1" "$2" </dev/null 2>/tmp/runc.err | { read -r l && now >/tmp/first && echo "$l" >/tmp/line; cat >/dev/null; }
}
insmod /modules/dm-overlaybd.ko || { echo "BENCH error insmod"; exit 1; }
grep -q ' /sys/fs/cgroup ' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
mkdir -p /etc/containers /var/tmp
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >/etc/containers/policy.json
pid=$(guest-registry /data/registry) || { echo "BENCH error registry"; exit 1; }
export OVBD_STORE=/tmp/store
for r in $(seq 1 "$ROUNDS"); do
	echo "bench: round $r of $ROUNDS"
	rm -rf /tmp/store; cold
	t0=$(now)
	ovbd bundle --lazy --plain-http $REG/obd:b /tmp/bo >/dev/null 2>/tmp/e || echo "BENCH error bundle-lazy $(head -c 200 /tmp/e)"
	first_line /tmp/bo co
	[ -s /tmp/first ] && echo "BENCH bundle_lazy_first_line_s $(elapsed "$t0" "$(cat /tmp/first)")"
	[ "$(cat /tmp/line 2>/dev/null)" = "first line" ] || echo "BENCH error bundle-lazy-output $(cat /tmp/line) $(head -c 200 /tmp/runc.err)"
	ovbd bundle --remove /tmp/bo >/dev/null 2>&1; rm -rf /tmp/bo /tmp/store; cold
	t0=$(now)
	tool skopeo copy -q --src-tls-verify=false docker://$REG/plain:b oci:/tmp/lay:b 2>/tmp/e || echo "BENCH error skopeo $(head -c 200 /tmp/e)"
	tool umoci unpack --image /tmp/lay:b /tmp/ub >/dev/null 2>/tmp/e || echo "BENCH error umoci $(head -c 200 /tmp/e)"
	# umoci's config asks for a terminal, which a script's runc run has not
	sed -i 's/"terminal": true/"terminal": false/' /tmp/ub/config.json
	first_line /tmp/ub cu
	[ -s /tmp/first ] && echo "BENCH umoci_first_line_s $(elapsed "$t0" "$(cat /tmp/first)")"
	[ "$(cat /tmp/line 2>/dev/null)" = "first line" ] || echo "BENCH error umoci-output $(cat /tmp/line) $(head -c 200 /tmp/runc.err)"
	rm -rf /tmp/ub /tmp/lay; cold
done
# from local copies: the store and the layout filled once, outside the times
ovbd pull --plain-http $REG/obd:b /tmp/lstore >/dev/null 2>&1
tool skopeo copy -q --src-tls-verify=false docker://$REG/plain:b oci:/tmp/llay:b
kill "$pid"
for r in $(seq 1 "$ROUNDS"); do
	cold; t0=$(now)
	ovbd bundle oci:/tmp/lstore:b /tmp/bl >/dev/null 2>/tmp/e || echo "BENCH error bundle-local $(head -c 200 /tmp/e)"
	t1=$(now)
	echo "BENCH bundle_local_s $(elapsed "$t0" "$t1")"
	ovbd bundle --remove /tmp/bl >/dev/null 2>&1; rm -rf /tmp/bl
	cold; t0=$(now)
	tool umoci unpack --image /tmp/llay:b /tmp/ul >/dev/null 2>&1
	t1=$(now)
	echo "BENCH umoci_unpack_s $(elapsed "$t0" "$t1")"
	rm -rf /tmp/ul
done
echo "bench: done"
