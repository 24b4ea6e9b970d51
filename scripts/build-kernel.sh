#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build-kernel.sh KIND: build (once) a kernel from a Debian source package
# and Debian's own amd64 config, trimmed to the modules the rig loads
# (scripts/trim-kernel.sh) with a fragment merged over it, and print its
# build directory. Nothing is installed: the source and config packages
# come through scripts/deb-suite.sh. KIND:
#   distro    Debian 12's linux-source-6.12 (bookworm-security) configured
#             as Ubuntu's, Fedora's and RHEL's kernels are: its own iommufd
#             and vfio cdev (tests/distro-kernel.config); for the matrix
#   upstream  Debian's linux-source-7.3 (trixie-backports) with upstream's
#             own cdev no-IOMMU (tests/upstream-kernel.config), compiled in
#             the trixie chroot with gcc-14 as Debian's 7.3 is; the
#             reference of `make bench`, never of the tests
# Cached in $VCN_CACHE/KIND-kernel/<key>, the key hashing the kind, the
# source and config versions, the fragment and the build scripts. The
# guest boots <dir>/arch/x86/boot/bzImage with <dir>/modroot; <dir>/uapi
# has the kernel's uapi headers.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
kind=${1:?KIND: distro or upstream}
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}
wrapper=
case $kind in
distro)
	suite=bookworm-security ver=6.12
	mods="vfio_pci vfio_pci_core vfio vfio_iommu_type1 iommufd irqbypass nvme nvme_core nvme_auth aer_inject pci_pf_stub" ;;
upstream)
	suite=trixie-backports ver=7.3
	mods="vfio_pci vfio_pci_core vfio iommufd irqbypass"
	# the trixie chroot the matrix builds 7.3 in, with a kernel build's tools
	scripts/fetch-kernel.sh 7.3 >/dev/null
	chroot_dir=$cache/chroot-trixie
	tools="gcc bc bison flex libelf-dev libssl-dev openssl perl cpio rsync zstd xz-utils"
	if [ "$(cat "$chroot_dir/.vcn-kbuild-tools" 2>/dev/null)" != "$tools" ]; then
		chroot "$chroot_dir" sh -c "apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tools" >&2
		echo "$tools" >"$chroot_dir/.vcn-kbuild-tools"
	fi
	wrapper=$chroot_dir/.vcn-run ;;
*) echo "build-kernel: unknown KIND '$kind' (distro, upstream)" >&2; exit 2 ;;
esac
frag=$top/tests/$kind-kernel.config
cache=$cache/$kind-kernel
mkdir -p "$cache"
# one build at a time: a second caller (CI builds the kernel in the
# background; the matrix asks for it) waits, then finds it built
exec 9>"$cache/.lock"
flock 9
# the key needs only the versions: the packages (~150 MB) are downloaded
# when the source is not unpacked yet
srcver=$("$top/scripts/deb-suite.sh" "$suite" version "linux-source-$ver")
cfgver=$("$top/scripts/deb-suite.sh" "$suite" version "linux-config-$ver")
key=$( { echo "$kind $mods"; echo "$srcver"; echo "$cfgver"; cat "$frag" scripts/build-kernel.sh scripts/trim-kernel.sh; } | sha256sum | cut -c1-12)
src=$cache/src-$srcver
out=$cache/$key
if [ -e "$out/.complete" ]; then echo "$out"; exit 0; fi
# .complete names the config version the source was unpacked with
if [ "$(cat "$src/.complete" 2>/dev/null)" != "$cfgver" ]; then
	debs=$cache/debs
	rm -rf "$src" "$debs" "$cache/unpack"; mkdir -p "$src" "$debs"
	"$top/scripts/deb-suite.sh" "$suite" download "$debs" "linux-source-$ver=$srcver" "linux-config-$ver=$cfgver" >&2
	dpkg-deb -x "$debs/linux-source-${ver}_"*.deb "$cache/unpack"
	tar -xJf "$cache/unpack/usr/src/linux-source-$ver.tar.xz" -C "$src" --strip-components=1
	dpkg-deb -x "$debs/linux-config-${ver}_"*.deb "$cache/unpack"
	xz -dc "$cache/unpack/usr/src/linux-config-$ver/config.amd64_none_amd64.xz" >"$src/debian-config"
	rm -rf "$cache/unpack" "$debs"
	echo "$cfgver" >"$src/.complete"
fi
rm -rf "$out"
# a chroot's make sees $cache at the same path (.vcn-run bind-mounts the
# current directory)
cd "$cache"
BUILD_WRAPPER=$wrapper "$top/scripts/trim-kernel.sh" "$src" "$out" "$src/debian-config" "$frag" "$mods" ||
	{ tail -n 40 "$out/build.log" >&2; echo "build-kernel: $kind: build failed, log $out/build.log" >&2; exit 1; }
touch "$out/.complete"
echo "$out"
