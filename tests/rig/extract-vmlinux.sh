#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# extract-vmlinux.sh VMLINUZ OUT: unpack the ELF vmlinux from a Debian bzImage
# (xz for the generic/rt flavours, lz4 for cloud), as the kernel's
# scripts/extract-vmlinux does. QEMU boots it through PVH, which skips the
# in-guest decompression and halves boot time under TCG.
set -u
img=$1; out=$2
try() { # try MAGIC(octal escapes) PLACEHOLDER(len(MAGIC)-1 letters) DECOMPRESSOR
	pos=$(tr "$1\n$2" "\n$2=" <"$img" | grep -abo "^$2" | head -n1 | cut -d: -f1)
	[ -n "$pos" ] || return 1
	tail -c +"$pos" "$img" | $3 >"$out.tmp.$$" 2>/dev/null   # trailing bytes make it complain
	head -c 4 "$out.tmp.$$" | grep -q 'ELF' && mv "$out.tmp.$$" "$out"
}
try '\3757zXZ\000' abcde 'xz -dc' || try '\002!L\030' xxx 'lz4 -dc' || {
	rm -f "$out.tmp.$$"; echo "extract-vmlinux: no xz/lz4 ELF payload in $img" >&2; exit 1; }
