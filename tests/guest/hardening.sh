# SPDX-License-Identifier: GPL-2.0
# hardening.sh - the in-guest hardening suite: the multi-threaded fuzzer and
# the concurrency stress (unbind/rebind, killed owners, context churn) run
# against edu, then the module must still unload. One TAP line per check;
# fuzz and stress print their own. FUZZ_SECONDS / STRESS_SECONDS (kernel
# command line words reach the environment) shorten or lengthen them.
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8)
echo "# edu=$EDU"
export VCN_BDF=$EDU
STATS=/sys/kernel/debug/vfio_cdev_noiommu/stats
HUNG=0

# run_bounded NAME LIMIT CMD...: CMD's exit status, or 124 if it is still
# running after LIMIT seconds (a kernel hang must not hang the suite)
run_bounded() {
	name=$1 limit=$2
	shift 2
	"$@" &
	pid=$!
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt "$limit" ]; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "# $name still running after ${limit}s: blocked tasks follow in dmesg"
		echo w >/proc/sysrq-trigger
		HUNG=1
		return 124
	fi
	wait "$pid"
}
counters_zero() {
	for c in mapped_bytes pinned_pages areas table_bytes; do
		grep -qx "$c 0" "$STATS" || { cat "$STATS"; return 1; }
	done
}

check "insmod with enable_unsafe_noiommu_mode=1" insmod "$KO" enable_unsafe_noiommu_mode=1
override "$EDU" "$DRV"
probe "$EDU"
check "edu is bound to $DRV" is_bound "$EDU"

# soak NAME SECONDS: /rig/NAME runs its course (150 s of grace for TCG),
# then edu is still ours and the module's counters are back to zero
soak() {
	run_bounded "$1" $(($2 + 150)) "/rig/$1"
	rc=$?
	check "$1 ran to the end and passed its checks (exit $rc)" test "$rc" = 0
	check "edu is still bound after $1" is_bound "$EDU"
	check "module counters are zero after $1" counters_zero
}
soak fuzz "${FUZZ_SECONDS:-20}"
[ "$HUNG" = 0 ] && soak stress "${STRESS_SECONDS:-15}"

if [ "$HUNG" = 0 ]; then
	check "rmmod vfio_cdev_noiommu after fuzz and stress" rmmod vfio_cdev_noiommu
	check "module, nodes and driver are gone" sh -c "[ ! -e /sys/module/vfio_cdev_noiommu ] && [ ! -e $DRVDIR ] && [ ! -e $CTX ]"
	check "edu is left without a driver" sh -c "[ ! -e /sys/bus/pci/devices/$EDU/driver ]"
else
	fail "rmmod skipped: a test program is stuck in the kernel"
fi

# `make bench`'s comparison program, one short round, so that it cannot rot
# (its figures mean nothing here: 1 vCPU, 10 ms rounds)
if [ "$HUNG" = 0 ] && [ -x /rig/peer_bench ]; then
	VCN_BENCH_SHORT=1 sh /rig/peer.sh >/tmp/peer.out 2>&1
	rc=$?
	sed 's/^/#   /' /tmp/peer.out
	check "peer_bench: one short round on the module, every figure taken (exit $rc)" \
		sh -c "[ $rc = 0 ] && [ \$(grep -c '^peer: ' /tmp/peer.out) = 20 ]"
	check "peer.sh unbound the devices and removed the module" sh -c "[ ! -e /sys/module/vfio_cdev_noiommu ]"
fi

finish
