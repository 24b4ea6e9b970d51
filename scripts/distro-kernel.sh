#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# distro-kernel.sh: build (once) a kernel configured like Ubuntu's, Fedora's
# and RHEL's (its own iommufd as a module, vfio with the cdev interface, the
# group container and group no-IOMMU mode) and print its build directory.
# Source and config: Debian 12's security-updated linux-source-6.12 and
# linux-config-6.12 (fetched through scripts/deb-suite.sh, nothing
# installed), the config trimmed to the modules the rig loads (localmodconfig)
# and tests/distro-kernel.config merged over it. Cached in
# $VCN_CACHE/distro-kernel/<key>, the key hashing the source version, the
# config, the fragment and this script. The module is built with
# `make KDIR=<dir>`; the guest boots <dir>/arch/x86/boot/bzImage with the
# modules of <dir>/modroot.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/distro-kernel
suite=bookworm-security
debs=$cache/debs
# the newest source and config the suite offers (fetched once per version)
scripts/deb-suite.sh "$suite" update >&2
mkdir -p "$debs"
(cd "$debs" && rm -f ./*.deb && "$top/scripts/deb-suite.sh" "$suite" download "$debs" linux-source-6.12 linux-config-6.12) >&2
srcdeb=$(ls "$debs"/linux-source-6.12_*.deb | sort -V | tail -n1)
cfgdeb=$(ls "$debs"/linux-config-6.12_*.deb | sort -V | tail -n1)
srcver=$(dpkg-deb -f "$srcdeb" Version)
key=$( { echo "$srcver"; dpkg-deb -f "$cfgdeb" Version; cat tests/distro-kernel.config scripts/distro-kernel.sh; } | sha256sum | cut -c1-12)
src=$cache/src-$srcver
out=$cache/$key
if [ -e "$out/.complete" ]; then echo "$out"; exit 0; fi
if [ ! -e "$src/.complete" ]; then
	rm -rf "$src" "$cache/unpack"; mkdir -p "$src"
	dpkg-deb -x "$srcdeb" "$cache/unpack"
	tar -xJf "$cache/unpack"/usr/src/linux-source-6.12.tar.xz -C "$src" --strip-components=1
	dpkg-deb -x "$cfgdeb" "$cache/unpack"
	xz -dc "$cache/unpack"/usr/src/linux-config-6.12/config.amd64_none_amd64.xz >"$src/debian-config"
	rm -rf "$cache/unpack"
	touch "$src/.complete"
fi
rm -rf "$out"; mkdir -p "$out"
log=$out/build.log
# the modules the rig loads, as lsmod would list them, for localmodconfig
lsmod=$out/lsmod
{
	echo "Module Size Used by"
	for m in vfio_pci vfio_pci_core vfio vfio_iommu_type1 iommufd irqbypass \
		nvme nvme_core nvme_auth aer_inject pci_pf_stub; do
		echo "$m 16384 0"
	done
} >"$lsmod"
{
	cp "$src/debian-config" "$out/.config"
	make -C "$src" O="$out" olddefconfig
	make -C "$src" O="$out" LSMOD="$lsmod" localmodconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$top/tests/distro-kernel.config"
	make -C "$src" O="$out" olddefconfig
	scripts/kconfig-check.sh "$out/.config" tests/distro-kernel.config
	make -C "$src" O="$out" -j"$(nproc)" bzImage modules
	make -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install
	make -C "$src" O="$out" INSTALL_HDR_PATH="$out/uapi" headers_install
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "distro-kernel: build failed, log $log" >&2; exit 1; }
touch "$out/.complete"
echo "$out"
