#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mkdeb.sh [OUTDIR] - `make deb`: the Debian package of the DKMS source,
# vfio-cdev-noiommu-dkms_<version>_all.deb, built with dh-dkms from a scratch
# copy of the tree (the packaging lives in scripts/debian/; the version is
# dkms.conf's). Prints the .deb's path. OUTDIR defaults to ./dist.
# Needs debhelper and dh-dkms (installed when missing, as root).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=$(realpath -m "${1:-dist}")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
if [ "$(dpkg-query -W -f='${db:Status-Status}\n' debhelper dh-dkms 2>/dev/null | grep -cx installed)" != 2 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debhelper dh-dkms >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/vcn-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/vfio-cdev-noiommu-$ver
mkdir -p "$src"
tar -cf - --exclude=.conftest --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' --exclude='*.mod*' \
	src include scripts Kbuild Makefile dkms.conf LICENSE README.md | tar -xf - -C "$src"
cp -a scripts/debian "$src/debian"
# one changelog entry: the version of dkms.conf, the date of the last commit
when=$(git -C "$top" log -1 --format=%cD 2>/dev/null || date -R)
cat >"$src/debian/changelog" <<CL
vfio-cdev-noiommu ($ver) unstable; urgency=medium

  * Built from the vfio_cdev_noiommu tree ($(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)).

 -- vfio_cdev_noiommu developers <vfio-cdev-noiommu@example.invalid>  $when
CL
(cd "$src" && dpkg-buildpackage -us -uc -b -tc) >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log" >&2; echo "mkdeb: dpkg-buildpackage failed" >&2; exit 1; }
mkdir -p "$out"
cp "$work"/vfio-cdev-noiommu-dkms_"$ver"_all.deb "$out/"
echo "$out/vfio-cdev-noiommu-dkms_${ver}_all.deb"
