#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# install-deps.sh: install the Debian 12 packages that the build, the tests
# (the debug kernel build needs bc/flex/bison/libelf/libssl, the
# distro-configured one rsync for its headers_install; the kernel
# matrix needs debootstrap for 7.3's trixie chroot and dwarves' pahole for
# 6.12+ headers, whose kbuild makes BTF; the deploy suite packs the
# machine's udevadm, kmod and setpriv into the guest; make deb needs
# debhelper and dh-dkms) and the demo need (as root, non-interactive,
# idempotent: nothing is fetched when everything is present). Not root:
# only report what is missing.
set -eu
pkgs="build-essential linux-headers-amd64 linux-image-amd64 linux-source-6.1 \
qemu-system-x86 busybox-static cpio kmod xz-utils lz4 gzip zstd sparse dkms libc6-dev \
dwarves debootstrap bc flex bison libelf-dev libssl-dev udev util-linux \
debhelper dh-dkms openssl rsync"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
