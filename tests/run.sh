#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run.sh - `make check`: everything, from a fresh Debian 12 machine to one
# summary line.
#   1. install what is missing (scripts/install-deps.sh)
#   2. host checks: W=1 + sparse build, checkpatch, the uapi header
#   3. dkms add/build/install the module for the stock Debian kernel
#   4. boot that kernel under QEMU twice, in parallel: without an IOMMU (the
#      full suite) and with intel-iommu (the refusals), the dkms-built module
#      inside each
#   5. count the TAP lines of every part, print "N passed, N failed"
# Env: KREL (default: the newest installed Debian -amd64 kernel with headers),
# VCN_BUILD (scratch dir, default /var/tmp/vcn-build), FLAVOURS ("stock debug"
# by default: the stock kernel, then the debug kernel with KASAN, lockdep,
# kmemleak and UBSAN, where every splat fails the run), VCN_NO_DKMS=1 (build
# in place and skip the dkms steps: for scratch copies of the tree).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
t0=$(date +%s)
FLAVOURS=${FLAVOURS:-stock debug}
scripts/install-deps.sh || exit 1

# never the running kernel: the machine's own is not a Debian kernel
eval "$(tests/rig/stock-kernel.sh)" || exit 1
B=${VCN_BUILD:-/var/tmp/vcn-build}/$KREL
rm -rf "$B"; mkdir -p "$B"
echo "== kernel $KREL, scratch $B"

