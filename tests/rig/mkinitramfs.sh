#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mkinitramfs.sh OUT KREL FILE...
#   A busybox initramfs whose /init is tests/rig/init. Each FILE lands in /rig/.
#   KMODS="vfio-pci ..." packs those Debian modules of KREL and their
#   dependencies into /rig/kmod/ (not loaded: the suite loads them), with
#   /rig/kmod/<name>.order listing each one's insmod order. MODROOT: where
#   KREL's modules are installed, if not under /lib/modules. BINS="/usr/bin/x
#   ...": the machine's dynamically linked programs, each at its own path
#   with the shared libraries it needs (udevadm, kmod for the deploy suite).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1"); krel=$2; shift 2
root=$(mktemp -d "${TMPDIR:-/tmp}/vcn-initrd.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"	# mktemp made it 0700: it becomes the guest's /
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/rig/kmod" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
cp "$here/init" "$root/init"
for f in "$@"; do cp "$f" "$root/rig/"; done
for m in ${KMODS:-}; do
	modprobe ${MODROOT:+-d "$MODROOT"} -S "$krel" --show-depends "$m" | awk '$1=="insmod"{print $2}' | while read -r p; do
		cp "$p" "$root/rig/kmod/"
		grep -qxF "$(basename "$p")" "$root/rig/kmod/$m.order" 2>/dev/null || basename "$p" >>"$root/rig/kmod/$m.order"
	done
done
for b in ${BINS:-}; do
	for f in "$b" $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
done
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
