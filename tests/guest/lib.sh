# SPDX-License-Identifier: GPL-2.0
# lib.sh - helpers for the in-guest shell suites (sourced). Every check prints
# one TAP line, "ok - what" or "not ok - what"; the host counts them.

DRV=vfio-cdev-noiommu
DRVDIR=/sys/bus/pci/drivers/$DRV
PARAMS=/sys/module/vfio_cdev_noiommu/parameters
KO=/rig/vfio_cdev_noiommu.ko
FAILS=0
# the module's context node: /dev/iommu on a kernel without an iommufd of
# its own (every Debian kernel), /dev/vfio/noiommu-iommufd on one with it
# (as Ubuntu, Fedora and RHEL build theirs: its iommufd.ko comes packed
# with vfio-pci's modules, or is built in)
kernel_has_iommufd() { [ -e /rig/kmod/iommufd.ko ] || [ -d /sys/module/iommufd ]; }
if kernel_has_iommufd; then CTX=/dev/vfio/noiommu-iommufd; else CTX=/dev/iommu; fi
export VCN_EXPECT_CTX=$CTX	# for vcn_test
KMEMLEAK=/sys/kernel/debug/kmemleak
# on the debug kernel: forget what boot leaked, so only our leaks count
# (once per guest: a script a suite runs must not forget the suite's)
if [ -w "$KMEMLEAK" ] && [ -z "${VCN_KMEMLEAK_CLEARED:-}" ]; then
	echo clear >"$KMEMLEAK"
	export VCN_KMEMLEAK_CLEARED=1
fi

pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS + 1)); }
# check "what" command...: passes when the command succeeds
check() { what=$1; shift; if "$@" >/tmp/check.out 2>&1; then pass "$what"; else fail "$what"; sed 's/^/#   /' /tmp/check.out; fi; }
# check_not "what" command...: passes when the command fails
check_not() { what=$1; shift; if "$@" >/tmp/check.out 2>&1; then fail "$what"; sed 's/^/#   /' /tmp/check.out; else pass "$what"; fi; }
# skip "what" "why": a check this guest cannot make; never counted as a pass
skip() { echo "# SKIP - $1: $2"; }

# find_bdf vendor device [n [where]] -> the n-th (default first) BDF in
# BDF order; where: "root" (on bus 00: the root complex's own slots) or
# "port" (behind a bridge or root port), default anywhere. The rig has
# several edus and pci-testdevs: say which one, never count across buses.
find_bdf() {
	n=${3:-1}
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] || continue
		bus=${d##*/}; bus=${bus#*:}; bus=${bus%%:*}
		case ${4:-any}/$bus in root/00|port/0[1-9a-f]|port/[1-9a-f]?|any/*) ;; *) continue ;; esac
		n=$((n - 1))
		[ "$n" = 0 ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}
driver_of() { [ -e "/sys/bus/pci/devices/$1/driver" ] && basename "$(readlink "/sys/bus/pci/devices/$1/driver")" || echo none; }
is_bound() { [ "$(driver_of "$1")" = "$DRV" ]; }
node_name() { ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null | head -n1; }
tainted_user() { [ $(( $(cat /proc/sys/kernel/tainted) & 64 )) -ne 0 ]; }
dmesg_has() { dmesg | grep -q -- "$1"; }
# the node's major:minor (decimal) equals what sysfs says
node_matches_sysfs() {
	n=$(node_name "$1"); [ -n "$n" ] || return 1
	[ -c "/dev/vfio/devices/$n" ] || return 1
	want=$(cat "/sys/bus/pci/devices/$1/vfio-dev/$n/dev")
	got=$(printf '%d:%d' "0x$(stat -c %t "/dev/vfio/devices/$n")" "0x$(stat -c %T "/dev/vfio/devices/$n")")
	[ "$want" = "$got" ]
}
override() { echo "$2" >"/sys/bus/pci/devices/$1/driver_override"; }
probe() { echo "$1" >/sys/bus/pci/drivers_probe; }
unbind() { echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"; }
load_kmods() { while read -r m; do insmod "/rig/kmod/$m" 2>/dev/null || grep -q "^${m%.ko} " /proc/modules || return 1; done <"/rig/kmod/$1.order"; }
unload_kmods() { tac "/rig/kmod/$1.order" | while read -r m; do rmmod "${m%.ko}" 2>/dev/null; done; ! grep -q '^vfio ' /proc/modules; }
set_param() { echo "$2" >"$PARAMS/$1"; }

# the run ends with the kernel log checked for every kind of splat
dmesg_clean() {
	if dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection|refcount_t:|list_add corruption|UBSAN|KASAN'; then
		fail "kernel log has no BUG/WARNING/Oops"
	else
		pass "kernel log has no BUG/WARNING/Oops"
	fi
}
# kmemleak (debug kernel only): objects must be ~5 s old; scan twice
kmemleak_clean() {
	[ -w "$KMEMLEAK" ] && [ -z "${KMEMLEAK_DONE:-}" ] || return 0
	KMEMLEAK_DONE=1
	echo scan >"$KMEMLEAK"; sleep 6; echo scan >"$KMEMLEAK"; sleep 1
	if grep -q unreferenced "$KMEMLEAK"; then
		fail "kmemleak finds nothing unreferenced"
		sed 's/^/#   /' "$KMEMLEAK" | head -n 60
	else
		pass "kmemleak finds nothing unreferenced"
	fi
}
finish() {
	kmemleak_clean
	dmesg_clean
	[ "$FAILS" = 0 ] || { echo "# --- dmesg ---"; dmesg | tail -n 80 | sed 's/^/# /'; }
	echo "# suite done, $FAILS failed"
}
