# The stages of a 4 KiB read's path (bench/analysis.md), from a profile's
# "PCT SYMBOL" lines (a percentage of all samples, "%" optional): prints
# "STAGE PCT NAME" for every stage, and "OWN PCT NAME": each stage's share
# of the work, once idle time and UML's own mechanism are taken out.
# Used on the host by bench/uml-rand.sh (perf over UML) and
# bench/peers-report.sh (perf inside the TCG guest).
function stage(s) {
	if (s ~ /^\[host\]|^\[unknown\]$|^ptrace|^__GI_|wait4|^userspace$|^os_|^sig_handler|signals$|^wait_stub|^switch_threads|^run_syscall_stub/)
		return "mechanism: UML's ptrace hand-overs of system calls and interrupts (host kernel)"
	if (s ~ /safe_halt|default_idle|do_idle|cpuidle|acpi_idle|mwait|poll_idle/) return "idle: no work"
	if (s ~ /^clear_page/) return "pages cleared (init_on_alloc; anywhere in the guest)"
	if (s ~ /crc32c|crc32_|crc_pcl/) return "CRC32C"
	if (s ~ /LZ4|lz4/) return "lz4 decode"
	if (s ~ /zcache|kmalloc|kfree|slab|slub|kmem_cache|alloc_pages|free_unref|free_pages|get_page_from_freelist|mempool|rmqueue|__free_one/)
		return "memory: cache copies, buffers, bios"
	if (s ~ /^(zfile_|ovbd_zfile|ovbd_io)/) return "zfile: map, queue, worker, extent lookup"
	if (s ~ /^(lsmt_|ovbd_lsmt|ovbd_index)/) return "lsmt: map"
	if (s ~ /^(lo_|loop_)|shmem|filemap|copy_page_to_iter|copy_user|_copy_to|memcpy|memmove|find_get|folio|xas_|pagecache|generic_file|__copy/)
		return "loop device: the tmpfs read (page cache, copy)"
	if (s ~ /schedule|switch_to|__switch|finish_task|try_to_wake|wake_up|ttwu|enqueue|dequeue|pick_next|update_curr|sched_|idle|cpu_|do_idle|__wake|complete|wait_for|kthread|worker_thread|process_one_work|queue_work|insert_work|switch_mm|arch_switch|do_syscall|handle_syscall|segv|timer|tick|irq|softirq|entry_SYSCALL|syscall_exit|exit_to_user|native_safe_halt|default_idle|pv_native|lock_acquire|_raw_spin/)
		return "scheduling, wake-ups, locks, system call entry and exit"
	if (s ~ /^(dm_|__dm|__split|__map_bio|alloc_tio|clone_endio|dec_pending|__send|bio_|__bio|submit_bio|blk_|__blk|bvec|iov_iter|dio|__iomap|iomap|blkdev_|__blkdev|aio_|io_submit|__x64_sys_io)/)
		return "block layer, direct I/O, aio, dm core"
	return "other (fio, the rest of the kernel)"
}
{
	p = $1; sub("%", "", p)
	if (p + 0 <= 0) next
	sym = $2; st = stage(sym); g[st] += p; t += p
	if (st !~ /^(mechanism|idle)/) own += p
}
END {
	for (k in g) printf "STAGE %.1f%% %s\n", g[k], k
	for (k in g) if (k !~ /^(mechanism|idle)/ && own > 0) printf "OWN %.1f%% %s\n", 100 * g[k] / own, k
}
