#!/bin/bash
# Verified images in userspace: the trees ovbd makes are veritysetup's own
# (byte for byte, and Debian's veritysetup verify accepts each layer with
# what ovbd verity show prints, and refuses it with any byte flipped);
# verity add changes no layer blob; push and pull carry the trees and
# check every blob's root hash against the manifest, with Debian's
# docker-registry on 127.0.0.1 (started here, stopped after).
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
for tool in veritysetup docker-registry python3; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T_DIR"' EXIT
. "$TOP/tests/registry-lib.sh"

# ---- the tree: veritysetup format's, byte for byte, for both data block sizes
S=$(printf '%064x' 4242)
head -c 3000000 /dev/urandom >b4k; truncate -s 3006464 b4k	# 734 x 4 KiB
head -c 700000 /dev/urandom >b512; truncate -s 700416 b512	# 1368 x 512 B, no multiple of 4096
head -c 4096 /dev/urandom >b1					# one block: no level
head -c 1000 /dev/urandom >odd
for b in b4k b512 b1; do
	dbs=$([ $(( $(stat -c %s $b) % 4096 )) = 0 ] && echo 4096 || echo 512)
	ovbd verity tree --salt $S $b $b.tree >$b.out
	uuid=$(veritysetup dump $b.tree | awk '/^UUID/ {print $2}')
	veritysetup format --salt $S --data-block-size $dbs --uuid "$uuid" $b $b.vs >$b.vsout 2>&1
	check "verity tree $b ($dbs-byte blocks): the root hash veritysetup format prints" \
		[ "$(awk '$1 == "root_hash" {print $2}' $b.out)" = "$(awk '/^Root hash/ {print $3}' $b.vsout)" ]
	check "verity tree $b: the file veritysetup format writes, byte for byte" cmp -s $b.tree $b.vs
	check "verity tree $b: data_block_size $dbs" grep -qx "data_block_size $dbs" $b.out
done
expect_error "verity tree: a blob that is no multiple of 512 bytes is refused" 1 "$OVBD" verity tree odd odd.tree
expect_error "verity tree: a malformed salt is refused" 2 "$OVBD" verity tree --salt xyz b1 b1.tree

# ---- verity add: annotations, trees beside the image, no blob changed
make_raw raw 4
ovbd commit --zfile --tar -m base raw L1 >/dev/null
cp raw r2; printf 'two' | dd of=r2 bs=1 seek=1000000 conv=notrunc status=none
ovbd commit --lower L1 --tar -m top r2 L2 >/dev/null
ovbd image build --tag v1 lay L1 L2 >/dev/null
layers() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(' '.join(l['digest'] for l in m['layers']))" "$1"; }
mblob() { echo "lay/blobs/sha256/$(python3 -c "import json; i=json.load(open('lay/index.json')); print([m['digest'] for m in i['manifests'] if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == '$1'][0][7:])")"; }
before=$(layers "$(mblob v1)")
check "verity add lay:v1 --tag vv: a new manifest, tagged vv" sh -c "'$OVBD' verity add --tag vv lay:v1 >add.out && grep -q '^oci:lay:vv sha256:' add.out"
check "verity add: the layer blobs are the same blobs (verified and unverified images share them)" \
	[ "$(layers "$(mblob vv)")" = "$before" ]
check "verity add: each layer descriptor carries the root hash, salt and data block size" python3 -c "
import json; m = json.load(open('$(mblob vv)'))
for l in m['layers']:
    a = l['annotations']; p = 'org.dm-overlaybd.verity.sha256-4096.'
    assert len(a[p + 'root-hash']) == 64 and len(a[p + 'salt']) == 64 and a[p + 'data-block-size'] in ('4096', '512')"
check "verity add: the trees are an artifact whose subject is the manifest, tagged sha256-<hex>" python3 -c "
import json; i = json.load(open('lay/index.json')); d = [m for m in i['manifests'] if m.get('artifactType') == 'application/vnd.dm-overlaybd.verity.v1']
assert len(d) == 1; a = json.load(open('lay/blobs/sha256/' + d[0]['digest'][7:]))
assert a['subject']['digest'] == '$(sed -n 's/^oci:lay:vv //p' add.out)' and len(a['layers']) == 2
assert d[0]['annotations']['org.opencontainers.image.ref.name'] == 'sha256-' + a['subject']['digest'][7:]"
check "skopeo still reads both images of the layout (the artifact is no image of its own)" \
	sh -c "skopeo inspect oci:lay:v1 >/dev/null && skopeo inspect oci:lay:vv >/dev/null"
