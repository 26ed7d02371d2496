#!/bin/bash
# Install, with apt-get, everything the build, the tests and the demo use.
# Usage: tools/install-deps.sh [--runtime-only] [--list]
#   --runtime-only  only what a machine that maps images needs
#   --list          print the packages, install nothing
set -e
export DEBIAN_FRONTEND=noninteractive
list=0 runtime=0
for a in "$@"; do
	case $a in
	--list) list=1;;
	--runtime-only) runtime=1;;
	*) echo "install-deps: unknown argument '$a' (usage: install-deps.sh [--runtime-only] [--list])" >&2; exit 2;;
	esac
done
[ "$list" = 1 ] || [ "$(id -u)" = 0 ] || { echo "install-deps: run as root" >&2; exit 1; }
if [ "$runtime" = 1 ]; then
	# what a machine that only maps images needs: the DKMS build of the
	# module for its kernel, dmsetup, losetup and modprobe, ovbd's libraries
	headers=linux-headers-$(uname -r)
	if ! apt-cache show "$headers" >/dev/null 2>&1 && [ "$list" = 0 ]; then
		apt-get update -qq
		apt-cache show "$headers" >/dev/null 2>&1 || {
			echo "install-deps: no package $headers for the running kernel; installing linux-headers-amd64 (DKMS builds for the kernels that have headers)"
			headers=linux-headers-amd64; }
	fi
	pkgs=(dkms "$headers" dmsetup util-linux kmod liblz4-1 libzstd1 libjson-c5 libssl3 libcurl4 libarchive13 libext2fs2 e2fsprogs libdevmapper1.02.1 libcryptsetup12 libblkid1 libtomlplusplus3 nbdkit nbd-client)
else
pkgs=(
	# ovbd, unit tests, fuzzers
	build-essential clang libclang-rt-14-dev liblz4-dev libzstd-dev libjson-c-dev libssl-dev
	libcurl4-openssl-dev libarchive-dev libext2fs-dev libdevmapper-dev libcryptsetup-dev libblkid-dev libtomlplusplus-dev python3
	# Debian's veritysetup: the independent checker of the trees ovbd makes
	cryptsetup-bin
	# the module, for both Debian 12 kernels, and KUnit on UML
	linux-headers-amd64 linux-headers-6.12.107+deb12-amd64 linux-source-6.1
	bc bison flex libelf-dev libssl-dev xz-utils kmod
	# the QEMU guests
	qemu-system-x86 linux-image-amd64 linux-image-6.12.107+deb12-amd64-unsigned
	busybox-static dmsetup util-linux e2fsprogs cpio gzip
	# benchmarks
	fio erofs-utils lz4 zstd linux-perf iproute2
	# independent readers of the tar wrapper and of OCI image layouts
	libarchive-tools skopeo umoci
	# OCI runtimes that start containers from ovbd bundle (on the host and in the guests)
	runc crun
	# a local registry for the push and pull tests (started by the tests on 127.0.0.1)
	docker-registry apache2-utils curl
	# open --lazy: nbdkit (curl plugin) and the kernel nbd client's nbd-client
	nbdkit nbd-client
	# packaging
	dkms dh-dkms debhelper dpkg-dev fakeroot lintian rpm rpmlint man-db
)
fi
if [ "$list" = 1 ]; then printf '%s\n' "${pkgs[@]}"; exit 0; fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: ok (${#pkgs[@]} packages)"
