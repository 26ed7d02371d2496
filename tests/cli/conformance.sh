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
# ovbd writes what upstream writes, tar wrapper included, byte for byte; then
# zero blocks up to a multiple of 4096 bytes (ovbd/tar.h), which upstream's
# wrapper lacks
check "zfile --tar of inputs/plain.bin is upstream's plain.lz4-4k.tar.zfile byte for byte, then zeros to a multiple of 4096" \
	bash -c "'$OVBD' zfile --tar --algo lz4 --block-size 4096 inputs/plain.bin '$T_DIR/p' &&
		 u=\$(stat -c %s plain.lz4-4k.tar.zfile) && o=\$(stat -c %s '$T_DIR/p') &&
		 [ \$((o % 4096)) = 0 ] && [ \$o -ge \$u ] && [ \$((o - u)) -lt 4096 ] &&
		 cmp -n \$u '$T_DIR/p' plain.lz4-4k.tar.zfile &&
		 cmp <(tail -c +\$((u + 1)) '$T_DIR/p') <(head -c \$((o - u)) /dev/zero)"
check "commit --tar writes upstream's ustar header block byte for byte (its size is 0)" \
	bash -c "'$OVBD' commit --zfile --tar inputs/plain.bin '$T_DIR/c' &&
		 cmp <(dd if='$T_DIR/c' bs=512 skip=2 count=1 status=none) <(dd if=plain.lz4-4k.tar.zfile bs=512 skip=2 count=1 status=none)"
summary
