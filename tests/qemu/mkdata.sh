#!/bin/bash
# Make the guest's data disk contents: fixtures built with ovbd, their
# expected digests, and the guest test script. Usage: mkdata.sh OUTDIR
set -eu
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OVBD=${OVBD:-$TOP/tools/build/ovbd}
SHARED_IMAGES=${SHARED_IMAGES:-$TOP/../shared/images}
VARIANTS=${VARIANTS:?"mkdata: VARIANTS (the number of generated images) is set by tests/qemu/run.sh"}
rm -rf "$OUT"; mkdir -p "$OUT"/{shared,stacks,bad,variants}
cp "$HERE/guest-tests.sh" "$OUT/guest.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# ---- shared upstream images: rows, and hand-written tables with the RFC names
# tables.txt lines: ROW<TAB>dm-name<TAB>table, where @i is layer i's loop device
if [ -f "$SHARED_IMAGES/expected.tsv" ]; then
	cp "$SHARED_IMAGES"/*.zfile "$SHARED_IMAGES"/*.lsmt "$SHARED_IMAGES/expected.tsv" "$OUT/shared/"
	row=0
	while IFS=$'\t' read -r kind layers bytes digest; do
		[[ $kind == \#* || -z $kind ]] && continue
		IFS=, read -r -a files <<<"$layers"
		args=""
		for i in "${!files[@]}"; do
			f=$SHARED_IMAGES/${files[$i]}
			info=$("$OVBD" info --json "$f")
			content=$(echo "$info" | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1)
			if echo "$info" | grep -q '"zfile_index"'; then
				printf '%s\th%sz%s\t0 %s zfile_target @%s %s\n' "$row" "$row" "$i" \
					$(( (content + 511) / 512 )) "$i" "$(size "$f")" >>"$OUT/shared/tables.txt"
				args+=" /dev/mapper/h${row}z$i $content"
			else
				args+=" @$i $(size "$f")"
			fi
		done
		if [ "$kind" = stack ]; then
			printf '%s\th%s\t0 %s lsmt_target%s\n' "$row" "$row" $((bytes / 512)) "$args" >>"$OUT/shared/tables.txt"
		fi
		row=$((row + 1))
	done <"$SHARED_IMAGES/expected.tsv"
fi

# ---- ext4 stacks made by ovbd commit: files added, changed and deleted per layer
tree=$work/tree; mkdir -p "$tree/etc" "$tree/docs" "$tree/bin"
cp -r /usr/share/common-licenses/. "$tree/docs/"
cp /bin/busybox "$tree/bin/"
for i in $(seq 1 40); do head -c $((i * 3001)) /dev/urandom >"$tree/etc/file$i"; done
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$tree" "$work/disk.raw" 48M
manifest() { (cd "$tree" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$1"; }

layer_opts=("--zfile --tar" "" "--zfile --algo zstd --block-size 16384" "--tar" "--zfile"
	    "--zfile --algo zstd" "" "--zfile --tar --algo zstd" "--zfile --block-size 65536" "--tar")
mkdir -p "$OUT/stacks/ext4"
lowers=() twins=()
for i in $(seq 0 9); do
	if [ "$i" -gt 0 ]; then	# change the tree and the image the same way
		cmds=$work/cmds; : >"$cmds"
		head -c $((i * 20000)) /dev/urandom >"$work/new$i"
		cp "$work/new$i" "$tree/etc/new$i"; echo "write $work/new$i /etc/new$i" >>"$cmds"
		rm "$tree/etc/file$i"; echo "rm /etc/file$i" >>"$cmds"
		head -c 5000 /dev/urandom >"$work/chg$i"
		cp "$work/chg$i" "$tree/etc/file$((i + 20))"
		echo "rm /etc/file$((i + 20))" >>"$cmds"; echo "write $work/chg$i /etc/file$((i + 20))" >>"$cmds"
		debugfs -w -f "$cmds" "$work/disk.raw" >/dev/null 2>&1
	fi
	name=$(printf 'L%02d' "$i")
	# shellcheck disable=SC2086
	"$OVBD" commit ${layer_opts[$i]} ${lowers[@]/#/--lower=} -m "ext4 layer $i" \
		"$work/disk.raw" "$OUT/stacks/ext4/$name"
	if [ "$i" -le 1 ]; then	# tar-wrapped twins of the first two layers, for an OCI layout
		"$OVBD" commit $([ "$i" = 1 ] && echo --zfile --algo zstd) --tar --uuid "$(printf '0a7d1e6f-9a38-4c2e-8e2b-%012d' "$i")" \
			${twins[@]/#/--lower=} -m "ext4 layer $i" "$work/disk.raw" "$work/twin$i"
		twins+=("$work/twin$i")
	fi
	lowers+=("$OUT/stacks/ext4/$name")
	if [ "$i" = 1 ] || [ "$i" = 9 ]; then
		manifest "$OUT/stacks/ext4/tree-$((i + 1)).sha256"
		sha "$work/disk.raw" >"$OUT/stacks/ext4/disk-$((i + 1)).sha256"
	fi
done
cp "$work/disk.raw" "$OUT/stacks/ext4/ref.raw"	# for the concurrent readers
# standalone ZFiles of that image, for zfile's prefetch of sequential reads
mkdir -p "$OUT/pf"
"$OVBD" zfile "$work/disk.raw" "$OUT/pf/lz4.zfile"
"$OVBD" zfile --algo zstd --block-size 16384 --tar "$work/disk.raw" "$OUT/pf/zstd.tar"
"$OVBD" image build --tag ext4 "$OUT/stacks/layout" "${twins[@]}" >/dev/null
sha256sum "$work/twin1" >"$OUT/stacks/twin1.sha256"	# its digest: the guest damages it in the registry
# the same image verified (ovbd verity add: root hashes in a new manifest, the
# trees beside it), and where a byte of /etc/file40's data (random bytes)
# lies in layer 0's blob (uncompressed), for the guest to flip
mkdir -p "$OUT/verity"; cp -r "$OUT/stacks/layout" "$OUT/verity/layout"
"$OVBD" verity add --tag v "$OUT/verity/layout:ext4" >/dev/null
# two more verified images on v's base layer (its descriptor as it is: the
# same root hash), differing in their config: vb and vc, for sharing
python3 - "$OUT/verity/layout" <<'PYEOF'
import hashlib, json, os, sys
lay = sys.argv[1]
def blob(d): return os.path.join(lay, 'blobs', 'sha256', d.split(':')[1])
def put(obj):
    data = json.dumps(obj, separators=(',', ':')).encode()
    d = 'sha256:' + hashlib.sha256(data).hexdigest()
    open(blob(d), 'wb').write(data)
    return d, len(data)
idx = json.load(open(os.path.join(lay, 'index.json')))
v = next(m for m in idx['manifests'] if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == 'v')
man = json.load(open(blob(v['digest'])))
cfg = json.load(open(blob(man['config']['digest'])))
for tag in ('vb', 'vc'):
    c = json.loads(json.dumps(cfg))
    c['rootfs']['diff_ids'] = c['rootfs']['diff_ids'][:1]
    c['history'] = c.get('history', [])[:1]
    c.setdefault('config', {}).setdefault('Labels', {})['org.example.image'] = tag
    cd, cn = put(c)
    m = json.loads(json.dumps(man))
    m['config'] = dict(m['config'], digest=cd, size=cn)
    m['layers'] = m['layers'][:1]
    md, mn = put(m)
    idx['manifests'].append({'mediaType': v['mediaType'], 'digest': md, 'size': mn,
                             'annotations': {'org.opencontainers.image.ref.name': tag}})
json.dump(idx, open(os.path.join(lay, 'index.json'), 'w'))
PYEOF
python3 - "$work/twin0" "$tree/etc/file40" >"$OUT/verity/flip.txt" <<'PYEOF'
import hashlib, sys
blob = open(sys.argv[1], 'rb').read()
needle = open(sys.argv[2], 'rb').read()[60000:60064]
at = blob.find(needle)
assert at > 0 and blob.find(needle, at + 1) < 0
print('sha256:' + hashlib.sha256(blob).hexdigest(), at + 10)
PYEOF
# a registry's storage with that image as ext4:v1, served in the guest on its
# loopback by the same docker-registry, for open by reference and --lazy
. "$TOP/tests/registry-lib.sh"
start_registry "$work/reg"
"$OVBD" push "$OUT/stacks/layout:ext4" "127.0.0.1:$REG_PORT/ext4:v1" >/dev/null 2>&1
# the verified image with its trees' artifact (ext4:vv), and verified again
# (other salts) without the artifact (ext4:vn): the same layer blobs
"$OVBD" push "$OUT/verity/layout:v" "127.0.0.1:$REG_PORT/ext4:vv" >/dev/null 2>&1
# ---- containers: an ordinary image that runs (tests/convert-image.py --app)
# converted and verified (ovbd verity add), for ovbd bundle with runc and
# crun; pushed as app:v for bundle --lazy; and an image whose disk holds no
# file system, which bundle must refuse by name
mkdir -p "$OUT/containers"
python3 "$TOP/tests/convert-image.py" --app --tag app "$work/app-src" >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$OVBD" convert --zfile --size 64M oci:"$work/app-src":app oci:"$OUT/containers/layout":plain >/dev/null
"$OVBD" verity add --tag app "$OUT/containers/layout:plain" >/dev/null
"$OVBD" push "$OUT/containers/layout:app" "127.0.0.1:$REG_PORT/app:v" >/dev/null 2>&1
head -c 4194304 /dev/urandom >"$work/nofs.raw"
"$OVBD" commit --zfile --tar "$work/nofs.raw" "$work/nofs.layer" >/dev/null
"$OVBD" image build --tag nofs "$OUT/containers/layout" "$work/nofs.layer" >/dev/null
rm -rf "$work/app-src" "$work/nofs.raw" "$work/nofs.layer"
# ---- the VM flow: the app image's layer and tree as read-only virtio disks
# (tests/qemu/run.sh adds vm/qemu.args to the guest's QEMU command line), what
# the guest runs to map them (vm/guest.cmd), and a copy of the layer with one
# byte flipped as a disk of its own (serial bad-l000)
mkdir -p "$OUT/vm"
"$OVBD" vm-disks --qemu oci:"$OUT/containers/layout":app >"$OUT/vm/qemu.args"
"$OVBD" vm-disks --guest --name vmimg oci:"$OUT/containers/layout":app >"$OUT/vm/guest.cmd"
"$OVBD" vm-disks --kata oci:"$OUT/containers/layout":app >"$OUT/vm/kata.txt"
blob=$(grep 'node-name=ovbd-l000,' "$OUT/vm/qemu.args" | sed 's/.*file\.filename=//')
cp "$blob" "$OUT/vm/bad.blob"
printf 'X' | dd of="$OUT/vm/bad.blob" bs=1 seek=$(( $(size "$blob") / 2 )) conv=notrunc status=none
printf '%s\n' "-blockdev" "driver=raw,node-name=bad-l000,read-only=on,file.driver=file,file.read-only=on,file.filename=$OUT/vm/bad.blob" \
	"-device" "virtio-blk-pci,drive=bad-l000,serial=bad-l000" >>"$OUT/vm/qemu.args"
cp -r "$OUT/stacks/layout" "$work/vn"
vn=$("$OVBD" verity add --tag vn "$work/vn:ext4" | awk '{print $2}')
"$OVBD" rmi "$work/vn:sha256-${vn#sha256:}" >/dev/null
"$OVBD" push "$work/vn:vn" "127.0.0.1:$REG_PORT/ext4:vn" >/dev/null 2>&1
# a 4 GiB image (ext4:big) of the last layer's tree, sparse: one lz4 layer
# holding only the blocks in use; FULL=1's guests open it lazily
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$tree" "$work/big.raw" 4G
"$OVBD" commit --zfile --tar "$work/big.raw" "$work/big.tar"; rm -f "$work/big.raw"
"$OVBD" image build --tag big "$work/big" "$work/big.tar" >/dev/null
"$OVBD" push "$work/big:big" "127.0.0.1:$REG_PORT/ext4:big" >/dev/null 2>&1
rm -rf "$work/big" "$work/big.tar"
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
cp -a "$work/reg" "$OUT/registry"

# ---- an ordinary image (tests/convert-image.py) converted by ovbd convert; the
# reference is umoci's unpack of the same tars, listed by tests/treelist.c
mkdir -p "$OUT/converted"
python3 "$TOP/tests/convert-image.py" "$work/conv-src" --gzip-copy "$work/conv-ref" >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$OVBD" convert --zfile oci:"$work/conv-src":src oci:"$OUT/converted/layout":img >/dev/null
gcc -O2 -static -o "$OUT/converted/treelist" "$TOP/tests/treelist.c" -lcrypto 2>/dev/null
umoci unpack --image "$work/conv-ref":src "$work/conv-bundle" >/dev/null 2>&1
"$OUT/converted/treelist" "$work/conv-bundle/rootfs" >"$OUT/converted/ref.txt"
rm -rf "$work/conv-bundle" "$work/conv-src" "$work/conv-ref"

# 255 layers over a small disk, every third one compressed
mkdir -p "$OUT/stacks/s255"; truncate -s 2M "$work/small"; lowers=()
for i in $(seq 1 255); do
	printf 'layer %03d %0500d' "$i" 0 | dd of="$work/small" bs=512 seek=$(( (i * 13) % 4096 )) conv=notrunc status=none
	head -c 4096 /dev/urandom | dd of="$work/small" bs=4096 seek=$(( (i * 7) % 512 )) conv=notrunc status=none
	o=""; [ $((i % 3)) = 0 ] && o="--zfile"; [ $((i % 15)) = 0 ] && o="--zfile --tar --algo zstd"
	name=$(printf 'S%03d' "$i")
	# shellcheck disable=SC2086
	"$OVBD" commit $o ${lowers[@]/#/--lower=} "$work/small" "$OUT/stacks/s255/$name"
	lowers+=("$OUT/stacks/s255/$name")
done
sha "$work/small" >"$OUT/stacks/s255/disk.sha256"

# ---- bad images: the ctr refuses them, or reads fail on exactly the damage
raw=$work/bad.raw; truncate -s 1M "$raw"
head -c 700000 /dev/urandom | dd of="$raw" conv=notrunc status=none
"$OVBD" commit "$raw" "$work/bad.lsmt"
"$OVBD" zfile "$work/bad.lsmt" "$work/bad.zfile"
head -c $(( $(size "$work/bad.zfile") - 100 )) "$work/bad.zfile" >"$OUT/bad/truncated.zfile"
cp "$work/bad.lsmt" "$OUT/bad/overlap.lsmt"
ls=$(size "$work/bad.lsmt")
ioff=$(od -An -tu8 -j $((ls - 4096 + 32)) -N 8 "$work/bad.lsmt" | tr -d ' ')
dd if="$work/bad.lsmt" of="$OUT/bad/overlap.lsmt" bs=1 skip="$ioff" seek=$((ioff + 16)) count=8 conv=notrunc status=none
# a standalone ZFile with block 5 damaged: EIO on bytes [20480, 24576) only
"$OVBD" zfile "$raw" "$OUT/bad/flip.zfile"
printf '\xff' | dd of="$OUT/bad/flip.zfile" bs=1 seek=$((512 + 5 * 4096 / 2 + 100)) conv=notrunc status=none
b5=$( ("$OVBD" verify "$OUT/bad/flip.zfile" 2>&1 || true) | grep -o "block crc = .*(block [0-9]*)" | grep -o "[0-9]*)$" | tr -d ')')
echo "$((b5 * 4096))-$(((b5 + 1) * 4096))" >"$OUT/bad/flip.expect"
# a zfile whose data area will sit on dm-error: header, index and trailer readable
zsz=$(size "$work/bad.zfile")
zidx=$(od -An -tu8 -j $((zsz - 512 + 40)) -N 8 "$work/bad.zfile" | tr -d ' ')
cp "$work/bad.zfile" "$OUT/bad/ioerr.zfile"; cp "$work/bad.lsmt" "$OUT/bad/ioerr.lsmt"
echo "$zidx $(( $("$OVBD" info --json "$work/bad.zfile" | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1) ))" >"$OUT/bad/ioerr.zfile.layout"
echo "$ioff" >"$OUT/bad/ioerr.lsmt.layout"

# ---- hostile images (issue 10), made by tests/craft.py from FORMAT.md
h=$OUT/hostile; mkdir -p "$h"; craft() { python3 "$TOP/tests/craft.py" "$@"; }
craft bomb "$work/bomb.lsmt" $((16 << 20))		# 256 MiB of padding entries
"$OVBD" zfile --algo zstd "$work/bomb.lsmt" "$h/bomb.zfile"; rm "$work/bomb.lsmt"
"$OVBD" info --json "$h/bomb.zfile" | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1 >"$h/bomb.bytes"
craft wrap "$h/wrap.lsmt"
craft tagged "$h/tagged.lsmt"
craft many "$work/many.lsmt" 200000
"$OVBD" zfile --algo zstd "$work/many.lsmt" "$h/many.zfile"
"$OVBD" info --json "$h/many.zfile" | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1 >"$h/many.bytes"
craft many "$work/max.lsmt" 32800			# x 255 layers: just under the 8M budget
"$OVBD" zfile --algo zstd "$work/max.lsmt" "$h/max.zfile"
"$OVBD" info --json "$h/max.zfile" | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1 >"$h/max.bytes"
craft paxdir "$h/paxdir-lsmt.tar" "$h/tagged.lsmt"
"$OVBD" zfile "$h/tagged.lsmt" "$work/tagged.zfile"
craft paxdir "$h/paxdir-zfile.tar" "$work/tagged.zfile"
craft clip "$h/clip.lsmt"		# entries past virtual_size (issue 40)
craft shrink "$h/shrink.lsmt"
craft odd "$h/odd.lsmt"			# a virtual_size of 16 sectors + 300 B

# ---- the tar wrapper corpus of tests/cli/tardiff.sh (GNU tar, bsdtar, Python's
# tarfile, busybox tar): the kernel maps each and reads what ovbd cat reads
OVBD=$OVBD "$TOP/tests/tar/mkcorpus.sh" "$OUT/tarcorpus" 0 >/dev/null
for f in "$OUT"/tarcorpus/*; do "$OVBD" cat "$f" | sha256sum | cut -d' ' -f1 >"$f.sha256"; done
sha "$OUT/tarcorpus.raw" >"$OUT/tarcorpus.raw.sha256"; rm "$OUT/tarcorpus.raw"

# ---- generated variants of a small compressed layer
truncate -s 256K "$work/v.raw"; head -c 60000 /dev/urandom | dd of="$work/v.raw" bs=4096 seek=3 conv=notrunc status=none
yes variant | head -c 50000 | dd of="$work/v.raw" bs=4096 seek=40 conv=notrunc status=none
"$OVBD" commit --zfile "$work/v.raw" "$work/v.zfile"
"$OVBD" commit "$work/v.raw" "$work/v.lsmt"
echo $(( ($(stat -c %s "$work/v.lsmt") + 511) / 512 )) >"$OUT/variants/zfile.sectors"
for ((v = 0; v < VARIANTS; v++)); do
	if [ $((v % 2)) = 0 ]; then src=$work/v.zfile; else src=$work/v.lsmt; fi
	f=$OUT/variants/$(printf 'v%04d' "$v"); cp "$src" "$f"; s=$(size "$f")
	case $((v % 5)) in
	0) pos=$((RANDOM % 512));;				# header
	1) pos=$((s - 1 - RANDOM % 4096));;			# trailer
	2) pos=$((s - 4096 - RANDOM % 8192));;			# index
	*) pos=$(( (RANDOM * 32768 + RANDOM) % s ));;		# anywhere
	esac
	[ "$pos" -ge 0 ] || pos=0
	printf "\\x$(printf %02x $((RANDOM % 256)))" | dd of="$f" bs=1 seek="$pos" conv=notrunc status=none
	[ $((v % 7)) = 3 ] && truncate -s $(( (RANDOM * 32768 + RANDOM) % s + 1 )) "$f"
done
echo "mkdata: $(du -sh "$OUT" | cut -f1) of fixtures, $VARIANTS variants"
