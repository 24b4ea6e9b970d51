# SPDX-License-Identifier: GPL-2.0
# peer.sh - /rig/peer_bench (SUITE=peer) on the module, or on upstream's own
# cdev no-IOMMU when the guest has no module of ours (the upstream
# reference kernel of `make bench`): four devices bound (the first edu
# first: the interrupt figures are its), hugepages for the hugetlb figures.
# Its "peer: ..." lines are the figures; its exit status is this script's.
. /rig/lib.sh
BDFS="$(find_bdf 1234 11e8 1 root) $(find_bdf 1234 11e8 1 port) $(find_bdf 1234 11e8 2 root) $(find_bdf 1b36 0005 1 root)"
if [ -e "$KO" ]; then
	insmod "$KO" enable_unsafe_noiommu_mode=1 || exit 1
	drv=$DRV
	echo "# peer: vfio-cdev-noiommu on $(uname -r)"
else
	load_kmods vfio-pci || { echo "peer: the kernel's vfio-pci did not load"; exit 1; }
	echo Y >/sys/module/vfio/parameters/enable_unsafe_noiommu_mode || exit 1
	drv=vfio-pci
	echo "# peer: upstream vfio-pci, cdev no-IOMMU, on $(uname -r)"
fi
for b in $BDFS; do
	override "$b" "$drv"; probe "$b"
	[ "$(driver_of "$b")" = "$drv" ] || { echo "peer: $b did not bind to $drv"; exit 1; }
done
echo 40 >/proc/sys/vm/nr_hugepages	# 64 MiB of hugetlb, and a margin
VCN_BENCH_BDFS=$BDFS /rig/peer_bench
rc=$?
echo 0 >/proc/sys/vm/nr_hugepages
for b in $BDFS; do unbind "$b"; override "$b" ""; done
[ "$drv" = "$DRV" ] && { rmmod vfio_cdev_noiommu || rc=1; }
if dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'; then
	echo "peer: kernel log has a splat"
	rc=1
fi
exit $rc
