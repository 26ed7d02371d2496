#!/bin/bash
# Conversion speed against tar -x, side by side in one run: the files of
# TREE_DIR split into three gzip layers (tar | gzip -6, as image builders
# write them) of an ordinary OCI image; each round times ovbd convert
# (uncompressed, then --zfile lz4) into a layout on this disk, and GNU tar
# extracting the same three layers into a tmpfs. Throughput is the source's
# uncompressed tar bytes per second.
# Usage: convert.sh TREE_DIR WORKDIR; prints "BENCH key value".
set -eu
TREE=$1 W=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
OVBD=$TOP/tools/build/ovbd
ROUNDS=${ROUNDS:-3}
rm -rf "$W"; mkdir -p "$W/src/blobs/sha256"; cd "$W"
(cd "$TREE" && find . -mindepth 1 -type f | LC_ALL=C sort) >files
n=$(wc -l <files)
split -n l/3 -d files part.
tar_bytes=0 layers=()
for p in part.00 part.01 part.02; do
	tar -C "$TREE" --numeric-owner -cf layer.tar -T "$p"
	tar_bytes=$((tar_bytes + $(stat -c %s layer.tar)))
	diff_id=sha256:$(sha256sum layer.tar | cut -c1-64)
	gzip -6 -n -c layer.tar >layer.tgz
	d=$(sha256sum layer.tgz | cut -c1-64)
	mv layer.tgz "src/blobs/sha256/$d"
	layers+=("$diff_id sha256:$d $(stat -c %s "src/blobs/sha256/$d")")
	rm layer.tar
done
python3 - "${layers[@]}" <<'PY'
import hashlib, json, sys
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open("src/blobs/sha256/" + d, "wb").write(b)
    return "sha256:" + d, len(b)
ls = [a.split() for a in sys.argv[1:]]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": [l[0] for l in ls]}}).encode()
cd, cn = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l[1],
                              "size": int(l[2])} for l in ls]}).encode()
md, mn = put(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": mn, "annotations": {"org.opencontainers.image.ref.name": "src"}}]},
          open("src/index.json", "w"))
open("src/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
echo "BENCH convert_src_bytes $tar_bytes"
echo "BENCH convert_src_files $n"
now() { date +%s.%N; }
mbps() { awk -v b="$tar_bytes" -v a="$1" -v z="$2" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }'; }
shm=$(mktemp -d /dev/shm/ovbd-bench.XXXXXX)
trap 'rm -rf "$shm"' EXIT
for ((r = 0; r < ROUNDS; r++)); do
	rm -rf out; sync
	t0=$(now)
	"$OVBD" convert oci:src:src oci:out:plain >convert.log
	sync; t1=$(now)
	"$OVBD" convert --zfile oci:src:src oci:out:lz4 >convert-lz4.log
	sync; t2=$(now)
	rm -rf "${shm:?}"/*
	for l in $(python3 -c 'import json; m = json.load(open("src/index.json"))["manifests"][0]["digest"][7:]; print(" ".join(x["digest"][7:] for x in json.load(open("src/blobs/sha256/" + m))["layers"]))'); do
		tar -C "$shm" -xzf "src/blobs/sha256/$l"
	done
	t3=$(now)
	echo "BENCH convert_ovbd_MBps $(mbps "$t0" "$t1")"
	echo "BENCH convert_ovbd_zfile_MBps $(mbps "$t1" "$t2")"
	echo "BENCH convert_tar_MBps $(mbps "$t2" "$t3")"
done
stored=$(grep -o '[0-9]* bytes stored' convert-lz4.log | awk '{s += $1} END {print s}')
echo "BENCH convert_zfile_stored_bytes $stored"
sed 's/^/# /' convert-lz4.log
