#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# stock-kernel.sh: print KREL= and VMLINUX= for the stock Debian kernel the
# tests use: KREL from the environment, else the newest installed -amd64
# kernel with headers (never `uname -r`: this machine's own kernel is not a
# Debian one); VMLINUX is its ELF vmlinux, unpacked once into the cache
# for a PVH boot. Use: eval "$(tests/rig/stock-kernel.sh)"
set -eu
here=$(cd "$(dirname "$0")" && pwd)
krel=${KREL:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V | tail -n1)}
[ -n "$krel" ] && [ -e "/boot/vmlinuz-$krel" ] || { echo "stock-kernel: no Debian kernel with headers installed" >&2; exit 1; }
vmlinux=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/vmlinux-$krel
mkdir -p "$(dirname "$vmlinux")"
[ "$vmlinux" -nt "/boot/vmlinuz-$krel" ] || "$here/extract-vmlinux.sh" "/boot/vmlinuz-$krel" "$vmlinux"
echo "KREL=$krel VMLINUX=$vmlinux"
