#!/bin/bash
# bench/results/share.md from bench/share.sh's "BENCH key value" lines:
# medians of the rounds and their ratios, with the issue's targets.
# Usage: share-report.sh ALL_LOG MIB
LOG=$1 MIB=$2
. "$(dirname "$0")/report-lib.sh"
cat <<MD
# Sharing a base: one set of parts per layer blob, and zfile's decoded-block cache

$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD), \`bench/share.sh\`
(part of \`make bench\`). One Debian 6.1 guest (QEMU TCG, 2 vCPUs). The base:
a tree of $MIB MiB of /usr/share and /usr/lib files in ext4, one ZFile lz4
4 KiB layer ($(( ${V[share_base_bytes]:-0} >> 20 )) MiB); 10 images, each the base and a
small top layer of its own (one file). Each image is mounted and the same
$(( ${V[share_read_bytes]:-0} >> 20 )) MiB of the base's files are read from it, image after
image. Rounds interleaved, medians; every cache dropped before each
figure. Errors in the run: $errors.

| figure | 10 images (or cache on) | 1 image (or cache off) | ratio | target | |
|---|---|---|---|---|---|
$(row "bytes read from the base blob (its loop devices), 10 images / 1" share_10_base_bytes share_1_base_bytes "<=" 1.1)
$(row "base blocks decoded (its zfile devices' status), 10 images / 1" share_10_base_decoded share_1_base_decoded "<=" 1.1)
$(row "kernel memory, unreclaimable (slab and vmalloc, KiB: the devices, their indexes, the pool), 10 stacks / 1" share_10_kernel_KiB share_1_kernel_KiB)
$(row "kernel memory, reclaimable (KiB: the decoded-block cache, the file systems' inodes and dentries), 10 stacks / 1" share_10_reclaimable_KiB share_1_reclaimable_KiB)
$(row "page cache after the reads (KiB), 10 images / 1: each mount keeps its own pages" share_10_pagecache_KiB share_1_pagecache_KiB)
$(row "time to read the files from every image (s), 10 images / 1" share_10_read_s share_1_read_s)
$(row "one image, sequential 1 MiB O_DIRECT (MB/s), cache at its default / off" share_seq_MBps_cache_on share_seq_MBps_cache_off ">=" 0.95)
$(row "one image, random 4K O_DIRECT (IOPS), cache at its default / off" share_rand_iops_cache_on share_rand_iops_cache_off ">=" 0.95)
$(row "one image, full-tree read (s), cache off / at its default (a time: the inverse)" share_tree_s_cache_off share_tree_s_cache_on ">=" 0.95)

The base's loop devices while 10 images were open: ${V[share_10_base_loops]:-n/a} (one set of parts).
MD
errors_list
