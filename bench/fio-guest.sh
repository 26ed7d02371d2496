# Sourced inside the bench's guests by bench/guest.sh and bench/ab-guest.sh
# (copied to /data beside them): the two fio workloads every device is read
# with. MB/s is 10^6 bytes a second, the unit of lz4 -b and zstd -b.
FIO="/data/fio/ld-linux-x86-64.so.2 --library-path /data/fio /data/fio/fio"
RUNTIME=${RUNTIME:-5}
# 1 MiB sequential, 4 in flight; random 4 KiB, 32 in flight in each of 2 jobs
SEQ="$FIO --name=seq --rw=read --bs=1M --direct=1 --ioengine=libaio --iodepth=4 --time_based"
RAND="$FIO --name=rand --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=32 \
	--numjobs=2 --group_reporting --time_based"
seq_mbps() {	# DEV [FIO_OPTION...]: MB/s of a $SEQ run on DEV
	local dev=$1 bw; shift
	bw=$($SEQ --filename="$dev" --runtime="$RUNTIME" --output-format=json "$@" 2>/dev/null |
		grep -o '"bw_bytes" : [0-9]*' | head -1 | grep -o '[0-9]*$')
	awk -v b="$bw" 'BEGIN {printf "%.1f", b / 1e6}'
}
rand_iops() {	# DEV [FIO_OPTION...]: IOPS of a $RAND run on DEV
	local dev=$1; shift
	$RAND --filename="$dev" --runtime="$RUNTIME" --output-format=json "$@" 2>/dev/null |
		grep -o '"iops" : [0-9.]*' | head -1 | grep -o '[0-9.]*$'
}
