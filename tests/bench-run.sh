#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench-run.sh - `make bench`: build the module and tests/bench.c for the
# stock Debian kernel, boot it under QEMU with 2 GiB, run the benchmark in
# the guest and print its figures (ratios against references measured in
# the same run: absolute times under TCG mean nothing). Not a test: it exits
# non-zero only when a figure could not be measured.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
eval "$(tests/rig/stock-kernel.sh)"
B=${VCN_BUILD:-/var/tmp/vcn-build}/bench-$KREL
mkdir -p "$B"
make -s KVER="$KREL" modules >"$B/build.log" 2>&1 || { cat "$B/build.log"; exit 1; }
gcc -static -O2 -Wall -Iinclude -o "$B/bench" tests/bench.c
tests/rig/mkinitramfs.sh "$B/initrd.gz" "$KREL" vfio_cdev_noiommu.ko "$B/bench" \
	tests/guest/lib.sh tests/guest/bench.sh
echo "== benchmark on $KREL under QEMU (TCG), 2 GiB"
KERNEL=$VMLINUX MEM=2G APPEND="SUITE=bench quiet" tests/rig/run-guest.sh "$B/initrd.gz" "$B/guest.log" || true
grep -E '^(bench|#)' "$B/guest.log"
grep -q '^VCN-GUEST-DONE rc=0' "$B/guest.log" || { echo "bench: the guest run failed; log $B/guest.log" >&2; exit 1; }
