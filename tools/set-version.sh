#!/bin/bash
# Feed VERSION into every file that has to spell it out: dkms.conf,
# rpm/dm-overlaybd.spec and debian/changelog. MODULE_VERSION and
# ovbd --version read VERSION at build time.
# Usage: tools/set-version.sh [NEW_VERSION]
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && echo "$1" >VERSION
v=$(cat VERSION)
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$v\"/" dkms.conf
sed -i "s/^Version:.*/Version:        $v/" rpm/dm-overlaybd.spec
if [ "$(dpkg-parsechangelog -S Version 2>/dev/null)" != "$v" ]; then
	{ echo "dm-overlaybd ($v) unstable; urgency=medium"; echo
	  echo "  * Release $v."; echo
	  echo " -- dm-overlaybd developers <dev@dm-overlaybd.invalid>  $(date -R)"; echo
	  cat debian/changelog; } >debian/changelog.new
	mv debian/changelog.new debian/changelog
fi
echo "version $v"
