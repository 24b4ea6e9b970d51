#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# demo.sh - `make demo`: installs what is missing, builds the module for the
# stock Debian kernel, boots that kernel in QEMU with a QEMU edu device,
# binds it to vfio-cdev-noiommu and drives it from userspace: BAR reads,
# a DMA and an MSI on edu, then a small userspace NVMe driver that reads the
# controller's identify data by DMA into memory mapped through the module.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
eval "$(tests/rig/stock-kernel.sh)"
B=${VCN_BUILD:-/var/tmp/vcn-build}/demo-$KREL
mkdir -p "$B"
echo "== building vfio_cdev_noiommu.ko for $KREL"
make -s KVER="$KREL" modules >"$B/build.log" 2>&1 || { cat "$B/build.log"; exit 1; }
for t in vcn_tool edu_dma nvme_drv; do
	gcc -static -O2 -Wall -Iinclude -o "$B/$t" tests/$t.c
done
cp tests/guest/demo.sh "$B/suite.sh"
tests/rig/mkinitramfs.sh "$B/initrd.gz" "$KREL" vfio_cdev_noiommu.ko "$B/vcn_tool" "$B/edu_dma" "$B/nvme_drv" \
	tests/guest/lib.sh "$B/suite.sh"
echo "== booting $KREL under QEMU (TCG)"
NVME_SERIAL=vcn-demo-serial NVME_BLOCK0=VCN-NVME-BLOCK0-MARKER KERNEL=$VMLINUX APPEND="quiet NVME_SERIAL=vcn-demo-serial" tests/rig/run-guest.sh "$B/initrd.gz" "$B/guest.log" || true
sed -n '/^rig: running/,/^VCN-GUEST-DONE/p' "$B/guest.log" | grep -v '^VCN-GUEST-DONE'
grep -q '^VCN-GUEST-DONE rc=0' "$B/guest.log" && grep -q '^GET_INFO: flags' "$B/guest.log" &&
	grep -q "serial 'vcn-demo-serial'" "$B/guest.log" && ! grep -q 'with mismatches' "$B/guest.log" || {
	echo "demo: the guest did not complete; full log in $B/guest.log" >&2; exit 1; }
echo "== demo done (log: $B/guest.log)"
