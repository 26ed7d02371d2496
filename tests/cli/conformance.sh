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
	check "verify $f" ovbd verify "$f" >/dev/null
done
summary
