#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# checkpatch-tree.sh: run the kernel's checkpatch.pl over src/ and include/;
# any finding fails. checkpatch comes from $CHECKPATCH, or is unpacked once
# from Debian's linux-source-6.1 into $VCN_CACHE (default /var/cache/vfio-cdev-noiommu).
set -eu
cd "$(dirname "$0")/.."
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/checkpatch
cp=${CHECKPATCH:-$cache/scripts/checkpatch.pl}
if [ ! -x "$cp" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
	[ -n "$tarball" ] || { echo "checkpatch: no linux-source-*.tar.xz (apt-get install linux-source-6.1)" >&2; exit 1; }
	mkdir -p "$cache"
	top=$(basename "$tarball" .tar.xz)
	tar -xJf "$tarball" -C "$cache" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" "$top/scripts/const_structs.checkpatch"
fi
# The module's source is held to --strict (MACRO_ARG_REUSE aside: the dispatch
# table macro takes constant ioctl numbers). The uapi header is userspace
# code, where BIT() does not exist: the default level, as for include/uapi.
"$cp" --no-tree --strict --terse --show-types --ignore MACRO_ARG_REUSE -f src/*.c src/*.h
"$cp" --no-tree --terse --show-types -f include/*.h
echo "checkpatch: clean"
