#!/bin/bash
# bench/results/bundle.md from bench/bundle.sh's "BENCH key value" lines:
# medians of the rounds and their ratios, with the issue's target.
# Usage: bundle-report.sh ALL_LOG MIB
LOG=$1 MIB=$2
declare -A ALL V
while read -r _ k v; do ALL[$k]="${ALL[$k]:+${ALL[$k]}, }$v"; done < <(grep '^BENCH ' "$LOG")
for k in "${!ALL[@]}"; do
	V[$k]=$(tr ',' '\n' <<<"${ALL[$k]}" | sort -g | awk -f "$(dirname "$0")/median.awk")
done
ratio() { awk -v a="${V[$1]:-0}" -v b="${V[$2]:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
meets() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "n/a"; else print (r <= t ? "met" : "missed") }'; }
lazy=$(ratio bundle_lazy_first_line_s umoci_first_line_s)
local_r=$(ratio bundle_local_s umoci_unpack_s)
errors=$(grep -c '^BENCH error' "$LOG")
cat <<MD
# Containers: ovbd bundle against skopeo + umoci unpack

$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD), \`bench/bundle.sh\`
(part of \`make bench\`). One Debian 6.1 guest (QEMU TCG, 2 vCPUs); a tree of
$MIB MiB of /usr/share and /usr/lib files and a static busybox, as an ordinary
gzip image made by umoci ($(( ${V[bundle_plain_bytes]:-0} >> 20 )) MiB of blobs) and as the
OverlayBD image \`ovbd convert --zfile\` made of it ($(( ${V[bundle_obd_bytes]:-0} >> 20 )) MiB), both
in one docker-registry on the guest's loopback. The container's Entrypoint
prints one line; the time runs to that line. Rounds interleaved, medians;
every cache dropped before each. Errors in the run: $errors.

| figure | ovbd | skopeo + umoci | ratio | target | |
|---|---|---|---|---|---|
| registry to the container's first line: \`ovbd bundle --lazy\` + \`runc run\` against \`skopeo copy\` + \`umoci unpack\` + \`runc run\` | ${V[bundle_lazy_first_line_s]:-n/a} s (${ALL[bundle_lazy_first_line_s]:-}) | ${V[umoci_first_line_s]:-n/a} s (${ALL[umoci_first_line_s]:-}) | **$lazy** | <= 0.3 | $(meets "$lazy" 0.3) |
| a bundle from local copies: \`ovbd bundle\` from the store against \`umoci unpack\` from a layout | ${V[bundle_local_s]:-n/a} s (${ALL[bundle_local_s]:-}) | ${V[umoci_unpack_s]:-n/a} s (${ALL[umoci_unpack_s]:-}) | **$local_r** | (reported) | |
MD
if [ "$errors" -gt 0 ]; then
	echo
	echo "Errors (a figure with an error is not a measurement):"
	grep '^BENCH error' "$LOG" | sed 's/^BENCH error /- /' | cut -c1-300
fi
