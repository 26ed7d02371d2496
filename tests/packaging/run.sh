#!/bin/bash
# Packaging: one version everywhere, the .debs (lintian, contents), an apt
# install of the DKMS package for every installed kernel, the installed 6.1
# module mapping an image in the QEMU guest, purge, the ovbd package, and the
# rpm (files, scriptlets, rpmlint). Installs and removes packages: run as root.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
V=$(cat VERSION)
[ "$(id -u)" = 0 ] || { not_ok "packaging: must run as root (apt-get install)"; summary; exit 1; }

# ---- one version source
check "dkms.conf PACKAGE_VERSION is VERSION ($V)" grep -qx "PACKAGE_VERSION=\"$V\"" dkms.conf
check "debian/changelog is at VERSION" [ "$(dpkg-parsechangelog -S Version)" = "$V" ]
check "rpm spec Version is VERSION" grep -qE "^Version: +$V\$" rpm/dm-overlaybd.spec
check "ovbd --version is VERSION" [ "$("$OVBD" --version)" = "ovbd $V" ]
check "the module's MODULE_VERSION is VERSION" grep -q "MODULE_VERSION(OVBD_VERSION)" src/dm-overlaybd-main.c

# ---- debs
if make -s deb >"$TOP/build/make-deb.log" 2>&1; then ok "make deb"; else not_ok "make deb: $(tail -5 "$TOP/build/make-deb.log")"; summary; exit 1; fi
DKMS_DEB=build/deb/dm-overlaybd-dkms_${V}_all.deb
OVBD_DEB=$(ls build/deb/ovbd_"${V}"_*.deb)
lint=$(lintian "$DKMS_DEB" "$OVBD_DEB" 2>&1 | grep -E '^E: ')
check "lintian reports no errors${lint:+: $lint}" [ -z "$lint" ]
# the module's sources as git tracks them: build output in src/ must not ship
expected=$(git -C "$TOP" ls-files dkms.conf VERSION src include | sort)
# the listing is taken whole: grep -q on dpkg-deb's pipe would end it early
# (dpkg-deb then reports its tar killed by SIGPIPE)
list=$(dpkg-deb -c "$OVBD_DEB")
check "deb: ovbd ships the udev rules and the boot-time generator" sh -c \
	"printf '%s\n' \"\$1\" | grep -q ' ./lib/udev/rules.d/60-ovbd.rules\$' && printf '%s\n' \"\$1\" | grep -q '^-rwxr-xr-x .* ./lib/systemd/system-generators/ovbd-generator\$'" sh "$list"
got=$(dpkg-deb -c "$DKMS_DEB" | awk '{print $6}' | grep "^./usr/src/dm-overlaybd-$V/.*[^/]\$" |
	sed "s,^./usr/src/dm-overlaybd-$V/,," | sort)
check "the dkms .deb ships exactly the build's files" [ "$expected" = "$got" ]
check "dm-overlaybd-dkms depends on dkms and kernel headers" sh -c \
	"dpkg-deb -f '$DKMS_DEB' Depends | grep -q 'dkms' && dpkg-deb -f '$DKMS_DEB' Depends | grep -q 'linux-headers'"
check "dm-overlaybd-dkms is Architecture: all" [ "$(dpkg-deb -f "$DKMS_DEB" Architecture)" = all ]

# ---- apt install, boot, purge: only where neither package is installed, so
# that the machine ends as it began (a user's installed packages are never
# replaced or purged; the install checks are then skipped, and say why)
installed=$(dpkg-query -W -f='${Package} ${Status}\n' dm-overlaybd-dkms ovbd 2>/dev/null | awk '/ installed$/ {print $1}' | xargs)
if [ -n "$installed" ]; then
	skip "apt install, QEMU boot of the installed module and purge: $installed already installed here; the suite does not replace a user's packages (apt-get purge $installed to run them, as CI does on a fresh machine)"
