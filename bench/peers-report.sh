#!/bin/bash
# bench/results/peers.md from bench/peers.sh's "BENCH key value" lines:
# medians of the rounds and their ratios, with the random-read issue's targets.
# Usage: peers-report.sh ALL_LOG MIB
LOG=$1 MIB=$2
. "$(dirname "$0")/report-lib.sh"
cat <<MD
# Random and sequential reads against upstream's daemons (overlaybd-ublk, overlaybd-tcmu)

$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD), \`bench/peers.sh\`
(part of \`make bench\` where ../shared/peers exists). One Debian 6.12 guest
(QEMU TCG, 2 vCPUs); a tree of $MIB MiB of /usr/share and /usr/lib files in
ext4, as one ZFile lz4 4 KiB layer in the guest's tmpfs, read through
dm-overlaybd (\`ovbd open\`: lsmt over zfile over a loop device), through
overlaybd-ublk and through overlaybd-tcmu (tcm_loop), and the raw image
through dm-linear. Each device's sha256 was checked against the raw
image's first (${V[peer_sha_ok_d]:+dm-overlaybd ok}${V[peer_sha_ok_u]:+, ublk ok}${V[peer_sha_ok_t]:+, tcmu ok}${V[peer_sha_ok_a]:+, raw ok}). fio O_DIRECT, 5 s a
run; rounds rotate the devices' order (dm-overlaybd also runs once more a
round with the module parameter direct_reads=N, the read path before zfile's
direct reads); medians; CPU time is both vCPUs'
busy time (/proc/stat) per MiB read. Errors in the run: $errors.

| figure | dm-overlaybd | peer (or raw) | ratio | target | |
|---|---|---|---|---|---|
$(row "random 4K, queue depth 16 (IOPS): dm-overlaybd / overlaybd-ublk" peer_rand16_d_iops peer_rand16_u_iops ">=" 1.5)
$(row "random 4K, queue depth 1 (IOPS): dm-overlaybd / overlaybd-ublk" peer_rand1_d_iops peer_rand1_u_iops ">=" 1.5)
$(row "sequential 1 MiB, queue depth 1 (MB/s): dm-overlaybd / overlaybd-ublk" peer_seq_d_MBps peer_seq_u_MBps ">=" 1.3)
$(row "sequential 1 MiB, queue depth 1 (MB/s): dm-overlaybd / overlaybd-tcmu" peer_seq_d_MBps peer_seq_t_MBps ">=" 2)
$(row "random 4K, queue depth 16 (IOPS): dm-overlaybd / overlaybd-tcmu" peer_rand16_d_iops peer_rand16_t_iops)
$(row "CPU time per MiB, random 4K at queue depth 16 (ms): dm-overlaybd / overlaybd-ublk" peer_rand16_d_cpu_ms_per_MiB peer_rand16_u_cpu_ms_per_MiB "<=" 0.6)
$(row "CPU time per MiB, sequential (ms): dm-overlaybd / overlaybd-ublk" peer_seq_d_cpu_ms_per_MiB peer_seq_u_cpu_ms_per_MiB)
$(row "random 4K, queue depth 16 (IOPS): the ZFile lz4 device / the raw image through dm-linear" peer_rand16_d_iops peer_rand16_a_iops ">=" 0.8)
$(row "random 4K, queue depth 1 (IOPS): the ZFile lz4 device / the raw image through dm-linear" peer_rand1_d_iops peer_rand1_a_iops)
$(row "random 4K, queue depth 16 (IOPS): dm-overlaybd with zfile's direct reads (the default) / without (direct_reads=N, every read through a pool slot, as before)" peer_rand16_d_iops peer_rand16_n_iops)
$(row "random 4K, queue depth 1 (IOPS): the same" peer_rand1_d_iops peer_rand1_n_iops)
$(row "CPU time per MiB, random 4K at queue depth 16 (ms): the same" peer_rand16_d_cpu_ms_per_MiB peer_rand16_n_cpu_ms_per_MiB)
$(row "sequential 1 MiB (MB/s): the same (no direct read: a check that nothing moved)" peer_seq_d_MBps peer_seq_n_MBps)
MD
errors_list
# the profiles: each run's stages (bench/path-stages.awk) and top symbols
names=$(awk '$1 == "BENCHPROF" && $3 != "none" {print $2}' "$LOG" | awk '!seen[$0]++')
[ -n "$names" ] || exit 0
cat <<MD

### The path of a 4 KiB random read, profiled

perf in the guest, both vCPUs, 4 s of fio random 4 KiB reads a run, after
the rounds: the raw image through dm-linear, and dm-overlaybd with zfile's
direct reads (direct) and without (slot: direct_reads=N), at queue depths 16
and 1. Each stage's share of the samples that were not idle, among the
run's top 40 symbols (bench/path-stages.awk puts each symbol in a stage),
then those symbols (% of all samples, idle included).

| stage | $(echo $names | sed 's/ / | /g') |
|---|$(for n in $names; do printf -- '---|'; done)
MD
for n in $names; do
	awk -v n="$n" '$1 == "BENCHPROF" && $2 == n {print $3, $4}' "$LOG" | awk -f "$(dirname "$0")/path-stages.awk" |
		awk -v n="$n" '$1 == "OWN" {p = $2; $1 = $2 = ""; sub(/^ +/, ""); print n "\t" $0 "\t" p}'
done | awk -F'\t' -v names="$names" '{v[$2, $1] = $3; if (!($2 in seen)) {seen[$2] = 1; order[++k] = $2}}
	END {c = split(names, nm, " ")
	     for (i = 1; i <= k; i++) {printf "| %s |", order[i]; for (j = 1; j <= c; j++) printf " %s |", ((order[i], nm[j]) in v) ? v[order[i], nm[j]] : "0%"; print ""}}'
echo
for n in $names; do
	echo "- $n: $(awk -v n="$n" '$1 == "BENCHPROF" && $2 == n {printf "%s%s %s", sep, $4, $3; sep = ", "}' "$LOG" | cut -c1-600)"
done
