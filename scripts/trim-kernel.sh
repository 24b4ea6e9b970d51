#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# trim-kernel.sh SRC OUT CONFIG FRAGMENT MODULES
#   Builds the kernel source tree SRC into OUT (make O=OUT) from a
#   distribution's CONFIG, trimmed to the modules named in MODULES (one
#   lsmod-style name per word, as localmodconfig takes them: everything
#   else that was a module is dropped, the built-in part stays the
#   distribution's), with FRAGMENT merged over it and every line of
#   FRAGMENT checked to have stuck. Then bzImage, the modules, installed
#   (stripped) under OUT/modroot, and the uapi headers under OUT/uapi.
#   Env: BUILD_WRAPPER, a command prefix that runs make elsewhere (a
#   chroot with the distribution's compiler). Output goes to OUT/build.log.
set -eu
src=$1 out=$2 cfg=$3 frag=$4 mods=$5
here=$(cd "$(dirname "$0")" && pwd)
w=${BUILD_WRAPPER:-}
mkdir -p "$out"
{
	echo "Module Size Used by"
	for m in $mods; do echo "$m 16384 0"; done
} >"$out/lsmod"
cp "$frag" "$out/fragment.config"
{
	cp "$cfg" "$out/.config"
	$w make -C "$src" O="$out" olddefconfig
	$w make -C "$src" O="$out" LSMOD="$out/lsmod" localmodconfig
	$w "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$out/fragment.config"
	$w make -C "$src" O="$out" olddefconfig
	"$here/kconfig-check.sh" "$out/.config" "$out/fragment.config"
	$w make -C "$src" O="$out" -j"$(nproc)" bzImage modules
	$w make -C "$src" O="$out" INSTALL_MOD_PATH="$out/modroot" INSTALL_MOD_STRIP=1 modules_install
	$w make -C "$src" O="$out" INSTALL_HDR_PATH="$out/uapi" headers_install
} >"$out/build.log" 2>&1
