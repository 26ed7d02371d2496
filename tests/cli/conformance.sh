#!/bin/bash
# Conformance with upstream-made images: ovbd cat and ovbd verify on ../shared/images.
. "$(dirname "$0")/../lib.sh"

if [ ! -f "$SHARED_IMAGES/expected.tsv" ]; then
	skip "conformance: $SHARED_IMAGES/expected.tsv is absent (../shared exists only in the project workplace)"
	summary; exit
fi
scratch
cd "$SHARED_IMAGES" || exit 1
while IFS=$'\t' read -r kind layers bytes sha; do
	[[ $kind == \#* || -z $kind ]] && continue
	IFS=, read -r -a files <<<"$layers"
	ovbd cat "${files[@]}" -o "$T_DIR/out"
	got=$(sha256sum <"$T_DIR/out" | cut -d' ' -f1)
	size=$(stat -c %s "$T_DIR/out")
	if [ "$got" = "$sha" ] && [ "$size" -eq "$bytes" ]; then
		ok "cat $kind $layers"
	else
		not_ok "cat $kind $layers: sha256 $got, size $size"
	fi
done <expected.tsv
for f in *.zfile *.lsmt; do
	check "verify --strict $f (nothing upstream would refuse)" ovbd verify --strict "$f" >/dev/null
done
# ovbd writes what upstream writes, tar wrapper included, byte for byte
check "zfile --tar of inputs/plain.bin is byte-identical with upstream's plain.lz4-4k.tar.zfile" \
	bash -c "'$OVBD' zfile --tar --algo lz4 --block-size 4096 inputs/plain.bin '$T_DIR/p' && cmp '$T_DIR/p' plain.lz4-4k.tar.zfile"
check "commit --tar writes upstream's ustar header block byte for byte (its size is 0)" \
	bash -c "'$OVBD' commit --zfile --tar inputs/plain.bin '$T_DIR/c' &&
		 cmp <(dd if='$T_DIR/c' bs=512 skip=2 count=1 status=none) <(dd if=plain.lz4-4k.tar.zfile bs=512 skip=2 count=1 status=none)"
summary
