#!/bin/bash
# Install, with apt-get, everything the build, the tests and the demo use.
# Usage: tools/install-deps.sh [--runtime-only]
set -e
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root" >&2; exit 1; }
pkgs=(build-essential clang libclang-rt-14-dev liblz4-dev libzstd-dev python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: ok (${#pkgs[@]} packages)"
