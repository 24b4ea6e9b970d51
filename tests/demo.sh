#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# demo.sh - `make demo`: installs what is missing, builds the module for the
# stock Debian kernel, boots that kernel in QEMU with a QEMU edu device,
# binds it to vfio-cdev-noiommu and drives it from a userspace program.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
KREL=${KREL:-$(ls -d /usr/src/linux-headers-*-amd64 | sed 's|.*/linux-headers-||' | sort -V | tail -n1)}
B=${VCN_BUILD:-/var/tmp/vcn-build}/demo-$KREL
mkdir -p "$B"
echo "== building vfio_cdev_noiommu.ko for $KREL"
make -s KVER="$KREL" modules >"$B/build.log" 2>&1 || { cat "$B/build.log"; exit 1; }
gcc -static -O2 -Wall -Iinclude -o "$B/vcn_tool" tests/vcn_tool.c
cp tests/guest/demo.sh "$B/suite.sh"
vmlinux=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/vmlinux-$KREL
mkdir -p "$(dirname "$vmlinux")"
[ "$vmlinux" -nt "/boot/vmlinuz-$KREL" ] || tests/rig/extract-vmlinux.sh "/boot/vmlinuz-$KREL" "$vmlinux"
tests/rig/mkinitramfs.sh "$B/initrd.gz" "$KREL" vfio_cdev_noiommu.ko "$B/vcn_tool" \
	tests/guest/lib.sh "$B/suite.sh"
echo "== booting $KREL under QEMU (TCG)"
KERNEL=$vmlinux APPEND="quiet" tests/rig/run-guest.sh "$B/initrd.gz" "$B/guest.log" || true
sed -n '/^rig: running/,/^VCN-GUEST-DONE/p' "$B/guest.log" | grep -v '^VCN-GUEST-DONE'
grep -q '^VCN-GUEST-DONE rc=0' "$B/guest.log" && grep -q '^GET_INFO: flags' "$B/guest.log" || {
	echo "demo: the guest did not complete; full log in $B/guest.log" >&2; exit 1; }
echo "== demo done (log: $B/guest.log)"
