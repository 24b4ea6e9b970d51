#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dkms.sh install|uninstall [KREL]
#   install: copy this source tree to /usr/src/vfio_cdev_noiommu-<version> and
#   run dkms add, build and install for KREL (default: the running kernel);
#   idempotent (an earlier registration of the same version is replaced).
#   uninstall: dkms remove for every kernel and delete the copied source.
#   Prints the installed module's path on success.
set -eu
cd "$(dirname "$0")/.."
name=vfio_cdev_noiommu
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
krel=${2:-$(uname -r)}
src=/usr/src/$name-$ver
[ "$(id -u)" = 0 ] || { echo "dkms.sh: run as root" >&2; exit 1; }
command -v dkms >/dev/null || { echo "dkms.sh: dkms is not installed (apt-get install dkms)" >&2; exit 1; }

remove() {
	if dkms status -m "$name" -v "$ver" 2>/dev/null | grep -q .; then
		dkms remove -m "$name" -v "$ver" --all >/dev/null
	fi
	rm -rf "$src"
	# a module file dkms no longer tracks would make it refuse to install
	# ("same version already installed") while reporting success
	rm -f /lib/modules/*/updates/dkms/"$name".ko*
}

case ${1:-} in
install)
	remove
	mkdir -p "$src"
	tar -cf - --exclude=.git --exclude=.conftest --exclude='*.o' --exclude='*.ko' \
		--exclude='.*.cmd' --exclude='*.mod*' --exclude=Module.symvers \
		--exclude=modules.order --exclude=.lint.log \
		src include scripts Kbuild Makefile dkms.conf LICENSE | tar -xf - -C "$src"
	dkms add -m "$name" -v "$ver" >/dev/null
	if ! dkms build -m "$name" -v "$ver" -k "$krel" >/dev/null; then
		cat "/var/lib/dkms/$name/$ver/build/make.log" >&2 2>/dev/null || true
		exit 1
	fi
	dkms install -m "$name" -v "$ver" -k "$krel" >/dev/null
	ko=$(find "/lib/modules/$krel/updates/dkms" -name "$name.ko*" | head -n1)
	[ -n "$ko" ] || { echo "dkms.sh: dkms reported success but installed no module" >&2; exit 1; }
	cmp -s "$ko" "$(ls /var/lib/dkms/$name/$ver/$krel/*/module/$name.ko* | head -n1)" ||
		{ echo "dkms.sh: the installed $ko is not the module dkms just built" >&2; exit 1; }
	echo "$ko"
	;;
uninstall)
	remove
	;;
*)
	echo "usage: dkms.sh install|uninstall [KREL]" >&2
	exit 2
	;;
esac
