# SPDX-License-Identifier: GPL-2.0
# bench.sh - the benchmark inside the guest (/rig/bench.sh, SUITE=bench):
# load the module, bind the edu device, run /rig/bench, unload. The figures
# are bench's "bench: ..." lines; its exit status is this script's.
. /rig/lib.sh
EDU=$(find_bdf 1234 11e8) || { echo "bench: no edu device"; exit 1; }
insmod "$KO" enable_unsafe_noiommu_mode=1 || exit 1
override "$EDU" "$DRV"
probe "$EDU"
is_bound "$EDU" || { echo "bench: $EDU did not bind to $DRV"; rmmod vfio_cdev_noiommu; exit 1; }
VCN_BDF=$EDU /rig/bench
rc=$?
echo "$EDU" >"$DRVDIR/unbind"
rmmod vfio_cdev_noiommu || rc=1
if dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'; then
	echo "bench: kernel log has a splat"
	rc=1
fi
exit $rc