results=$B/results.tap
: >"$results"
. tests/rig/collect.sh
ok() { echo "ok - $*" | tee -a "$results"; }
notok() { echo "not ok - $*" | tee -a "$results"; }
step() { what=$1; shift; if "$@" >"$B/step.log" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/#   /' "$B/step.log" | tail -n 40; fi; }

# ---- host checks ----
step "W=1 + sparse (C=2) build for $KREL is silent" make -s KVER="$KREL" lint-build
step "checkpatch --strict over src/ and include/ is clean" scripts/checkpatch-tree.sh
# the pages of a write-combining BAR that stay uncached: no QEMU device has
# its MSI-X table in a prefetchable BAR, so the rule is unit-tested here
step "barmap_split unit test: MSI-X table and PBA pages of a write-combining BAR stay uncached" \
	sh -c "gcc -O2 -Wall -Wextra -Werror -Iinclude -o $B/barmap_split_test tests/barmap_split_test.c && $B/barmap_split_test"
step "uapi header compiles on Debian 12's own headers (-Wall -Werror, C and C++)" \
	sh -c "gcc -Wall -Wextra -Werror -Iinclude -c tests/uapi_header_test.c -o $B/h.o && \
	       g++ -x c++ -Wall -Wextra -Werror -Iinclude -c tests/uapi_header_test.c -o $B/h2.o"
# Debian's own newer uapi headers: 6.12's have the vfio cdev ioctls but no
# GET_PA, 7.3's have everything (fetched through a private apt state)
for s in bookworm-backports trixie-backports; do
	hdr=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/libc-dev-$s
	[ -d "$hdr/root/usr/include/linux" ] || scripts/deb-suite.sh "$s" extract "$hdr" linux-libc-dev >"$B/deb.log" 2>&1
	step "uapi header compiles over $s's $(ls "$hdr"/linux-libc-dev_*.deb 2>/dev/null | sed 's/.*_\(.*\)_all.deb/linux-libc-dev \1/') (C and C++)" \
		sh -c "gcc -Wall -Wextra -Werror -Iinclude -I$hdr/root/usr/include -c tests/uapi_header_test.c -o $B/h3.o && \
		       g++ -x c++ -Wall -Wextra -Werror -Iinclude -I$hdr/root/usr/include -c tests/uapi_header_test.c -o $B/h4.o"
done
make -s KVER="$KREL" clean >/dev/null 2>&1

# A kernel that already has upstream cdev no-IOMMU: a copy of the headers
# with CONFIG_IOMMUFD_NOIOMMU=y. make must stop and say why; dkms must skip it
# (exit 77) instead of failing the kernel's installation.
fake=$B/headers-with-noiommu
hdr=/usr/src/linux-headers-$KREL
mkdir -p "$fake"
cp -a "$hdr/." "$fake/"
# its relative symlinks (into -common and linux-kbuild) must still resolve
(cd "$hdr" && find . -type l) | while read -r l; do ln -sfn "$(readlink -f "$hdr/$l")" "$fake/$l"; done
echo "CONFIG_IOMMUFD_NOIOMMU=y" >>"$fake/.config"
echo "#define CONFIG_IOMMUFD_NOIOMMU 1" >>"$fake/include/generated/autoconf.h"
step "on a kernel with CONFIG_IOMMUFD_NOIOMMU=y, make stops and says the kernel has it" \
	sh -c "! make -s KDIR=$fake modules >$B/noiommu-make.log 2>&1 && grep -q 'already has cdev no-IOMMU' $B/noiommu-make.log"
make -s KDIR="$fake" clean >/dev/null 2>&1

# ---- dkms ----
# VCN_NO_DKMS=1 (a scratch copy of the tree trying a change while another
# run owns the machine's dkms state): build in place, skip the dkms checks
if [ "${VCN_NO_DKMS:-0}" = 1 ]; then
	if make -s KVER="$KREL" modules >"$B/build.log" 2>&1 && cp vfio_cdev_noiommu.ko "$B/"; then
		ko=$B/vfio_cdev_noiommu.ko
	else
		notok "module builds for $KREL"; tail -n 30 "$B/build.log" | sed 's/^/#   /'; ko=
	fi
	make -s KVER="$KREL" clean >/dev/null 2>&1
else
	if ko=$(scripts/dkms.sh install "$KREL" 2>"$B/dkms.log"); then
		ok "dkms add/build/install -k $KREL: $ko"
	else
		notok "dkms add/build/install -k $KREL"; sed 's/^/#   /' "$B/dkms.log"
		ko=
	fi
	step "dkms skips (exit 77) a kernel that has CONFIG_IOMMUFD_NOIOMMU=y" \
		sh -c "dkms build -m vfio_cdev_noiommu -v $(sed -n 's/^PACKAGE_VERSION=\"\(.*\)\"/\1/p' dkms.conf) -k 0.0.0-vcn-noiommu --kernelsourcedir $fake >$B/noiommu-dkms.log 2>&1; [ \$? = 77 ]"
	rm -rf /var/lib/dkms/vfio_cdev_noiommu/*/0.0.0-vcn-noiommu
	step "dkms status lists the module as installed for $KREL" \
		sh -c "dkms status -m vfio_cdev_noiommu -k $KREL | grep -q installed"
	step "modinfo: version from dkms.conf, parameters present" \
		sh -c "modinfo $ko | grep -q \"^version: *$(sed -n 's/^PACKAGE_VERSION=\"\(.*\)\"/\1/p' dkms.conf)\$\" && \
		       modinfo -p $ko | grep -q '^enable_unsafe_noiommu_mode:' && modinfo -p $ko | grep -q '^ids:'"
fi

# ---- guest programs and image ----
step "test programs build (static, -Wall -Werror)" sh -c "\
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/vcn_test tests/vcn_test.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/vcn_tool tests/vcn_tool.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/ioas_test tests/ioas_test.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/edu_dma tests/edu_dma.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/nvme_drv tests/nvme_drv.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/access_test tests/access_test.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/irq_test tests/irq_test.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/safety_test tests/safety_test.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/wc_test tests/wc_test.c && \
	gcc -static -O2 -pthread -Wall -Wextra -Werror -Iinclude -o $B/fuzz tests/fuzz.c && \
	gcc -static -O2 -pthread -Wall -Wextra -Werror -Iinclude -o $B/stress tests/stress.c && \
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o $B/fail_nth tests/fail_nth.c && \
	gcc -static -O2 -pthread -Wall -Wextra -Werror -Iinclude -o $B/peer_bench tests/peer_bench.c"
SPLAT=$VCN_SPLAT

# boot_one TAG NAME APPEND: one guest. A kernel splat before the suite even
# started (seen now and then on the debug kernel under TCG: an early
# interrupt during CPU bring-up, long before our module exists) blinds the
# detectors for the rest of the boot (a KASAN report turns lockdep off), and
# a boot that never reaches the suite at all (seen once: the debug kernel
# stuck after lockdep's banner, under a loaded host) would only end at the
# guest's timeout: either is booted again, at most twice, and said so.
boot_one() {
	log=$B/guest-$1-$2.log
	for try in 1 2 3; do
		APPEND=$3 tests/rig/run-guest.sh "$B/initrd-$1.gz" "$log" &
		gpid=$! waited=0
		while kill -0 "$gpid" 2>/dev/null; do
			grep -q '^rig: running' "$log.raw" 2>/dev/null && break
			if [ "$waited" -ge "${BOOT_TIMEOUT:-480}" ]; then
				echo "# [$1/$2] no suite after $waited s of boot (boot $try): killing it" >&2
				pkill -TERM -P "$gpid"	# its timeout(1), which stops QEMU
				break
			fi
			sleep 5; waited=$((waited + 5))
		done
		wait "$gpid"
		if ! grep -q '^rig: running' "$log"; then
			cp "$log" "$log.no-suite-$try"
			continue
		fi
		sed '/^rig: running/q' "$log" | grep -qE "$SPLAT" || return 0
		cp "$log" "$log.early-splat-$try"
		echo "# [$1/$2] kernel splat before the suite started (boot $try): booting again" >&2
	done
}

# collect TAG NAME: a finished guest's results (tests/rig/collect.sh); the
# fail-nth guest provokes the kernel's own allocation-failure reports and
# filters them itself
collect() {
	if [ "$2" = failnth ]; then vcn_collect "$B/guest-$1-$2.log" "$1/$2" nosplat
	else vcn_collect "$B/guest-$1-$2.log" "$1/$2"; fi
}

# boot_guests TAG KERNEL KREL KO MODROOT SUITE...: the suites' guests, two at a
# time (one per core). Suites: suite (no IOMMU: the full suite), iommu
# (intel-iommu: the refusals, lockdown), hardening (fuzzer, stress), deploy
# (modprobe.d, udev rules, the binding tool), lockdown (booted with
# lockdown=integrity: the unsigned module refused, a signed one refusing to bind),
# failnth (every fault-injection point; debug kernel only)
boot_guests() {
	tag=$1 kernel=$2 krel=$3 ko=$4 modroot=$5
	shift 5
	MODROOT=$modroot KMODS="vfio-pci nvme aer_inject pci-pf-stub" BINS="/usr/bin/kmod /usr/bin/udevadm /usr/bin/setpriv" \
		tests/rig/mkinitramfs.sh "$B/initrd-$tag.gz" "$krel" "$ko" \
		"$B/vcn_test" "$B/vcn_tool" "$B/ioas_test" "$B/edu_dma" "$B/nvme_drv" "$B/access_test" "$B/irq_test" "$B/safety_test" "$B/wc_test" \
		"$B/fuzz" "$B/stress" "$B/fail_nth" "$B/peer_bench" tests/guest/peer.sh scripts/vfio-noiommu-bind scripts/udev/*.rules \
		scripts/modprobe.d/vfio-cdev-noiommu.conf tests/guest/lib.sh tests/guest/suite.sh \
		tests/guest/iommu.sh tests/guest/hardening.sh tests/guest/failnth.sh tests/guest/deploy.sh \
		tests/guest/lockdown.sh ${EXTRA_FILES:-} || {
		notok "[$tag] initramfs"; return; }
	# the NVMe image gets a marker in block 0 for the driver's read test
	export NVME_SERIAL=vcn-serial-0001 NVME_BLOCK0=VCN-NVME-BLOCK0-MARKER
	while [ $# -gt 0 ]; do
		pids=
		for g in $1 ${2:-}; do
			iommu=0 extra=
			[ "$g" = iommu ] && iommu=1
			# ACPI's PCI IRQ routing mishandles injected allocation
			# failures (a KASAN use-after-free in the ACPI core): keep
			# it out of the sweep's way
			[ "$g" = failnth ] && extra="acpi=noirq"
			# booted locked down, as under Secure Boot
			[ "$g" = lockdown ] && extra="lockdown=integrity"
			KERNEL=$kernel IOMMU=$iommu boot_one "$tag" "$g" "SUITE=$g $extra ${GUEST_APPEND:-}" &
			pids="$pids $!"
		done
		wait $pids
		for g in $1 ${2:-}; do collect "$tag" "$g"; done
		shift; [ $# -gt 0 ] && shift
	done
}

for flavour in $FLAVOURS; do
	case $flavour in
	stock)
		if [ -n "$ko" ] && [ -x "$B/vcn_test" ]; then
			GUEST_APPEND= boot_guests stock "$VMLINUX" "$KREL" "$ko" "" suite iommu hardening deploy lockdown
		else
			notok "[stock] guest runs (nothing to boot: dkms or test build failed)"
		fi ;;
	debug)
		# KASAN, lockdep, kmemleak, UBSAN, fault injection (scripts/debug-kernel.sh)
		echo "== debug kernel (built once, then cached; about 20 minutes the first time)"
		if dk=$(scripts/debug-kernel.sh 2>"$B/debug-kernel.log"); then
			dkrel=$(cat "$dk/include/config/kernel.release")
			ok "debug kernel $dkrel is built"
			mkdir -p "$B/debug-ko"
			if make -s KDIR="$dk" modules >"$B/debug-build.log" 2>&1 && \
			   cp vfio_cdev_noiommu.ko "$B/debug-ko/" && make -s KDIR="$dk" clean >/dev/null 2>&1; then
				ok "module builds against the debug kernel"
				# signed with the debug kernel's build key: the one module a
				# locked-down boot of it will load (the lockdown suite)
				step "module signed with the debug kernel's key" "$dk/scripts/sign-file" sha512 \
					"$dk/certs/signing_key.pem" "$dk/certs/signing_key.x509" \
					"$B/debug-ko/vfio_cdev_noiommu.ko" "$B/debug-ko/vfio_cdev_noiommu_signed.ko"
				# KASAN breaks 6.1's PVH entry: boot the bzImage; give it room
				MEM=1G TIMEOUT=1500 GUEST_APPEND="VCN_DEBUG=1" EXTRA_FILES="$B/debug-ko/vfio_cdev_noiommu_signed.ko" \
					boot_guests debug "$dk/arch/x86/boot/bzImage" "$dkrel" "$B/debug-ko/vfio_cdev_noiommu.ko" \
					"$dk/modroot" suite iommu hardening failnth lockdown deploy
			else
				notok "module builds against the debug kernel"; tail -n 30 "$B/debug-build.log" | sed 's/^/#   /'
			fi
		else
			notok "debug kernel builds"; tail -n 30 "$B/debug-kernel.log" | sed 's/^/#   /'
		fi ;;
	esac
done

echo "== failures:"; grep '^not ok ' "$results" || echo "   none"
echo "== $KREL, $(( $(date +%s) - t0 )) s, logs in $B"
vcn_summary
