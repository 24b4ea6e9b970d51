#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kconfig-check.sh CONFIG FRAGMENT: every line of FRAGMENT survived in the
# .config CONFIG (olddefconfig drops what a dependency forbids, silently).
# CONFIG_X=n holds when X is unset or absent, CONFIG_X="" too (a string
# whose dependency is off is not there at all). Prints what did not stick.
set -eu
cfg=$1 frag=$2 bad=0
grep -v '^#' "$frag" | grep . >/tmp/kconfig-check.$$ || true
while read -r l; do
	case $l in
	*=n) ! grep -q "^${l%=n}=[ym]" "$cfg" ;;
	*=\"\") grep -qx "$l" "$cfg" || ! grep -q "^${l%=\"\"}=" "$cfg" ;;
	*) grep -qx "$l" "$cfg" ;;
	esac || { echo "kconfig-check: $l did not stick" >&2; bad=1; }
done </tmp/kconfig-check.$$
rm -f /tmp/kconfig-check.$$
exit $bad
