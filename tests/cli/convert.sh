#!/bin/bash
# ovbd convert: ordinary OCI images (tests/convert-image.py: files of Debian
# packages in five gzip/zstd/plain layers with deletions, opaque directories,
# replacements, hard links across layers, a 2 GiB sparse file, long names,
# devices and capabilities) into OverlayBD images. Checked by e2fsck -fn on
# the flattened ext4, by umoci's unpack of the same source (tests/treelist.c
# lists both trees) when this machine can loop-mount, by skopeo, and for
# reproducibility; every bad input gets one line and leaves no image behind.
# The mounted comparison always runs in the QEMU guests (guest-tests.sh).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/registry-lib.sh"
scratch
cd "$T_DIR" || exit 1
for tool in skopeo umoci python3 e2fsck mke2fs zstd; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
ovbd() { timeout 300 "$OVBD" "$@"; }
json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
manifest_of() {	# LAYOUT TAG: the manifest's path
	blob "$1" "$(python3 -c "import json, sys; print([m['digest'] for m in json.load(open(sys.argv[1] + '/index.json'))['manifests'] if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == sys.argv[2]][0])" "$1" "$2")"
}
gcc -O2 -o treelist "$TOP/tests/treelist.c" -lcrypto || { not_ok "tests/treelist.c builds"; summary; exit 1; }

python3 "$TOP/tests/convert-image.py" src --gzip-copy ref >/dev/null ||
	{ not_ok "the source image builds"; summary; exit 1; }
export SOURCE_DATE_EPOCH=1700000000

# ---- the conversion and what it prints
if ovbd convert --zfile oci:src:src oci:out:lz4 >conv.out 2>conv.err; then
	ok "convert --zfile: five layers (gzip, zstd, gzip, plain, gzip) into a new layout"
else
	not_ok "convert --zfile: $(head -c 400 conv.err)"
fi
check "one line per layer with the tar's bytes and the stored bytes, then the image" \
	bash -c "[ \$(grep -c '^\[[1-5]/5\] layer [0-4] sha256:.*bytes of tar.*bytes stored' conv.out) = 5 ] && tail -1 conv.out | grep -q '^oci:out:lz4 sha256:'"
sed 's/^/# /' conv.out
check "convert (no --zfile) and --zfile --algo zstd --block-size 64K into the same layout" \
	bash -c "'$OVBD' convert oci:src:src oci:out:plain >/dev/null && '$OVBD' convert --zfile --algo zstd --block-size 64K oci:src:src oci:out:zstd >/dev/null"
check "no work directory is left behind" bash -c "! ls -a out | grep -q ovbd-convert"

# ---- the image: what upstream's snapshotter and the registry tools expect
m=$(manifest_of out lz4)
cfg=$(blob out "$(json "$m" 'd["config"]["digest"]')")
check "skopeo inspect reads the converted image (5 layers, linux/amd64)" \
	bash -c "skopeo inspect oci:out:lz4 | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(len(d[\"Layers\"]) != 5 or d[\"Os\"] != \"linux\")'"
check "each layer: an OCI tar with the OverlayBD annotations, blob-fs-type ext4" \
	python3 -c "
import json, sys
m = json.load(open('$m'))
for l in m['layers']:
    a = l['annotations']
    assert l['mediaType'] == 'application/vnd.oci.image.layer.v1.tar'
    assert a['containerd.io/snapshot/overlaybd/blob-digest'] == l['digest']
    assert a['containerd.io/snapshot/overlaybd/blob-size'] == str(l['size'])
    assert a['containerd.io/snapshot/overlaybd/blob-fs-type'] == 'ext4'
"
check "the config keeps the source's Env, Cmd and history; its diff_ids are the new blobs' digests" \
	python3 -c "
import json
c, m = json.load(open('$cfg')), json.load(open('$m'))
assert c['config']['Cmd'] == ['/usr/bin/true'] and c['config']['Env'] == ['PATH=/usr/bin']
assert len(c['history']) == 5
assert c['rootfs']['diff_ids'] == [l['digest'] for l in m['layers']]
"
layers=$(json "$m" '" ".join("'"out"'/blobs/sha256/" + l["digest"][7:] for l in d["layers"])')
check "ovbd verify passes every converted layer" bash -c "'$OVBD' verify $layers >/dev/null"
check "the layers chain (each layer's parent uuid is the one below)" bash -c "'$OVBD' table img $layers >/dev/null"

