#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# matrix.sh [KSPEC...] - the module on several Debian kernels.
#   KSPEC: 5.10 6.1 6.1-rt 6.1-cloud 6.12 6.12-rt 6.12-deb12 13 13-rt 7.3
#   distro (default: all), see scripts/fetch-kernel.sh. For each: fetch the
#   kernel (cached; distro is built here), build the module with W=1 in a
#   scratch copy of the source (never in the tree; 13 and 7.3 inside the
#   trixie chroot, 5.10 inside the bullseye one), run sparse (C=2) when the
#   kernel's kbuild accepts the machine's sparse, then boot the kernel in
#   the QEMU rig, two guests at a time: tests/guest/suite.sh (no IOMMU),
#   tests/guest/iommu.sh (intel-iommu) and tests/guest/deploy.sh
#   (modprobe.d, udev, the tool); on a kernel with its own iommufd also
#   tests/guest/distro.sh, without and with intel-iommu (side by side with
#   the kernel's vfio-pci and iommufd).
#   Prints TAP lines "ok - [KSPEC/...] ...", a table, "N passed, N failed".
# Env: VCN_BUILD (scratch, default /var/tmp/vcn-matrix), VCN_PATCH (a unified
# diff applied to each scratch copy with patch -p1: try a fix without touching
# the tree), TIMEOUT (per guest, 600).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
specs=${*:-5.10 6.1 6.1-rt 6.1-cloud 6.12 6.12-rt 6.12-deb12 13 13-rt 7.3 distro}
B=${VCN_BUILD:-/var/tmp/vcn-matrix}
rm -rf "$B"; mkdir -p "$B/bin"
results=$B/results.tap table=$B/table
: >"$results"; : >"$table"
. tests/rig/collect.sh
ok() { echo "ok - $*" | tee -a "$results"; }
notok() { echo "not ok - $*" | tee -a "$results"; }
tail_log() { tail -n "${2:-30}" "$1" | sed 's/^/#   /'; }
command -v qemu-system-x86_64 >/dev/null || scripts/install-deps.sh >/dev/null || exit 1
command -v pahole >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dwarves >/dev/null 2>&1 ||
	echo "# pahole (dwarves) missing: kernels whose headers ship vmlinux fail at the BTF step"

# the in-guest programs, as tests/run.sh builds them (static: any kernel)
progs="vcn_test vcn_tool ioas_test edu_dma nvme_drv access_test irq_test safety_test wc_test kvfio"
bins=
progs_ok=1
for p in $progs; do
	if nice -n 10 gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o "$B/bin/$p" "tests/$p.c" 2>"$B/bin/$p.log"; then
		bins="$bins $B/bin/$p"
	else progs_ok=0; echo "# $p:"; tail_log "$B/bin/$p.log"; fi
done
if [ "$progs_ok" = 1 ]; then ok "[host] test programs build (static, -Wall -Werror)"
else notok "[host] test programs build (static, -Wall -Werror)"; fi

