#!/bin/bash
# OCI image layouts: ovbd image build, checked by skopeo and umoci (Debian's,
# independent of ovbd), and ovbd cat/table of oci:DIR[:TAG] with the refusals
# a hostile layout calls for.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
size() { stat -c %s "$1"; }
for tool in skopeo umoci python3; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
# json FILE EXPR: a Python expression over the JSON document d
json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
export -f json

make_raw raw 4
ovbd commit --zfile --tar -m base raw L1
cp raw r2; printf 'layer two' | dd of=r2 bs=1 seek=1500000 conv=notrunc status=none
ovbd commit --lower L1 --tar -m "layer two" r2 L2
cp raw r3; printf 'other' | dd of=r3 bs=1 seek=2500000 conv=notrunc status=none
ovbd commit --lower L1 --zfile --algo zstd --tar -m other r3 L3

export SOURCE_DATE_EPOCH=1700000000
check "image build: two layers into a new layout" ovbd image build --tag v1 lay L1 L2
check "image build: a second image sharing the base layer" ovbd image build --tag other lay L1 L3
check "the layout: oci-layout, index.json with both tags" \
	bash -c "[ \"\$(python3 -c 'import json; print(json.load(open(\"lay/oci-layout\"))[\"imageLayoutVersion\"])')\" = 1.0.0 ] &&
		 [ \"\$(python3 -c 'import json; print(sorted(m[\"annotations\"][\"org.opencontainers.image.ref.name\"] for m in json.load(open(\"lay/index.json\"))[\"manifests\"]))')\" = \"['other', 'v1']\" ]"
check "the shared base layer is stored once (3 layers, 2 configs, 2 manifests)" [ "$(ls lay/blobs/sha256 | wc -l)" = 7 ]
check "skopeo inspect oci:lay:v1 lists the two layers" \
	bash -c "skopeo inspect oci:lay:v1 | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(len(d[\"Layers\"]) != 2 or d[\"Os\"] != \"linux\" or d[\"Architecture\"] != \"amd64\")'"
skopeo inspect --raw oci:lay:v1 >manifest.json
d1=$(sha256sum L1 | cut -c1-64) s1=$(size L1)
check "the manifest: each layer an OCI tar with the OverlayBD annotations" \
	bash -c "[ \"\$(json manifest.json 'd[\"layers\"][0][\"annotations\"][\"containerd.io/snapshot/overlaybd/blob-digest\"]')\" = sha256:$d1 ] &&
		 [ \"\$(json manifest.json 'd[\"layers\"][0][\"annotations\"][\"containerd.io/snapshot/overlaybd/blob-size\"]')\" = $s1 ] &&
		 [ \"\$(json manifest.json 'd[\"layers\"][1][\"annotations\"][\"containerd.io/snapshot/overlaybd/blob-fs-type\"]')\" = ext4 ] &&
		 [ \"\$(json manifest.json 'd[\"layers\"][1][\"mediaType\"]')\" = application/vnd.oci.image.layer.v1.tar ]"
skopeo inspect --config --raw oci:lay:v1 >config.json
check "the config: diff_ids are the blobs' digests, a history entry per layer with its message" \
	bash -c "[ \"\$(json config.json 'd[\"rootfs\"][\"diff_ids\"][0]')\" = sha256:$d1 ] &&
		 [ \"\$(json config.json '[h[\"comment\"] for h in d[\"history\"]]')\" = \"['base', 'layer two']\" ]"
check "skopeo copy --preserve-digests to another layout accepts every digest" \
	skopeo copy -q --preserve-digests oci:lay:v1 oci:copy:v1
check "umoci stat reads the history" bash -c "umoci stat --image lay:v1 | grep -q 'layer two'"
check "umoci unpack checks the diff_ids; the top layer's payload is on top" \
	bash -c "umoci unpack --rootless --image lay:v1 bundle >/dev/null 2>&1 && tar -xOf L2 overlaybd.commit | cmp -s - bundle/rootfs/overlaybd.commit"
check "the same layers and SOURCE_DATE_EPOCH give the same manifest digest" \
	bash -c "[ \"\$('$OVBD' image build --tag v1 lay2 L1 L2 | cut -d' ' -f2)\" = \"\$(json lay/index.json '[m[\"digest\"] for m in d[\"manifests\"] if m[\"annotations\"][\"org.opencontainers.image.ref.name\"] == \"v1\"][0]')\" ]"
check "ovbd cat oci:lay:v1 is the stack, and the raw disk" \
	bash -c "'$OVBD' cat oci:lay:v1 -o a && cmp -s a r2"
check "ovbd cat oci:copy (its only image) after skopeo copy" bash -c "'$OVBD' cat oci:copy -o b && cmp -s b r2"
check "ovbd table img oci:lay:other names the store's blobs" \
	bash -c "'$OVBD' table img oci:lay:other | grep -q 'lay/blobs/sha256/$d1'"

# refusals: each a one-line error, nothing written
ovbd zfile raw Z
expect_error "image build: a layer that is not tar-wrapped" 1 ovbd image build bad L1 Z
expect_error "image build: layers that do not chain" 1 ovbd image build bad L2 L1
expect_error "image build: a directory that is no layout" 1 bash -c "mkdir -p notlay && touch notlay/x && '$OVBD' image build notlay L1"
expect_error "image build: an unknown --fs-type" 2 ovbd image build --fs-type xfs bad L1
check "image build: nothing written where it failed" [ ! -e bad ]
expect_error "oci: an unknown tag" 1 ovbd cat oci:lay:nope -o x
expect_error "oci: no tag and two images" 1 ovbd cat oci:lay -o x
# rewrite the v1 manifest (and re-point index.json) with a Python edit
edit() {	# DIR PYTHON: the manifest m is edited, then stored under its new digest
	python3 - "$1" <<PY
import hashlib, json, sys
d = sys.argv[1]
idx = json.load(open(d + '/index.json'))
e = [x for x in idx['manifests'] if x['annotations']['org.opencontainers.image.ref.name'] == 'v1'][0]
m = json.load(open(d + '/blobs/sha256/' + e['digest'][7:]))
$2
b = json.dumps(m).encode()
h = hashlib.sha256(b).hexdigest()
open(d + '/blobs/sha256/' + h, 'wb').write(b)
e['digest'] = 'sha256:' + h
e['size'] = len(b)
json.dump(idx, open(d + '/index.json', 'w'))
PY
}
cp -r lay t1; edit t1 "del m['layers'][1]['annotations']; m['layers'][1]['mediaType'] += '+gzip'"
expect_error "oci: an ordinary gzip layer is named with its mediaType" 1 ovbd cat oci:t1:v1 -o x
check "oci: ...the message says so" bash -c "'$OVBD' cat oci:t1:v1 -o x 2>&1 | grep -q 'layer 1 (sha256:.*, application/vnd.oci.image.layer.v1.tar+gzip): not an OverlayBD layer'"
cp -r lay t2; edit t2 "m['layers'][0]['digest'] = 'sha256:../../../../etc/passwd'"
expect_error "oci: a digest that is no sha256 hex (a path) is refused" 1 ovbd cat oci:t2:v1 -o x
cp -r lay t3; edit t3 "m['layers'][0]['size'] += 1"
expect_error "oci: a blob whose size differs from its descriptor" 1 ovbd cat oci:t3:v1 -o x
cp -r lay t4; rm "t4/blobs/sha256/$d1"
expect_error "oci: a blob missing from the store" 1 ovbd cat oci:t4:v1 -o x
cp -r lay t5; m5=$(json t5/index.json '[m["digest"] for m in d["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "v1"][0][7:]')
sed -i 's/layers/layerz/' "t5/blobs/sha256/$m5"
expect_error "oci: a manifest whose bytes do not match its digest" 1 ovbd cat oci:t5:v1 -o x
cp -r lay t6; printf '{"manifests": [' >t6/index.json
expect_error "oci: an index.json that is not JSON" 1 ovbd cat oci:t6:v1 -o x
# an image index: linux/amd64 is followed, and its absence said
mv1=$(json lay/index.json '[m["digest"] for m in d["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "v1"][0]')
multi() {	# DIR ARCH: an image index with one manifest for ARCH, tagged v1
	cp -r lay "$1"
	python3 - "$1" "$2" "$mv1" <<'PY'
import hashlib, json, os, sys
d, arch, man = sys.argv[1:]
size = os.path.getsize(d + '/blobs/sha256/' + man[7:])
ix = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
      'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': man,
                     'size': size, 'platform': {'os': 'linux', 'architecture': arch}}]}
b = json.dumps(ix).encode()
h = hashlib.sha256(b).hexdigest()
open(d + '/blobs/sha256/' + h, 'wb').write(b)
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.index.v1+json',
           'digest': 'sha256:' + h, 'size': len(b),
           'annotations': {'org.opencontainers.image.ref.name': 'v1'}}]}, open(d + '/index.json', 'w'))
PY
}
multi m1 amd64
check "oci: an image index is followed to its linux/amd64 manifest" bash -c "'$OVBD' cat oci:m1:v1 -o c && cmp -s c r2"
multi m2 arm64
expect_error "oci: an image index with no linux/amd64 entry" 1 ovbd cat oci:m2:v1 -o x
check "oci: ...and says so" bash -c "'$OVBD' cat oci:m2:v1 -o x 2>&1 | grep -q 'no linux/amd64'"
summary
