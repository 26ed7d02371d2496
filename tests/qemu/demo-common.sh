# The demo's checks, shared by the QEMU guest and HOST=1 runs. Run from the
# directory that holds the pulled image layout store/ and tree.sha256.
demo_map_and_check() {	# MOUNTPOINT TAG
	mnt=$1 tag=$2
	echo "demo: ovbd open demo oci:store:$tag"
	ovbd open demo "oci:store:$tag" || { echo "DEMO: FAIL (ovbd open)"; return 1; }
	ovbd status demo
	mkdir -p "$mnt"
	mount -t ext4 -o ro,noload /dev/mapper/demo "$mnt" || { ovbd close demo; echo "DEMO: FAIL (mount)"; return 1; }
	echo "demo: the mounted image"
	(cd "$mnt" && ls -lR . | head -40)
	(cd "$mnt" && find . -path ./lost+found -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum) >/tmp/demo-mounted.sha256
	echo "demo: sha256 of every file, mounted image vs source tree"
	result=PASS
	while read -r sum path; do
		want=$(grep "  $path\$" tree.sha256 | cut -d' ' -f1)
		if [ "$sum" = "$want" ]; then echo "  same  $sum  $path"
		else echo "  DIFF  $sum  $path (source: ${want:-missing})"; result=FAIL; fi
	done </tmp/demo-mounted.sha256
	cmp -s /tmp/demo-mounted.sha256 tree.sha256 || { echo "demo: file lists differ"; result=FAIL; }
	umount "$mnt"
	ovbd close demo
	echo "DEMO: $result ($tag: $(wc -l <tree.sha256) files)"
	[ $result = PASS ]
}
