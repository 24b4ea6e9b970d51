#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# debug-kernel.sh: build (once) the debug test kernel and print its build
# directory. Source: Debian's linux-source-6.1; config: x86_64_defconfig +
# kvm_guest.config + tests/debug-kernel.config (KASAN, lockdep, kmemleak,
# UBSAN, fault injection). Cached in $VCN_CACHE/debug-kernel/<key>, where the
# key hashes the source package version, the fragment and this script, so a
# change of any of them builds anew and an unchanged one costs nothing.
# The module is then built with `make KDIR=<that dir>`; the guest boots
# <dir>/arch/x86/boot/bzImage (KASAN's instrumentation breaks 6.1's PVH entry).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { echo "debug-kernel: apt-get install linux-source-6.1" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { echo "$srcver"; cat tests/debug-kernel.config scripts/debug-kernel.sh; } | sha256sum | cut -c1-12)
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/debug-kernel
src=$cache/src-$srcver
out=$cache/$key
mkdir -p "$cache"
# one build at a time: a second caller (CI builds the kernel in the
# background; make check asks for it) waits, then finds it built
exec 9>"$cache/.lock"
flock 9
if [ -e "$out/.complete" ]; then echo "$out"; exit 0; fi
if [ ! -e "$src/.complete" ]; then
	rm -rf "$src"; mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.complete"
fi
rm -rf "$out"; mkdir -p "$out"
log=$out/build.log
# each step checked: set -e does not reach into a list that ends in ||
build() {
	make -C "$src" O="$out" x86_64_defconfig &&
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$src/kernel/configs/kvm_guest.config" "$top/tests/debug-kernel.config" &&
	make -C "$src" O="$out" olddefconfig &&
	"$top/scripts/kconfig-check.sh" "$out/.config" "$top/tests/debug-kernel.config" &&
	make -C "$src" O="$out" -j"$(nproc)" bzImage modules &&
	make -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" modules_install
}
build >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "debug-kernel: build failed, log $log" >&2; exit 1; }
touch "$out/.complete"
echo "$out"
