#!/bin/sh
# The demo, inside the guest: map the 3-layer image and the converted one
# with ovbd open, mount each, list it and compare every file's sha256 with
# the source tree's.
losetup() { /sbin/losetup "$@"; }
echo "demo: insmod dm-overlaybd.ko"
insmod /modules/dm-overlaybd.ko || { echo "DEMO: FAIL (insmod)"; exit 1; }
. ./demo-common.sh
demo_map_and_check /mnt/demo latest
demo_map_and_check /mnt/demo overlaybd