else
	kernels=$(for b in /lib/modules/*/build; do [ -e "$b/Makefile" ] && basename "$(dirname "$b")"; done)
	export DEBIAN_FRONTEND=noninteractive
	if apt-get install -y -qq "./$DKMS_DEB" >"$TOP/build/apt-dkms.log" 2>&1; then ok "apt-get install $DKMS_DEB"
	else not_ok "apt-get install: $(tail -5 "$TOP/build/apt-dkms.log")"; fi
	for k in $kernels; do
		check "dkms status: installed for $k" sh -c "dkms status -m dm-overlaybd -v $V -k $k | grep -q ': installed'"
		ko=$(ls /lib/modules/"$k"/updates/dkms/dm-overlaybd.ko* 2>/dev/null | head -1)
		check "$k: module installed under /lib/modules/$k/updates/dkms" [ -n "$ko" ]
		[ -n "$ko" ] && check "$k: vermagic matches" sh -c \
			"modinfo -F vermagic '$ko' | grep -q '^$k '"
		[ -n "$ko" ] && check "$k: installed module is version $V" [ "$(modinfo -F version "$ko")" = "$V" ]
	done
	k61=$(echo "$kernels" | grep '^6\.1\.' | head -1)
	ko61=$(ls /lib/modules/"$k61"/updates/dkms/dm-overlaybd.ko* 2>/dev/null | head -1)
	if [ -n "$ko61" ]; then
		# the installed module, booted in the guest: its lines join this suite's counts
		MODULE_KO=$ko61 SMOKE=1 tests/qemu/run.sh 6.1 >"$TOP/build/packaging-qemu.log" 2>&1
		while IFS= read -r line; do
			case $line in
			"ok - "*) ok "installed module: ${line#ok - }";;
			"not ok - "*) not_ok "installed module: ${line#not ok - }";;
			"skip - "*) skip "installed module: ${line#skip - }";;
			esac
		done <"$TOP/build/packaging-qemu.log"
	else
		not_ok "no installed module for 6.1 to boot"
	fi

	# ---- the ovbd package
	if apt-get install -y -qq "./$OVBD_DEB" >"$TOP/build/apt-ovbd.log" 2>&1; then ok "apt-get install $OVBD_DEB"
	else not_ok "apt-get install ovbd: $(tail -3 "$TOP/build/apt-ovbd.log")"; fi
	check "installed ovbd --version" [ "$(/usr/sbin/ovbd --version)" = "ovbd $V" ]
	check "man -w ovbd finds the man page" sh -c "man -w ovbd | grep -q ovbd.8"
	check "the udev rules and the boot-time generator are installed" \
		sh -c "[ -f /lib/udev/rules.d/60-ovbd.rules ] && [ -x /lib/systemd/system-generators/ovbd-generator ]"

	# ---- purge removes the sources and the modules
	apt-get purge -y -qq dm-overlaybd-dkms ovbd >"$TOP/build/apt-purge.log" 2>&1
	check "purge removes /usr/src/dm-overlaybd-*" sh -c "! ls -d /usr/src/dm-overlaybd-* 2>/dev/null"
	check "purge removes the modules" sh -c "! ls /lib/modules/*/updates/dkms/dm-overlaybd.ko* 2>/dev/null"
	check "purge removes ovbd" [ ! -e /usr/sbin/ovbd ]

fi

# ---- rpm
if make -s rpm >"$TOP/build/make-rpm.log" 2>&1; then ok "make rpm"; else not_ok "make rpm: $(tail -5 "$TOP/build/make-rpm.log")"; fi
DKMS_RPM=$(find build/rpm/RPMS -name "dm-overlaybd-dkms-$V-*.noarch.rpm" | head -1)
OVBD_RPM=$(find build/rpm/RPMS -name "ovbd-$V-*.rpm" | head -1)
check "rpm: dkms package is noarch" [ -n "$DKMS_RPM" ]
check "rpm: ovbd package built" [ -n "$OVBD_RPM" ]
if [ -n "$DKMS_RPM" ]; then
	got=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$DKMS_RPM" 2>/dev/null |
		awk '$1 ~ /^-/ {print $2}' | grep "^/usr/src/dm-overlaybd-$V/" |
		sed "s,^/usr/src/dm-overlaybd-$V/,," | sort)
	check "rpm: dkms package ships exactly the build's files" [ "$expected" = "$got" ]
	scripts=$(rpm -qp --scripts "$DKMS_RPM" 2>/dev/null)
	for s in "dkms add" "dkms build" "dkms install" "dkms remove"; do
		check "rpm: scriptlets run $s" grep -q "$s" <<<"$scripts"
	done
	check "rpm: %preun removes all kernels' builds" grep -q -- "--all" <<<"$scripts"
fi
[ -n "$OVBD_RPM" ] && check "rpm: ovbd ships the tool, man page, udev rules and boot-time generator" sh -c \
	"rpm -qpl '$OVBD_RPM' 2>/dev/null | grep -q /usr/sbin/ovbd && rpm -qpl '$OVBD_RPM' 2>/dev/null | grep -q ovbd.8 &&
	 rpm -qpl '$OVBD_RPM' 2>/dev/null | grep -q /usr/lib/udev/rules.d/60-ovbd.rules &&
	 rpm -qpl '$OVBD_RPM' 2>/dev/null | grep -q /usr/lib/systemd/system-generators/ovbd-generator"
if command -v rpmlint >/dev/null; then
	rpmlint -r rpm/dm-overlaybd.rpmlintrc "$DKMS_RPM" "$OVBD_RPM" >"$TOP/build/rpmlint.log" 2>&1
	errs=$(grep -cE ' E: ' "$TOP/build/rpmlint.log")
	check "rpmlint: no errors ($(grep -cE ' W: ' "$TOP/build/rpmlint.log") warnings, see README)" [ "$errs" -eq 0 ]
else
	skip "rpmlint is not installed"
fi
summary