# ---- the file system: e2fsck, and every path against umoci's unpack
for v in lz4 plain zstd; do
	ovbd cat oci:out:$v -o flat-$v.img
	if e2fsck -fn flat-$v.img >e2fsck-$v.log 2>&1; then
		ok "e2fsck -fn finds no error in the flattened ext4 ($v)"
	else
		not_ok "e2fsck -fn flat-$v.img: $(grep -v '^Pass\|^e2fsck' e2fsck-$v.log | head -3)"
	fi
done
# sparse_same A B: the same data extents (SEEK_DATA/SEEK_HOLE) with the same bytes
sparse_same() {
	python3 - "$1" "$2" <<'PY'
import os, sys
def extents(p):
    fd, out, pos, size = os.open(p, os.O_RDONLY), [], 0, os.path.getsize(p)
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        pos = os.lseek(fd, d, os.SEEK_HOLE)
        out.append((d, pos))
    return fd, out, size
fa, ea, sa = extents(sys.argv[1])
fb, eb, sb = extents(sys.argv[2])
if sa != sb or ea != eb:
    sys.exit(1)
for lo, hi in ea:
    while lo < hi:
        n = min(hi - lo, 1 << 20)
        if os.pread(fa, n, lo) != os.pread(fb, n, lo):
            sys.exit(1)
        lo += n
PY
}
check "the three conversions hold the same file system" \
	bash -c "$(declare -f sparse_same); sparse_same flat-lz4.img flat-plain.img && sparse_same flat-lz4.img flat-zstd.img"
check "cat -o writes a sparse file (64 GiB apparent, under 200 MiB used)" \
	bash -c "[ \$(stat -c %s flat-lz4.img) = 68719476736 ] && [ \$(du -m flat-lz4.img | cut -f1) -lt 200 ]"
if umoci unpack --image ref:src bundle >umoci.log 2>&1; then
	./treelist bundle/rootfs >ref.txt
	mkdir mnt
	if mount -o ro,loop flat-lz4.img mnt 2>/dev/null; then
		./treelist mnt >got.txt
		umount mnt
		if cmp -s ref.txt got.txt; then
			ok "every path's type, mode, owner, size, content, link target, xattrs and hard links match umoci's unpack ($(wc -l <ref.txt) paths)"
		else
			not_ok "the converted tree differs from umoci's unpack: $(diff ref.txt got.txt | head -4 | cut -c1-200)"
		fi
	else
		skip "loop mount is not allowed here: the QEMU guests compare the mounted tree with umoci's"
	fi
	check "the reference has what the test is about (a whiteout, an opaque dir, a sparse file, a capability, a cross-layer hard link)" \
		bash -c "! grep -q '^/etc/conf.d/c0.conf ' ref.txt && ! grep -q '^/etc/conf.d/c2.conf ' ref.txt &&
			 grep -q '^/etc/conf.d/only.conf ' ref.txt && grep -q '^/srv/sparse.img f 0644 0 0 2147483648 ' ref.txt &&
			 grep -q 'security.capability=' ref.txt && grep -q '^/srv/hl-across-layers .* /srv/hl-across-layers$' ref.txt"
else
	not_ok "umoci unpack of the source: $(tail -2 umoci.log)"
fi

# ---- reproducible, and each layer about the size of what it changed
ovbd convert --zfile oci:src:src oci:again:lz4 >/dev/null 2>&1
check "a second conversion gives the same manifest digest (reproducible)" \
	[ "$(json "$(manifest_of out lz4)" 'd["layers"]')" = "$(json "$(manifest_of again lz4)" 'd["layers"]')" ]
check "an unchanged block stays out of later layers: layer 3 (a 2 GiB sparse file, 3 data blocks) stores under 1 MiB" \
	bash -c "[ \$(sed -n 's/^\[3\/5\].* \([0-9]*\) bytes stored.*/\1/p' conv.out) -lt 1048576 ]"
check "layer 2 (8 small changes) stores under 64 KiB" \
	bash -c "[ \$(sed -n 's/^\[2\/5\].* \([0-9]*\) bytes stored.*/\1/p' conv.out) -lt 65536 ]"

# ---- bad input: one line naming the layer and entry, exit 1, no image
for k in truncated-gzip corrupt-zstd dotdot absolute missing-link missing-whiteout too-big encrypted diffid; do
	python3 "$TOP/tests/convert-image.py" bad-$k --bad $k