ovbd verity show --json lay:vv >show.json
check "verity show --json: every layer verified, with its blob, tree, offsets, sizes, salt and root" python3 -c "
import json; s = json.load(open('show.json')); assert len(s['layers']) == 2
for l in s['layers']:
    assert l['verity'] and l['hash_offset'] == 4096 and l['hash_block_size'] == 4096 and l['data_blocks'] > 0"
py() { python3 -c "import json; l = json.load(open('show.json'))['layers'][$1]; print(l['$2'])"; }
# ovbd's wrapper ends on a multiple of 4096 bytes: the ZFile layer takes 4096-byte
# data blocks (the zfile target reads aligned to them wherever the payload
# starts), the uncompressed layer 512 (its payload starts at byte 1536)
check "verity show: the ZFile layer has 4096-byte data blocks, the uncompressed one 512" \
	sh -c "[ \$(stat -c %s '$(py 0 blob)') -gt 0 ] && [ \$(( \$(stat -c %s '$(py 0 blob)') % 4096 )) = 0 ] &&
	       [ '$(py 0 data_block_size)' = 4096 ] && [ '$(py 1 data_block_size)' = 512 ]"
verify() {	# LAYER BLOB TREE: veritysetup verify with what show printed, no superblock trusted
	veritysetup verify "$2" "$3" "$(py $1 root_hash)" --no-superblock --salt "$(py $1 salt)" \
		--data-block-size "$(py $1 data_block_size)" --data-blocks "$(py $1 data_blocks)" \
		--hash-offset "$(py $1 hash_offset)" >/dev/null 2>&1
}
refuses() { ! verify "$@"; }
with_sb() { veritysetup verify "$2" "$3" "$(py $1 root_hash)" >/dev/null 2>&1; }
for i in 0 1; do
	blob=$(py $i blob) tree=$(py $i tree)
	check "layer $i: veritysetup verify accepts the blob with the tree and root hash that show prints" verify $i "$blob" "$tree"
	check "layer $i: ... and with the tree's own superblock" with_sb $i "$blob" "$tree"
	size=$(stat -c %s "$blob")
	for at in 0 $((size / 2)) $((size - 1)); do
		cp "$blob" bad; printf '\xff' | dd of=bad bs=1 seek=$at conv=notrunc status=none
		cmp -s bad "$blob" && { printf '\x00' | dd of=bad bs=1 seek=$at conv=notrunc status=none; }
		check "layer $i: a byte flipped at $at of $size: veritysetup verify refuses the blob" refuses $i bad "$tree"
	done
	tsize=$(stat -c %s "$tree")
	cp "$tree" badtree; printf '\x5a' | dd of=badtree bs=1 seek=$((tsize - 100)) conv=notrunc status=none
	cmp -s badtree "$tree" && printf '\xa5' | dd of=badtree bs=1 seek=$((tsize - 100)) conv=notrunc status=none
	check "layer $i: a byte flipped in the tree: veritysetup verify refuses it" refuses $i "$blob" badtree
done
check "verity show of an image without root hashes says so" sh -c "'$OVBD' verity show lay:v1 | grep -q ': 0 of 2 layers verified'"
check "gc keeps the trees (the artifact is tagged), rmi of vv removes its artifact's tag" sh -c "
	'$OVBD' gc lay >/dev/null && '$OVBD' verity show lay:vv >/dev/null && '$OVBD' rmi lay:vv >/dev/null &&
	! grep -q artifactType lay/index.json && '$OVBD' verity show lay:v1 >/dev/null"
