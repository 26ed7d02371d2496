#!/bin/bash
# Turn a bench console log's "BENCH key value" lines into the results table.
# Usage: report.sh CONSOLE_LOG TREE_MIB
set -eu
LOG=$1 MIB=$2
# every round's value of a key, and their median
declare -A ALL V
while read -r _ k v; do ALL[$k]="${ALL[$k]:+${ALL[$k]} }$v"; done < <(grep '^BENCH ' "$LOG")
for k in "${!ALL[@]}"; do
	V[$k]=$(printf '%s\n' ${ALL[$k]} | sort -g | awk -f "$(dirname "$0")/median.awk")
done
ROUNDS=$(wc -w <<<"${ALL[seq_MBps_a]:-}")
r() { awk -v a="${V[$1]:-0}" -v b="${V[$2]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
meets() { awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN { if (x == "n/a") print "?"; else if ((op == ">=" && x >= t) || (op == "<=" && x <= t) || (op == "<" && x < t)) print "met"; else print "missed" }'; }
seq_d=$(r seq_MBps_d lz4_decompress_MBps); seq_e=$(r seq_MBps_e zstd_decompress_MBps)
bps=$(awk -v m="${V[lsmt_mem_KiB]:-0}" -v s="${V[lsmt_segments]:-0}" 'BEGIN { if (s > 0) printf "%.1f", m * 1024 / s; else print "n/a" }')
marg=$(awk -v m="${V[lsmt_freed_KiB]:-0}" -v m1="${V[lsmt1_freed_KiB]:-0}" -v s="${V[lsmt_segments]:-0}" -v s1="${V[lsmt1_segments]:--1}" \
	'BEGIN { if (s1 >= 0 && s > s1) printf "%.1f", (m - m1) * 1024 / (s - s1); else print "n/a" }')
bpb=$(awk -v m="${V[zfile_mem_KiB]:-0}" -v s="${V[zfile_blocks]:-0}" 'BEGIN { if (s > 0) printf "%.2f", m * 1024 / s; else print "n/a" }')
div() {	# KEY DIVISOR: V[KEY] / DIVISOR, rounded (a median of two rounds may be x.5)
	awk -v v="${V[$1]:-0}" -v d="$2" 'BEGIN {printf "%.0f", v / d}'
}
profiles() {	# the BENCHPROF lines as one table per profile
	local name
	for name in $(grep '^BENCHPROF ' "$LOG" | awk '!seen[$2]++ {print $2}'); do
		printf '### %s\n\n| kind | share | symbol or task |\n|---|---|---|\n' "$name"
		grep "^BENCHPROF $name " "$LOG" | awk '{k = $3 == "self" ? "own" : $3 == "comm" ? "task" : $3 == "incl" ? "inclusive" : $3
			printf "| %s | %s | %s |\n", k, $4, $5}'
		echo
	done
}
cat <<MD
# dm-overlaybd benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown),
one Debian 6.1 guest under QEMU TCG with 2 vCPUs, a ${MIB} MiB tree of /usr/share and /usr/lib files in ext4.
Every figure is a ratio of two measurements taken in the same boot, cold (caches dropped before each).
Each workload ran in ${ROUNDS} rounds interleaved over the devices; a figure is the median of its rounds.

(a) raw image through dm-linear, (b) one uncompressed LSMT layer, (c) the same over 10 layers,
(d) ZFile LZ4 4 KiB blocks, (e) ZFile zstd 16 KiB blocks, (f) EROFS lz4hc.

| figure | ratio | target | |
|---|---|---|---|
| sequential read (b) / (a) | $(r seq_MBps_b seq_MBps_a) | >= 0.9 | $(meets "$(r seq_MBps_b seq_MBps_a)" ">=" 0.9) |
| sequential read (c) / (a) | $(r seq_MBps_c seq_MBps_a) | >= 0.9 | $(meets "$(r seq_MBps_c seq_MBps_a)" ">=" 0.9) |
| sequential read (b), every hole zero-filled in lsmt_map (zero_work_sectors=0) / (b) | $(r seq_MBps_b_zero_in_map seq_MBps_b) | | |
| sequential read (d), zfile's prefetch of the next run on (the default) / off (seq_prefetch=N): 4 bios in flight, 1 bio in flight | $(r seq_MBps_d seq_MBps_d_no_prefetch), $(r seq_MBps_d_qd1 seq_MBps_d_qd1_no_prefetch) | | |
| random 4K read (b) / (a) | $(r rand_iops_b rand_iops_a) | >= 0.9 | $(meets "$(r rand_iops_b rand_iops_a)" ">=" 0.9) |
| random 4K read (c) / (a) | $(r rand_iops_c rand_iops_a) | >= 0.9 | $(meets "$(r rand_iops_c rand_iops_a)" ">=" 0.9) |
| sequential read (d) / (a) | $(r seq_MBps_d seq_MBps_a) | | |
| sequential read (e) / (a) | $(r seq_MBps_e seq_MBps_a) | | |
| random 4K read (d) / (a) | $(r rand_iops_d rand_iops_a) | | |
| random 4K read (e) / (a) | $(r rand_iops_e rand_iops_a) | | |
| full-tree read time (d) / EROFS (f) | $(r tree_s_d tree_s_f) | <= 1.0 | $(meets "$(r tree_s_d tree_s_f)" "<=" 1.0) |
| full-tree read time (a) / (f), (b) / (f), (c) / (f), (e) / (f) | $(r tree_s_a tree_s_f), $(r tree_s_b tree_s_f), $(r tree_s_c tree_s_f), $(r tree_s_e tree_s_f) | | |
| zfile lz4 sequential / in-guest lz4 -b decompression | $seq_d | >= 0.5 | $(meets "$seq_d" ">=" 0.5) |
| zfile zstd sequential / in-guest zstd -b decompression | $seq_e | >= 0.5 | $(meets "$seq_e" ">=" 0.5) |
| ctr of 255 layers x 10 000 segments (s) | ${V[ctr_255x10k_s]:-n/a} | < 1 | $(meets "${V[ctr_255x10k_s]:-n/a}" "<" 1) |
| the same load, validation and merge in userspace on the host CPU (s), for scale | ${V[host_userspace_255x10k_s]:-n/a} | | |

### Native speed: the same module in User-Mode Linux (bench/uml.sh)

TCG emulates every instruction (\`crc32\` byte by byte): the figures above are
ratios within the guest. Here the same dm-overlaybd.ko, built for a UML
kernel (Debian's linux-source-6.1, ARCH=um), runs on the host CPU at native
speed. \`lz4 -b\` runs inside UML in every round, beside that round's
reads (a user process of UML executes on the host CPU as fast as on the
host), and a sequential figure is the fastest of three cold passes, as
\`lz4 -b\` reports its fastest loop. Each device is read with one 1 MiB
O_DIRECT bio in flight (dd bs=1M) and with four (bs=4M, which direct I/O
splits into four 1 MiB bios, as the TCG column's fio reads with iodepth 4).
\`zstd -b\` and one more \`lz4 -b\` run on the host at the end. The images
sit in UML's own memory (tmpfs, through loop devices, and the lz4 one again
on a RAM disk, brd), so the raw image through dm-linear shows what the I/O
path alone allows. UML has one CPU. It builds no
arch/x86/crypto, so its own crc32c() is the generic table; a native x86-64
kernel has crc32c-intel (SSE4.2). bench/uml-crc32c registers an SSE4.2
"crc32c" for the UML kernel before libcrc32c binds (checked against the
table at load), so that the UML column uses the CRC a native kernel does
(crc32c-uml-sse42 in use: ${V[uml_crc32c_sse42]:-n/a}); a second boot reads
(d) with the table CRC32C for the difference. UML applies no
alternatives, so its memcpy and memset are the loops that x86-64 keeps for
CPUs without fast strings; tests/uml/build.sh patches them to take
\`rep movsb\`/\`rep stosb\`, as a native kernel does on a CPU with ERMS,
when \`uml_string_erms\` is 1 (here: ${V[uml_string_erms]:-n/a}, set when the host
CPU has ERMS), and each round also reads the brd devices with the loops.
See bench/analysis.md.

| figure | UML (native) | TCG guest | target | |
|---|---|---|---|---|
| raw image through dm-linear, sequential (MB/s): the I/O path alone; four 1 MiB bios in flight (dd bs=4M), one (bs=1M) | ${V[uml_seq4_MBps_za]:-n/a}, ${V[uml_seq_MBps_za]:-n/a} | ${V[seq_MBps_a]:-n/a} | | |
| zfile lz4 sequential / lz4 -b decompression, in the same round (median of the rounds' ratios): four 1 MiB bios in flight, as the TCG column reads (fio iodepth 4) | ${V[uml_ratio4_zd_lz4_b]:-n/a} (${V[uml_seq4_MBps_zd]:-n/a} against ${V[uml_guest_lz4_b_MBps]:-n/a} MB/s; rounds: ${ALL[uml_ratio4_zd_lz4_b]:-n/a}) | $seq_d | >= 0.7 | $(meets "${V[uml_ratio4_zd_lz4_b]:-n/a}" ">=" 0.7) |
| the same, one 1 MiB bio in flight (dd bs=1M: each read also pays UML's ptrace round trip of a system call) | ${V[uml_ratio_zd_lz4_b]:-n/a} (${V[uml_seq_MBps_zd]:-n/a} MB/s; rounds: ${ALL[uml_ratio_zd_lz4_b]:-n/a}) | $(r seq_MBps_d_qd1 lz4_decompress_MBps) | >= 0.7 | $(meets "${V[uml_ratio_zd_lz4_b]:-n/a}" ">=" 0.7) |
| the same, four in flight, against one lz4 -b on the host at the end of the run, for comparison | $(r uml_seq4_MBps_zd uml_host_lz4_b_MBps) (${V[uml_host_lz4_b_MBps]:-n/a} MB/s) | | | |
| one in flight, net of UML's time in the host's kernel (${V[uml_prof_host_kernel_pct]:-n/a}% of the profile, which reads one bio at a time: ptrace hand-overs and signals, UML's own mechanism) | $(awk -v r="${V[uml_ratio_zd_lz4_b]:-}" -v k="${V[uml_prof_host_kernel_pct]:-}" 'BEGIN {if (r + 0 > 0 && k != "" && k < 100) printf "%.2f", r / (1 - k / 100); else print "n/a"}') | | | |
| raw image through dm-linear on a RAM disk (brd), sequential (MB/s), four bios in flight, one: a lower device that copies in the submitter, with no loop worker or page cache | ${V[uml_seq4_MBps_zab]:-n/a}, ${V[uml_seq_MBps_zab]:-n/a} | | | |
| zfile lz4 sequential from a RAM disk (brd) / lz4 -b decompression, in the same round (median of the rounds' ratios): four 1 MiB bios in flight | ${V[uml_ratio4_zdb_lz4_b]:-n/a} (${V[uml_seq4_MBps_zdb]:-n/a} MB/s; rounds: ${ALL[uml_ratio4_zdb_lz4_b]:-n/a}) | | >= 0.7 | $(meets "${V[uml_ratio4_zdb_lz4_b]:-n/a}" ">=" 0.7) |
| the same, one 1 MiB bio in flight | ${V[uml_ratio_zdb_lz4_b]:-n/a} (${V[uml_seq_MBps_zdb]:-n/a} MB/s; rounds: ${ALL[uml_ratio_zdb_lz4_b]:-n/a}) | | >= 0.7 | $(meets "${V[uml_ratio_zdb_lz4_b]:-n/a}" ">=" 0.7) |
| the same with UML's own memcpy/memset loops (uml_string_erms=0, in the same rounds) | $(r uml_seq_MBps_zdb_memcpy_orig uml_guest_lz4_b_MBps) (${V[uml_seq_MBps_zdb_memcpy_orig]:-n/a} MB/s; raw brd ${V[uml_seq_MBps_zab_memcpy_orig]:-n/a} MB/s) | | | |
| the same with UML's table CRC32C (a second boot) | $(r uml_seq_MBps_zd_tablecrc uml_guest_lz4_b_MBps) (${V[uml_seq_MBps_zd_tablecrc]:-n/a} MB/s) | | | |
| zfile zstd sequential / zstd -b decompression | $(r uml_seq_MBps_ze uml_host_zstd_b_MBps) (${V[uml_seq_MBps_ze]:-n/a} against ${V[uml_host_zstd_b_MBps]:-n/a} MB/s) | $seq_e | | |
| ctr of 255 layers x 10 000 segments (s) | ${V[uml_ctr_255x10k_s]:-n/a} | ${V[ctr_255x10k_s]:-n/a} | < 1 natively | $(meets "${V[uml_ctr_255x10k_s]:-n/a}" "<" 1) |
| random 4K reads of (d), O_DIRECT, one reader (IOPS) | ${V[uml_rand4k_iops_zd]:-n/a} | $(div rand_iops_d 1) | | |
| the same with UML's table CRC32C (IOPS) | ${V[uml_rand4k_iops_zd_tablecrc]:-n/a} | | | |
| kernel memory per merged segment: what removing 255 x 10 000 segments frees, against the same 255 layers with 1 segment each (bytes), in the TCG guest | | $marg | <= 16 | $(meets "$marg" "<=" 16) |
| kernel memory per merged segment: the whole device, 255 layers' fixed costs included (bytes) | | $bps | | |
| kernel memory of 1, 10 and 255 zfile devices of a 1 MiB ZFile (KiB), made before any other device: each figure holds the shared pool once (made for the first zfile device, freed with the last), and each device adds its index, its reserve, its dm-io client's mempools (16 bios of 256 vectors, 64 KiB of them, as every dm-io user has) and dm's own structures | | ${V[zfile_devices_1_KiB]:-n/a}, ${V[zfile_devices_10_KiB]:-n/a}, ${V[zfile_devices_255_KiB]:-n/a} | independent of the count but for the per-device part | |
| the same, per device from 10 to 255 devices, and the pool (one device's figure less that) (KiB) | | $(awk -v o="${V[zfile_devices_1_KiB]:-}" -v a="${V[zfile_devices_10_KiB]:-}" -v b="${V[zfile_devices_255_KiB]:-}" 'BEGIN {if (o != "" && a != "" && b != "") printf "%.0f, %.0f", (b - a) / 245, o - (b - a) / 245; else print "n/a"}') | | |
| kernel memory per ZFile block: the whole device, its reserve and dm-io client included, not the shared pool (already made for (d)) (bytes) | | $bpb | (the jump table alone is 2.4) | |

### Userspace reads on the host (bench/userspace.sh)

\`ovbd cat\` of the whole image as one ZFile (4 KiB blocks, CRC32C on) to
/dev/null from the page cache, against the local limit: \`lz4 -b\` and
\`zstd -b\` decompressing the same image cut into the same 4 KiB blocks
(no CRC). Upstream's library could not be built here (no network to fetch it),
so the issue's upstream figures are not re-measured.

| figure | value | |
|---|---|---|
| ovbd cat lz4 / lz4 -b decompression | $(r us_cat_lz4_MBps us_lz4_b_MBps) | ${V[us_cat_lz4_MBps]:-n/a} against ${V[us_lz4_b_MBps]:-n/a} MB/s |
| ovbd cat zstd / zstd -b decompression | $(r us_cat_zstd_MBps us_zstd_b_MBps) | ${V[us_cat_zstd_MBps]:-n/a} against ${V[us_zstd_b_MBps]:-n/a} MB/s |
| ovbd cat lz4, hardware CRC32C / table CRC32C | $(r us_cat_lz4_MBps us_cat_lz4_tablecrc_MBps) | |
| CRC32C, dispatched (GB/s) | ${V[crc32c_GBps]:-n/a} | table: ${V[crc32c_table_GBps]:-n/a} GB/s |
| ovbd open of 255 layers, in-process (libdevmapper, loop ioctls) / dmsetup and losetup subprocesses (target <= 1) | $(r open255_inproc_s open255_subproc_s) | ${V[open255_inproc_s]:-n/a} against ${V[open255_subproc_s]:-n/a} s; close ${V[close255_inproc_s]:-n/a} against ${V[close255_subproc_s]:-n/a} s |
| open --lazy, to the first read of one file / ovbd pull + open, to the same read; registry on the guest's loopback (target <= 0.2) | $(r lazy_first_read_s pull_open_first_read_s) | ${V[lazy_first_read_s]:-n/a} against ${V[pull_open_first_read_s]:-n/a} s; before that read: $(div lazy_nbd_bytes 1024) KiB read through nbd, $(div lazy_registry_bytes 1024) KiB fetched from the registry (its Range answers) |
| verified / unverified sequential reads at native speed (UML, dm-verity sha256 over SHA-NI, ${V[uml_verity_dbs]:-n/a}-byte data blocks, under the lz4 4 KiB layer, 1 MiB O_DIRECT; target >= 0.9) | ${V[uml_verity_ratio_vseq]:-n/a} | $(meets "${V[uml_verity_ratio_vseq]:-n/a}" ">=" 0.9); ${V[uml_vseq_MBps_zv]:-n/a} against ${V[uml_vseq_MBps_zd]:-n/a} MB/s; 4 MiB reads: ${V[uml_verity_ratio_vseq4]:-n/a} |
| verified / unverified random 4 KiB reads at native speed (UML, 20 000 O_DIRECT; target >= 0.95) | ${V[uml_verity_ratio_vrand4k]:-n/a} | $(meets "${V[uml_verity_ratio_vrand4k]:-n/a}" ">=" 0.95); ${V[uml_vrand4k_iops_zv]:-n/a} against ${V[uml_vrand4k_iops_zd]:-n/a} IOPS |
| open --lazy of the verified image (each tree read from the registry as lazily as its blob) / unverified, to the same first read (target <= 1.1) | $(r lazy_verity_first_read_s lazy_first_read_s) | ${V[lazy_verity_first_read_s]:-n/a} against ${V[lazy_first_read_s]:-n/a} s; $(meets "$(r lazy_verity_first_read_s lazy_first_read_s)" "<=" 1.1) |
| the same over a 200 Mbit/s link with a 10 ms round trip (netem) (target <= 0.2) | $(r lazy_wan_first_read_s pull_wan_open_first_read_s) | ${V[lazy_wan_first_read_s]:-n/a} against ${V[pull_wan_open_first_read_s]:-n/a} s; $(div lazy_wan_nbd_bytes 1024) KiB through nbd, $(div lazy_wan_registry_bytes 1024) KiB from the registry |
| open --lazy / ovbd pull + open, to the same first read, of a 4 GiB image (one lz4 layer of ${V[lazy_big_blob_bytes]:+$(div lazy_big_blob_bytes 1048576) MiB}; closed before the handover); loopback (target <= 0.05) | $(r lazy_big_first_read_s pull_big_open_first_read_s) | ${V[lazy_big_first_read_s]:-n/a} against ${V[pull_big_open_first_read_s]:-n/a} s; $(meets "$(r lazy_big_first_read_s pull_big_open_first_read_s)" "<=" 0.05); before that read $(div lazy_big_nbd_bytes 1024) KiB through nbd, $(div lazy_big_registry_bytes 1024) KiB from the registry |
| the same over the 200 Mbit/s, 10 ms link (target <= 0.05) | $(r lazy_big_wan_first_read_s pull_big_wan_open_first_read_s) | ${V[lazy_big_wan_first_read_s]:-n/a} against ${V[pull_big_wan_open_first_read_s]:-n/a} s; $(meets "$(r lazy_big_wan_first_read_s pull_big_wan_open_first_read_s)" "<=" 0.05); $(div lazy_big_wan_nbd_bytes 1024) KiB through nbd, $(div lazy_big_wan_registry_bytes 1024) KiB from the registry |
| open --lazy of the 4 GiB image / of the 280 MiB one, to the same first read, loopback (flat: target <= 1.2) | $(r lazy_big_first_read_s lazy_first_read_s) | ${V[lazy_big_first_read_s]:-n/a} against ${V[lazy_first_read_s]:-n/a} s; $(meets "$(r lazy_big_first_read_s lazy_first_read_s)" "<=" 1.2); over the link $(r lazy_big_wan_first_read_s lazy_wan_first_read_s) |
| open --lazy / ovbd pull + open of the tree over 10 lz4 layers, to the same first read; loopback (target <= 0.2) | $(r lazy_ten_first_read_s pull_ten_open_first_read_s) | ${V[lazy_ten_first_read_s]:-n/a} against ${V[pull_ten_open_first_read_s]:-n/a} s; $(meets "$(r lazy_ten_first_read_s pull_ten_open_first_read_s)" "<=" 0.2); $(div lazy_ten_registry_bytes 1024) KiB from the registry; over the link $(r lazy_ten_wan_first_read_s pull_ten_wan_open_first_read_s) (${V[lazy_ten_wan_first_read_s]:-n/a} against ${V[pull_ten_wan_open_first_read_s]:-n/a} s) |
| where the 4 GiB image's first read goes, over the link (seconds) | n/a | manifest ${V[lazy_big_wan_phase_manifest_s]:-n/a}, nbdkit ${V[lazy_big_wan_phase_nbdkit_s]:-n/a}, nbd ${V[lazy_big_wan_phase_nbd_s]:-n/a}, devices ${V[lazy_big_wan_phase_devices_s]:-n/a}, supervisor ${V[lazy_big_wan_phase_supervisor_s]:-n/a}, open in all ${V[lazy_big_wan_phase_total_s]:-n/a}; mount ${V[lazy_big_wan_phase_mount_s]:-n/a}; read ${V[lazy_big_wan_phase_read_s]:-n/a} |
| where the 10-layer image's first read goes, over the link (seconds) | n/a | manifest ${V[lazy_ten_wan_phase_manifest_s]:-n/a}, nbdkit ${V[lazy_ten_wan_phase_nbdkit_s]:-n/a}, nbd ${V[lazy_ten_wan_phase_nbd_s]:-n/a}, devices ${V[lazy_ten_wan_phase_devices_s]:-n/a}, supervisor ${V[lazy_ten_wan_phase_supervisor_s]:-n/a}, open in all ${V[lazy_ten_wan_phase_total_s]:-n/a}; mount ${V[lazy_ten_wan_phase_mount_s]:-n/a}; read ${V[lazy_ten_wan_phase_read_s]:-n/a} |
| where open --lazy's time to that first read goes, loopback (seconds: open's phases from --timings, then the mount and the read) | n/a | manifest ${V[lazy_phase_manifest_s]:-n/a}, nbdkit ${V[lazy_phase_nbdkit_s]:-n/a}, nbd ${V[lazy_phase_nbd_s]:-n/a}, devices (the ctrs' reads) ${V[lazy_phase_devices_s]:-n/a}, supervisor ${V[lazy_phase_supervisor_s]:-n/a}, open in all ${V[lazy_phase_total_s]:-n/a}; mount ${V[lazy_phase_mount_s]:-n/a}; read ${V[lazy_phase_read_s]:-n/a} |
| the same over the 200 Mbit/s, 10 ms link | n/a | manifest ${V[lazy_wan_phase_manifest_s]:-n/a}, nbdkit ${V[lazy_wan_phase_nbdkit_s]:-n/a}, nbd ${V[lazy_wan_phase_nbd_s]:-n/a}, devices ${V[lazy_wan_phase_devices_s]:-n/a}, supervisor ${V[lazy_wan_phase_supervisor_s]:-n/a}, open in all ${V[lazy_wan_phase_total_s]:-n/a}; mount ${V[lazy_wan_phase_mount_s]:-n/a}; read ${V[lazy_wan_phase_read_s]:-n/a} |
| reading the whole tree after the handover / from a stack opened from local files (target >= 0.95) | $(r after_handover_MBps local_open_MBps) | ${V[after_handover_MBps]:-n/a} against ${V[local_open_MBps]:-n/a} MB/s |
| ovbd convert / tar -x to tmpfs, source tar bytes per second (bench/convert.sh; target >= 0.5) | $(r convert_ovbd_MBps convert_tar_MBps) | ${V[convert_ovbd_MBps]:-n/a} against ${V[convert_tar_MBps]:-n/a} MB/s, $(div convert_src_bytes 1000000) MB in 3 gzip layers |
| ovbd convert --zfile / tar -x to tmpfs | $(r convert_ovbd_zfile_MBps convert_tar_MBps) | ${V[convert_ovbd_zfile_MBps]:-n/a} MB/s; stored $(div convert_zfile_stored_bytes 1000000) MB |
| ovbd pull / curl of the same blobs from a local docker-registry (bench/registry.sh; target >= 0.8) | $(r pull_ovbd_MBps pull_curl_MBps) | ${V[pull_ovbd_MBps]:-n/a} against ${V[pull_curl_MBps]:-n/a} MB/s, $(div pull_bytes 1000000) MB |
| pull of the image verified (each dm-verity tree made as its blob streams in) / pull unverified: time (target <= 1.1) | $(r pull_ovbd_MBps pull_verity_MBps) | ${V[pull_verity_MBps]:-n/a} against ${V[pull_ovbd_MBps]:-n/a} MB/s; $(meets "$(r pull_ovbd_MBps pull_verity_MBps)" "<=" 1.1) |

## Raw numbers

| key | median | rounds |
|---|---|---|
$(for k in $(printf '%s\n' "${!V[@]}" | sort); do echo "| $k | ${V[$k]} | ${ALL[$k]} |"; done)

## Profiles: perf in the guest

\`perf record -e cpu-clock -a -g\` on both vCPUs, during untimed repeats of
the workloads (bench/guest.sh, profile()). A share is of all samples on
both vCPUs: 50% is one vCPU busy throughout, and native_safe_halt is an idle
vCPU. "own" counts a symbol's own samples, "task" a task's, "inclusive" a
function's together with everything it calls. uml_zfile_lz4_seq is the
exception: the host's perf samples the UML kernel's process (its kernel
threads, the zfile workers among them, run in it) while the UML guest
repeats the lz4 sequential read (bench/uml.sh); its host-kernel symbols
(finish_task_switch, ptrace) are UML's own cost of switching to the reader.

$(profiles)

$(cat "$(dirname "$0")/analysis.md")
MD