for k in $specs; do
	t0=$(date +%s)
	kb=$B/$k; mkdir -p "$kb"
	krel=? SUITE=? cc=?
	warn=- sp=- ko=
	row() { # passed/failed of this kernel's lines, then the table row
		local p f s flav
		p=$(grep -c "^ok - \[$k[]/]" "$results"); f=$(grep -c "^not ok - \[$k[]/]" "$results")
		s=$(grep -c "^# SKIP - \[$k[]/]" "$results")
		case $krel in
		*-vcn-distro) flav=distro-cfg ;;
		*-rt-amd64) flav=rt-amd64 ;;
		*-cloud-amd64) flav=cloud-amd64 ;;
		*-amd64) flav=amd64 ;;
		*) flav=? ;;
		esac
		printf '%-24s %-18s %-11s %-8s %-5s %-6s %6s %6s %7s %5ss\n' "$krel" "$SUITE" "$flav" "$cc" \
			"$warn" "$sp" "$p" "$f" "$s" "$(( $(date +%s) - t0 ))" >>"$table"
	}
	echo "== $k"
	# ---- fetch ----
	if nice -n 10 scripts/fetch-kernel.sh "$k" "$kb/env" >"$kb/fetch.log" 2>&1; then
		# shellcheck disable=SC1091
		. "$kb/env"
		krel=$KREL
		# the compiler the kernel was built with (its config says): the module's
		cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' \
			"${BUILD_WRAPPER:+$(dirname "$BUILD_WRAPPER")}$KDIR/.config" 2>/dev/null |
			awk '{ for (i = NF; i > 0; i--) if ($i ~ /^[0-9]+\.[0-9]+(\.[0-9]+)?$/) { print "gcc-" $i; exit } }')
		ok "[$k] kernel $KREL fetched (KERNEL=$(basename "$KERNEL"))"
	else
		notok "[$k] kernel fetched"; tail_log "$kb/fetch.log"; row; continue
	fi
	# ---- build in a scratch copy ----
	src=$kb/src; mkdir -p "$src"
	cp -a src include scripts Kbuild Makefile dkms.conf "$src/"
	mkdir -p "$src/tests"; cp -a tests/guest "$src/tests/"	# the guest suites, so VCN_PATCH reaches them
	if [ -n "${VCN_PATCH:-}" ]; then
		if patch -s -p1 -d "$src" <"$VCN_PATCH" >"$kb/patch.log" 2>&1; then ok "[$k] VCN_PATCH applies to the scratch copy"
		else notok "[$k] VCN_PATCH applies to the scratch copy"; tail_log "$kb/patch.log"; fi
	fi
	# shellcheck disable=SC2086
	kmake() { (cd "$src" && nice -n 10 $BUILD_WRAPPER make KDIR="$KDIR" "$@"); }
	if kmake W=1 modules >"$kb/build.log" 2>&1 && [ -f "$src/vfio_cdev_noiommu.ko" ]; then
		ok "[$k] module builds for $KREL${BUILD_WRAPPER:+ (in the $(basename "$(dirname "$BUILD_WRAPPER")" | sed 's/^chroot-//') chroot)}"
		ko=$src/vfio_cdev_noiommu.ko
	else
		notok "[$k] module builds for $KREL"; grep -E 'error|warning:' "$kb/build.log" | head -n 40 | sed 's/^/#   /'
		tail_log "$kb/build.log" 10
	fi
	warn=$(grep -c 'warning:' "$kb/build.log")
	if [ "$warn" = 0 ]; then ok "[$k] W=1 build has no compiler warnings"
	else notok "[$k] W=1 build has no compiler warnings ($warn)"; grep 'warning:' "$kb/build.log" | head -n 20 | sed 's/^/#   /'; fi
	cat "$src"/.conftest/*/conftest.h >"$kb/conftest.h" 2>/dev/null
	grep -q '^#define VCN_HAVE_TOOLCHAIN' "$kb/conftest.h" && echo "# probes: $(sed -n 's/^#define VCN_HAVE_\([A-Z0-9_]*\) 1/\1/p' "$kb/conftest.h" | grep -v TOOLCHAIN | tr '\n' ' ')"
	# ---- sparse over the same sources ----
	if [ -n "$ko" ]; then
		touch "$src"/src/*.c
		kmake W=1 C=2 CF=-D__CHECK_ENDIAN__ modules >"$kb/sparse.log" 2>&1
		if grep -q 'sparse is not available or not up to date' "$kb/sparse.log"; then
			sp=n/a; echo "# [$k] sparse skipped: this kernel's kbuild wants a newer sparse"
		elif ! grep -q ' CHECK ' "$kb/sparse.log"; then
			sp=n/a; echo "# [$k] sparse did not run"; tail_log "$kb/sparse.log" 10
		else
			sp=$(grep -cE '(warning|error):' "$kb/sparse.log")
			if [ "$sp" = 0 ]; then ok "[$k] sparse (C=2) is silent"
			else notok "[$k] sparse (C=2) is silent ($sp)"; grep -E '(warning|error):' "$kb/sparse.log" | head -n 20 | sed 's/^/#   /'; fi
		fi
		[ -f "$ko" ] || { notok "[$k] module still there after the sparse build"; ko=; }
	fi
	if [ -n "$ko" ] && [ "$(modinfo -F vermagic "$ko" | awk '{print $1}')" = "$KREL" ]; then
		ok "[$k] vermagic is $KREL"
	else
		notok "[$k] module with vermagic $KREL"
	fi
	# a kernel built here has its own uapi headers (headers_install):
	# the project's header must compile over them too
	if [ -d "$KDIR/uapi/include/linux" ]; then
		if gcc -Wall -Wextra -Werror -Iinclude -I"$KDIR/uapi/include" -c tests/uapi_header_test.c -o "$kb/h.o" >"$kb/uapi.log" 2>&1 &&
			g++ -x c++ -Wall -Wextra -Werror -Iinclude -I"$KDIR/uapi/include" -c tests/uapi_header_test.c -o "$kb/h2.o" >>"$kb/uapi.log" 2>&1; then
			ok "[$k] uapi header compiles over this kernel's own uapi headers (C and C++)"
		else notok "[$k] uapi header compiles over this kernel's own uapi headers"; tail_log "$kb/uapi.log"; fi
	fi
	if [ -z "$ko" ] || [ "$progs_ok" != 1 ]; then
		notok "[$k] guests run (nothing to boot)"; row; continue
	fi
	# ---- guests, one at a time ----
	# shellcheck disable=SC2086
	if ! MODROOT=$MODROOT KMODS="vfio-pci nvme aer_inject pci-pf-stub" BINS="/usr/bin/kmod /usr/bin/udevadm /usr/bin/setpriv" \
		tests/rig/mkinitramfs.sh "$kb/initrd.gz" "$KREL" "$ko" $bins "$src"/tests/guest/*.sh \
		scripts/vfio-noiommu-bind scripts/udev/*.rules scripts/modprobe.d/*.conf >"$kb/initrd.log" 2>&1; then
		notok "[$k] initramfs"; tail_log "$kb/initrd.log"; row; continue
	fi
	export NVME_SERIAL=vcn-serial-0001 NVME_BLOCK0=VCN-NVME-BLOCK0-MARKER
	guests="main iommu deploy"
	# a kernel with its own iommufd and vfio: side by side with them
	grep -q '^CONFIG_IOMMUFD=[ym]' "${BUILD_WRAPPER:+$(dirname "$BUILD_WRAPPER")}$KDIR/.config" &&
		guests="$guests distro distro-iommu"
	# two guests running at a time (one per core): the next starts as soon
	# as one ends (the full suite's guest is the long one); collected in order
	running=0
	for g in $guests; do
		case $g in
		main) iommu=0 suite=suite ;;
		iommu) iommu=1 suite=iommu ;;
		deploy) iommu=0 suite=deploy ;;
		distro) iommu=0 suite=distro ;;
		distro-iommu) iommu=1 suite=distro ;;
		esac
		if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
		KERNEL=$KERNEL IOMMU=$iommu APPEND="SUITE=$suite" \
			tests/rig/run-guest.sh "$kb/initrd.gz" "$kb/guest-$g.log" &
		running=$((running + 1))
	done
	wait
	for g in $guests; do vcn_collect "$kb/guest-$g.log" "$k/$g"; done
	row
done

echo "== matrix (logs in $B)"
printf '%-24s %-18s %-11s %-8s %-5s %-6s %6s %6s %7s %6s\n' kernel suite flavour compiler W=1 sparse passed failed skipped time
cat "$table"
vcn_summary