ovbd verity add --tag vv lay:v1 >/dev/null
# a tree in the layout that belongs to other parameters: refused, not used
check "verity show refuses a tree whose superblock does not fit the manifest" sh -c "
	cp -r lay lay2 && t=\$(python3 -c \"import json; print(json.load(open('show.json'))['layers'][0]['tree'].split('/')[-1])\") &&
	'$OVBD' verity show --json lay2:vv | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"layers\"][0][\"tree\"])' >t2 &&
	f=\$(cat t2 | sed 's|^lay/|lay2/|') && chmod u+w \"\$f\" && printf 'X' | dd of=\"\$f\" bs=1 seek=100 conv=notrunc status=none &&
	! '$OVBD' verity show lay2:vv 2>err && grep -q 'other parameters than the manifest' err"
# the blob changed in the layout after the trees were made elsewhere: a new tree's root is refused
check "a stored blob changed under a verified image: refused, naming the layer" sh -c "
	cp -r lay lay3 && python3 - <<'EOF'
import json, os
i = json.load(open('lay3/index.json'))
i['manifests'] = [m for m in i['manifests'] if 'artifactType' not in m]
json.dump(i, open('lay3/index.json', 'w'))
EOF
	b=\$(python3 -c \"import json; print(json.load(open('show.json'))['layers'][1]['blob'].split('/')[-1])\") &&
	chmod u+w lay3/blobs/sha256/\$b && printf 'Z' | dd of=lay3/blobs/sha256/\$b bs=1 seek=2000 conv=notrunc status=none &&
	! '$OVBD' verity show lay3:vv 2>err && grep -q 'layer 1 .*root hash is .* the manifest.s .*: the blob was changed' err"

# ---- push and pull: the trees travel as the artifact; every root hash is checked
start_registry "$T_DIR/reg" || { not_ok "docker-registry"; summary; exit 1; }
PIDS+=($REG_PID)
R=127.0.0.1:$REG_PORT
check "push of a verified image: the image, then its trees' artifact under the sha256-<hex> tag" sh -c "
	'$OVBD' push lay:vv $R/app:vv 2>push.err >push.out && grep -q 'verity tree 1 .*uploaded' push.err &&
	d=\$(awk '{print \$2}' push.out) && curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$R/v2/app/manifests/sha256-\${d#sha256:}"
check "skopeo reads the pushed artifact: its subject is the image" sh -c "
	d=\$(awk '{print \$2}' push.out) && skopeo inspect --raw --tls-verify=false docker://$R/app:sha256-\${d#sha256:} | grep -q \"\\\"subject\\\".*\$d\""
check "pull of a verified image: each blob's tree made as it streams, its root hash checked" sh -c "
	'$OVBD' pull $R/app:vv st 2>pull.err >/dev/null && [ \$(grep -c 'sha256 and dm-verity root hash checked' pull.err) = 2 ] &&
	'$OVBD' verity show --json st:vv >st.json && python3 -c \"import json; assert all(l['verity'] for l in json.load(open('st.json'))['layers'])\""
cp st.json show.json
for i in 0 1; do
	check "pulled layer $i: veritysetup verify accepts what show prints" verify $i "$(py $i blob)" "$(py $i tree)"
done
check "pull again: present blobs are checked against their root hashes" sh -c "
	'$OVBD' pull $R/app:vv st 2>pull2.err >/dev/null && [ \$(grep -c 'present, dm-verity root hash checked' pull2.err) = 2 ]"
# a manifest whose root hash was edited (pushed under another tag): the blob is refused, nothing stored
python3 - <<EOF
import json, hashlib, os
m = json.load(open('$(mblob vv)'))
k = 'org.dm-overlaybd.verity.sha256-4096.root-hash'
m['layers'][1]['annotations'][k] = '0' * 64
b = json.dumps(m, separators=(',', ':')).encode()
open('edited.json', 'wb').write(b)
EOF
check "a manifest whose root hash was edited: pull refuses the layer, naming it, and stores nothing of it" sh -c "
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @edited.json http://$R/v2/app/manifests/edited &&
	! '$OVBD' pull $R/app:edited st2 2>e.err >/dev/null && tail -n 1 e.err | grep -q 'layer 1: .*dm-verity root hash is [0-9a-f]*, the manifest.s 0000.*refused, nothing stored' &&
	[ ! -e st2/blobs/sha256/\$(python3 -c \"import json; print(json.load(open('edited.json'))['layers'][1]['digest'][7:])\") ]"
# a blob the registry serves tampered (its stored bytes changed): refused, nothing stored
blob=$(python3 -c "import json; print(json.load(open('$(mblob vv)'))['layers'][0]['digest'][7:])")
data=$(find "$T_DIR/reg" -path "*/${blob:0:2}/$blob/data")
cp "$data" good.data; printf 'Q' | dd of="$data" bs=1 seek=700 conv=notrunc status=none
check "a blob the registry serves tampered: pull refuses it, naming the layer, and stores nothing of it" sh -c "
	! '$OVBD' pull $R/app:vv st3 2>t.err >/dev/null && tail -n 1 t.err | grep -q 'layer 0' && [ ! -e st3/blobs/sha256/$blob ]"
cp good.data "$data"
kill $REG_PID
summary