done
expect_error "a truncated gzip stream" 1 ovbd convert --size 64M oci:bad-truncated-gzip oci:badout
expect_error "a corrupt zstd stream" 1 ovbd convert --size 64M oci:bad-corrupt-zstd oci:badout
expect_error "a '..' path that would leave the root" 1 ovbd convert --size 64M oci:bad-dotdot oci:badout
expect_error "an absolute path" 1 ovbd convert --size 64M oci:bad-absolute oci:badout
expect_error "a hard link to a missing target" 1 ovbd convert --size 64M oci:bad-missing-link oci:badout
expect_error "a whiteout of a missing path" 1 ovbd convert --size 64M oci:bad-missing-whiteout oci:badout
expect_error "a layer larger than the file system" 1 ovbd convert --size 64M oci:bad-too-big oci:badout
expect_error "an encrypted layer (unsupported mediaType)" 1 ovbd convert --size 64M oci:bad-encrypted oci:badout
expect_error "a tar whose digest is not the config's diff_id" 1 ovbd convert --size 64M oci:bad-diffid oci:badout
check "the messages name the layer, the entry and the cause" bash -c "
	'$OVBD' convert --size 64M oci:bad-dotdot oci:badout 2>&1 | grep -q \"layer 0 (sha256:.*entry 'etc/../../escape'.*'\.\.'\" &&
	'$OVBD' convert --size 64M oci:bad-missing-link oci:badout 2>&1 | grep -q \"entry 'etc/link': a hard link to 'etc/not-there', which does not exist\" &&
	'$OVBD' convert --size 64M oci:bad-truncated-gzip oci:badout 2>&1 | grep -q 'layer 0 .*truncated gzip' &&
	'$OVBD' convert --size 64M oci:bad-too-big oci:badout 2>&1 | grep -q 'the file system is full' &&
	'$OVBD' convert --size 64M oci:bad-encrypted oci:badout 2>&1 | grep -q 'encrypted'"
check "no output image after any refusal, and no work directory left" \
	bash -c "[ ! -e badout ] && ! ls -a . | grep -q ovbd-convert"
cp -r out keep
expect_error "a refusal into a layout that holds other images" 1 ovbd convert --size 64M oci:bad-missing-whiteout oci:out:bad
check "... leaves its index.json and blobs as they were" \
	bash -c "cmp -s out/index.json keep/index.json && [ \"\$(ls out/blobs/sha256)\" = \"\$(ls keep/blobs/sha256)\" ] && ! ls -a out | grep -q ovbd-convert"
touch escape-canary
check "a path-escape attempt writes nothing outside the image" \
	bash -c "[ ! -e '$T_DIR/../escape' ] && [ ! -e /escape ] && [ ! -e /etc/abs ]"
expect_error "an OverlayBD image is not converted again" 1 ovbd convert oci:out:lz4 oci:twice
expect_error "--algo without --zfile" 2 ovbd convert --algo zstd oci:src:src oci:x
expect_error "--size below 64 MiB" 2 ovbd convert --size 1M oci:src:src oci:x

# ---- SIGINT: the work directory goes
mkdir intr
( "$OVBD" convert --zfile --tmpdir intr oci:src:src oci:intr-out:x >/dev/null 2>&1 & p=$!
  sleep 1.5; kill -INT $p; wait $p ) 2>/dev/null
check "SIGINT mid-conversion removes the work directory and writes no image" \
	bash -c "[ -z \"\$(ls -A intr)\" ] && [ ! -e intr-out/index.json ]"

# ---- registry to registry: the same layers as from the layout
start_registry "$T_DIR/registry" || { not_ok "docker-registry starts"; summary; exit 1; }
trap 'kill $REG_PID 2>/dev/null; rm -rf "$T_DIR"' EXIT
R=127.0.0.1:$REG_PORT
skopeo copy -q --preserve-digests oci:src:src docker://$R/plain:v1 --dest-tls-verify=false
if ovbd convert --zfile $R/plain:v1 $R/obd:v1 >reg.out 2>reg.err; then
	ok "convert REF REF: from the registry's ordinary image to an OverlayBD image pushed there"
else
	not_ok "convert REF REF: $(head -c 300 reg.err)"
fi
ovbd pull $R/obd:v1 pulled >/dev/null 2>&1
check "ovbd pull of the pushed image: the same layers as the layout conversion" \
	[ "$(json "$(manifest_of pulled v1)" '[l["digest"] for l in d["layers"]]')" = "$(json "$(manifest_of out lz4)" '[l["digest"] for l in d["layers"]]')" ]
check "the registry conversion left nothing in \$TMPDIR" bash -c "! ls -a '${TMPDIR:-/var/tmp}' | grep -q ovbd-convert"
kill $REG_PID
summary
