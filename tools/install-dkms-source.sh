#!/bin/bash
# Copy exactly what the DKMS build needs into DEST (/usr/src/dm-overlaybd-V).
# Used by debian/rules and rpm/dm-overlaybd.spec.
set -eu
DEST=$1
cd "$(dirname "$0")/.."
install -d "$DEST/src/format" "$DEST/include/ovbd"
install -m 0644 dkms.conf VERSION "$DEST/"
# sources only: an in-tree module build leaves a generated *.mod.c beside them
install -m 0644 src/Makefile src/Kbuild $(ls src/*.c | grep -v '\.mod\.c$') src/*.h "$DEST/src/"
install -m 0755 src/conftest.sh "$DEST/src/"
install -m 0644 src/format/*.c "$DEST/src/format/"
install -m 0644 include/ovbd/*.h "$DEST/include/ovbd/"
