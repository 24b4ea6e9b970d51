#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# package.sh - `make check-package`: deployment as an admin does it, on a
# clean Debian 12 system (a debootstrap'ed bookworm chroot reading the
# archive the machine's apt sources name, with the stock kernel's headers
# and nothing else):
#   1. make deb: the package's files and dependencies
#   2. apt-get install ./vfio-cdev-noiommu-dkms_*.deb: dkms comes in as a
#      dependency and builds and installs the module for the stock kernel
#   3. a kernel upgrade: install 6.12's header packages (bookworm-backports,
#      fetched by scripts/fetch-kernel.sh, never through the machine's apt
#      sources); their postinst hook (header_postinst.d/dkms, i.e. dkms
#      autoinstall for the new kernel) must build and install the module
#   4. boot both kernels in the QEMU rig with the modules dkms built inside
#      the chroot and the tool, udev rule and modprobe.d example the package
#      installed: the deploy suite on 6.1, the full suite and deploy on 6.12
#   5. apt-get purge: modules, source and tools gone
#   6. the same on a clean Debian 13 (trixie, its own apt sources in the
#      chroot): the package with trixie's newest kernel headers (dkms builds
#      with gcc-14), that kernel booted with the dkms-built module (deploy
#      suite), then the headers of trixie's other kernel ABI (dkms must
#      build for it too), then purge
# `package.sh prepare` only makes the clean systems (cached).
# Prints TAP lines and "N passed, N failed". Env: VCN_BUILD (scratch,
# default /var/tmp/vcn-package), VCN_CACHE (the pristine chroots, default
# /var/cache/vfio-cdev-noiommu).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
t0=$(date +%s)
scripts/install-deps.sh >/dev/null || exit 1
B=${VCN_BUILD:-/var/tmp/vcn-package}${1:+-$1}
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}
R=$B/root
rm -rf "$B"; mkdir -p "$B"
results=$B/results.tap
: >"$results"
. tests/rig/collect.sh
ok() { echo "ok - $*" | tee -a "$results"; }
notok() { echo "not ok - $*" | tee -a "$results"; }
step() { what=$1; shift; if "$@" >"$B/step.log" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/#   /' "$B/step.log" | tail -n 40; fi; }
summary() {
	echo "== check-package: $(( $(date +%s) - t0 )) s, logs in $B"
	vcn_summary
	exit
}
# in_root CMD: CMD by /bin/sh inside the chroot, with /proc, in a private
# mount namespace (nothing stays mounted when it ends)
in_root() {
	unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/sh -c "$1"' \
		"$R" "export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin; $*"
}
# has_ko KO KREL: KO exists and dkms in the chroot says installed for KREL
has_ko() { [ -f "$1" ] && in_root "dkms status -m vfio_cdev_noiommu -v $ver -k $2" | grep -q installed; }
eval "$(tests/rig/stock-kernel.sh)" || exit 1
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

# mk_pristine SUITE KREL DIR: a debootstrapped SUITE in DIR reading the
# archive the machine's sources name (SUITE, its updates and its security
# suite: the chroot's own apt sources, never the machine's), with KREL's
# headers installed and nothing else; cached, marked .vcn-ready-KREL
mk_pristine() {
	suite=$1 krel=$2 dir=$3
	uri=$("$top/scripts/deb-suite.sh" "$suite" uri) && suri=$("$top/scripts/deb-suite.sh" "$suite-security" uri) || return 1
	command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap || return 1
	rm -rf "$dir"
	debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$dir" "$uri" || return 1
	rm -f "$dir/etc/apt/sources.list"
	printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" "$suite" "$suite" "$suri" "$suite" >"$dir/etc/apt/sources.list.d/debian.sources"
	R=$dir in_root "apt-get -qq update && apt-get install -y -qq linux-headers-$krel" || return 1
	touch "$dir/.vcn-ready-$krel"
}
# pristine_for SUITE KREL: $pristine, the cached clean SUITE with KREL's
# headers, made if missing
pristine_for() {
	pristine=$cache/chroot-$1; [ "$1" = bookworm ] || pristine=$cache/chroot-$1-pkg
	[ -e "$pristine/.vcn-ready-$2" ] && return 0
	echo "== debootstrap a clean $1 with linux-headers-$2 (once, cached in $pristine)"
	mk_pristine "$1" "$2" "$pristine" >"$B/pristine-$1.log" 2>&1 || {
		notok "a clean $1 chroot with linux-headers-$2"; tail -n 30 "$B/pristine-$1.log" | sed 's/^/#   /'; return 1; }
}
# clean_system SUITE KREL: $R, a fresh copy of the cached clean SUITE
clean_system() {
	pristine_for "$1" "$2" || return 1
	rm -rf "$R"
	cp -a "$pristine" "$R"
}
# `package.sh prepare`: only the clean systems (network and disk: CI makes
# them in the background while make check runs)
if [ "${1:-}" = prepare ]; then
	pristine_for bookworm "$KREL" || exit 1
	k13=$(scripts/fetch-kernel.sh 13 | sed -n 's/^KREL=//p')
	[ -n "$k13" ] && pristine_for trixie "$k13" || exit 1
	exit 0
fi

# ---- 1. the package ----
if deb=$(scripts/mkdeb.sh "$B/dist" 2>"$B/mkdeb.log"); then
	ok "make deb builds $(basename "$deb") with dh-dkms"
else
	notok "make deb"; sed 's/^/#   /' "$B/mkdeb.log"; summary
fi
dpkg-deb -c "$deb" | awk '{print $6}' >"$B/contents"
for f in usr/src/vfio_cdev_noiommu-$ver/dkms.conf usr/src/vfio_cdev_noiommu-$ver/Makefile \
	usr/src/vfio_cdev_noiommu-$ver/scripts/conftest.sh usr/src/vfio_cdev_noiommu-$ver/src/main.c \
	usr/sbin/vfio-noiommu-bind usr/lib/udev/rules.d/70-vfio-cdev-noiommu.rules \
	usr/include/vfio_cdev_noiommu.h usr/share/doc/vfio-cdev-noiommu-dkms/examples/vfio-cdev-noiommu.conf \
	usr/share/doc/vfio-cdev-noiommu-dkms/examples/71-vfio-cdev-noiommu-group.rules; do
	grep -qx "\./$f" "$B/contents" || echo "missing: $f"
done >"$B/missing"
step "the package holds the dkms source, the tool, the udev rule, the examples, the header" test ! -s "$B/missing"
[ -s "$B/missing" ] && sed 's/^/#   /' "$B/missing"
step "no build products or tests in the package" sh -c "! grep -E '\.(o|ko|cmd)\$|/tests/|/\.conftest' $B/contents"
step "the package depends on dkms and dwarves (pahole: BTF of 6.12+ kernels)" \
	sh -c "dpkg-deb -f $deb Depends | grep -q 'dkms' && dpkg-deb -f $deb Depends | grep -q 'dwarves'"

# ---- the clean system: bookworm minbase + the stock kernel's headers ----
clean_system bookworm "$KREL" || summary
step "the clean system has $KREL's headers, and no dkms, no module" \
	sh -c "[ -e $R/usr/src/linux-headers-$KREL/Makefile ] && [ ! -e $R/usr/sbin/dkms ] && ! find $R/lib/modules -name 'vfio_cdev_noiommu*' | grep -q ."

# ---- 2. install the package ----
cp "$deb" "$R/tmp/"
step "apt-get install ./$(basename "$deb") on the clean system" \
	in_root "apt-get -qq update && apt-get install -y /tmp/$(basename "$deb")"
cp "$B/step.log" "$B/install.log"
ko61=$R/lib/modules/$KREL/updates/dkms/vfio_cdev_noiommu.ko
step "its postinst built and installed the module for $KREL through dkms" has_ko "$ko61" "$KREL"
step "the module's vermagic is $KREL" sh -c "[ \"\$(modinfo -F vermagic $ko61 | cut -d' ' -f1)\" = $KREL ]"
# Secure Boot: dkms (with openssl, which the package recommends) made its MOK
# key and signed the module with it; the admin enrols mok.pub with mokutil
step "dkms signed the module with its MOK key (/var/lib/dkms/mok.pub, for mokutil --import)" sh -c "\
	[ -s $R/var/lib/dkms/mok.pub ] && [ -n \"\$(modinfo -F signer $ko61)\" ] && \
	openssl x509 -inform DER -in $R/var/lib/dkms/mok.pub -noout -subject | grep -q ."
step "the tool and the udev rule are installed" \
	sh -c "[ -x $R/usr/sbin/vfio-noiommu-bind ] && [ -f $R/usr/lib/udev/rules.d/70-vfio-cdev-noiommu.rules ]"

# ---- 3. a kernel upgrade: 6.12's image and headers, and their hooks ----
if scripts/fetch-kernel.sh 6.12 "$B/env-6.12" >"$B/fetch.log" 2>&1; then
	k12=$(. "$B/env-6.12"; echo "$KREL"); kernel12=$(. "$B/env-6.12"; echo "$KERNEL")
	modroot12=$(. "$B/env-6.12"; echo "$MODROOT")
	mkdir -p "$R/tmp/k612"
	cp "$cache"/kernels/6.12/debs/linux-*.deb "$R/tmp/k612/"
	step "a kernel upgrade: apt-get install linux-image and linux-headers $k12" \
		in_root "apt-get install -y /tmp/k612/*.deb"
	cp "$B/step.log" "$B/upgrade.log"
	ko612=$R/lib/modules/$k12/updates/dkms/vfio_cdev_noiommu.ko
	[ -f "$ko612" ] || ko612=$(ls "$R/lib/modules/$k12/updates/dkms/vfio_cdev_noiommu.ko"* 2>/dev/null | head -n1)
	step "its dkms hook (dkms autoinstall) built and installed the module for $k12" has_ko "$ko612" "$k12"
	step "the upgrade's log shows dkms autoinstall installing it for $k12" sh -c "\
		grep -q 'auto installation service for kernel $k12' $B/upgrade.log && \
		grep -q 'Installing to /lib/modules/$k12/updates/dkms' $B/upgrade.log"
	# dkms compresses it as the kernel's own modules are (.ko.xz); busybox
	# insmod in the guest wants the plain module
	case $ko612 in
	*.xz) mkdir -p "$B/ko-612" && xz -dc "$ko612" >"$B/ko-612/vfio_cdev_noiommu.ko" && ko612=$B/ko-612/vfio_cdev_noiommu.ko ;;
	*.zst) mkdir -p "$B/ko-612" && zstd -qdc "$ko612" >"$B/ko-612/vfio_cdev_noiommu.ko" && ko612=$B/ko-612/vfio_cdev_noiommu.ko ;;
	esac
else
	notok "6.12 kernel fetched (scripts/fetch-kernel.sh 6.12)"; tail -n 20 "$B/fetch.log" | sed 's/^/#   /'
	k12=
fi

# ---- 4. boot with what dkms built in the chroot ----
progs="vcn_test vcn_tool ioas_test edu_dma nvme_drv access_test irq_test safety_test wc_test"
for p in $progs; do
	gcc -static -O2 -Wall -Wextra -Werror -Iinclude -o "$B/$p" "tests/$p.c" || notok "$p builds"
done
# the package's own files, under the names the deploy suite expects
mkdir -p "$B/pkgfiles"
cp "$R/usr/sbin/vfio-noiommu-bind" "$R/usr/lib/udev/rules.d/70-vfio-cdev-noiommu.rules" \
	"$R/usr/share/doc/vfio-cdev-noiommu-dkms/examples/71-vfio-cdev-noiommu-group.rules" \
	"$R/usr/share/doc/vfio-cdev-noiommu-dkms/examples/vfio-cdev-noiommu.conf" "$B/pkgfiles/"
export NVME_SERIAL=vcn-serial-0001 NVME_BLOCK0=VCN-NVME-BLOCK0-MARKER
# guest TAG KREL KERNEL MODROOT KO SUITE...
guest() {
	tag=$1 krel=$2 kernel=$3 modroot=$4 ko=$5; shift 5
	if ! MODROOT=$modroot KMODS="vfio-pci nvme aer_inject pci-pf-stub" BINS="/usr/bin/kmod /usr/bin/udevadm /usr/bin/setpriv" \
		tests/rig/mkinitramfs.sh "$B/initrd-$tag.gz" "$krel" "$ko" $(for p in $progs; do echo "$B/$p"; done) \
		"$B"/pkgfiles/* tests/guest/*.sh >"$B/initrd-$tag.log" 2>&1; then
		notok "[$tag] initramfs"; tail -n 20 "$B/initrd-$tag.log" | sed 's/^/#   /'; return
	fi
	# two guests at a time (one per core), collected in order
	for g in "$@"; do
		KERNEL=$kernel APPEND="SUITE=$g" tests/rig/run-guest.sh "$B/initrd-$tag.gz" "$B/guest-$tag-$g.log" &
	done
	wait
	for g in "$@"; do vcn_collect "$B/guest-$tag-$g.log" "$tag/$g"; done
}
[ -f "$ko61" ] && guest "deb-$KREL" "$KREL" "$VMLINUX" "" "$ko61" deploy
[ -n "$k12" ] && [ -f "$ko612" ] && guest "deb-$k12" "$k12" "$kernel12" "$modroot12" "$ko612" suite deploy

# ---- 5. remove it ----
# purged TAG: apt-get purge, and nothing of the package is left
purged() {
	step "[$1] apt-get purge removes the package" in_root "apt-get purge -y vfio-cdev-noiommu-dkms"
	step "[$1] purge leaves no module, no dkms tree, no source, no tool" sh -c "\
		! find $R/lib/modules $R/usr/lib/modules -name 'vfio_cdev_noiommu.ko*' 2>/dev/null | grep -q . && \
		[ ! -e $R/var/lib/dkms/vfio_cdev_noiommu ] && [ ! -e $R/usr/src/vfio_cdev_noiommu-$ver ] && \
		[ ! -e $R/usr/sbin/vfio-noiommu-bind ] && [ ! -e $R/usr/lib/udev/rules.d/70-vfio-cdev-noiommu.rules ]"
}
purged bookworm

# ---- 6. Debian 13: its stock kernel, then another ABI of it ----
# trixie's newest kernel (the one a fresh trixie installs, fetched for the
# matrix's "13" row), the package on a clean trixie with its headers, that
# kernel booted with what dkms built; then the headers of the other ABI
# trixie offers (a kernel upgrade in reverse: dkms must build for it too)
if scripts/fetch-kernel.sh 13 "$B/env-13" >"$B/fetch-13.log" 2>&1 && k13=$(. "$B/env-13"; echo "$KREL") &&
	clean_system trixie "$k13"; then
	ok "[trixie] a clean trixie with linux-headers-$k13, and no dkms, no module"
	cp "$deb" "$R/tmp/"
	step "[trixie] apt-get install ./$(basename "$deb") on the clean system" \
		in_root "apt-get -qq update && apt-get install -y /tmp/$(basename "$deb")"
	ko13=$(ls "$R/lib/modules/$k13/updates/dkms/vfio_cdev_noiommu.ko"* "$R/usr/lib/modules/$k13/updates/dkms/vfio_cdev_noiommu.ko"* 2>/dev/null | head -n1)
	step "[trixie] its postinst built and installed the module for $k13 through dkms (gcc-14)" has_ko "$ko13" "$k13"
	case $ko13 in
	*.xz) mkdir -p "$B/ko-13" && xz -dc "$ko13" >"$B/ko-13/vfio_cdev_noiommu.ko" && ko13=$B/ko-13/vfio_cdev_noiommu.ko ;;
	*.zst) mkdir -p "$B/ko-13" && zstd -qdc "$ko13" >"$B/ko-13/vfio_cdev_noiommu.ko" && ko13=$B/ko-13/vfio_cdev_noiommu.ko ;;
	esac
	step "[trixie] the module's vermagic is $k13" sh -c "[ \"\$(modinfo -F vermagic $ko13 | cut -d' ' -f1)\" = $k13 ]"
	[ -f "$ko13" ] && guest "deb13-$k13" "$k13" "$(. "$B/env-13"; echo "$KERNEL")" "$(. "$B/env-13"; echo "$MODROOT")" "$ko13" deploy
	# the other ABI: the newest trixie headers package that is not k13's
	other=$(in_root "apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb13-amd64\$'" |
		awk '{print $1}' | sed 's/^linux-headers-//' | grep -vxF "$k13" | sort -V | tail -n1)
	if [ -n "$other" ]; then
		step "[trixie] another kernel ABI: apt-get install linux-headers-$other" \
			in_root "apt-get install -y linux-headers-$other"
		cp "$B/step.log" "$B/abi-13.log"
		koo=$(ls "$R/lib/modules/$other/updates/dkms/vfio_cdev_noiommu.ko"* "$R/usr/lib/modules/$other/updates/dkms/vfio_cdev_noiommu.ko"* 2>/dev/null | head -n1)
		step "[trixie] its dkms hook built and installed the module for $other" has_ko "$koo" "$other"
		step "[trixie] the install's log shows dkms building for $other" \
			grep -q "Autoinstall on $other succeeded for module(s) vfio_cdev_noiommu" "$B/abi-13.log"
		step "[trixie] that module's vermagic is $other" sh -c "[ \"\$(modinfo -F vermagic $koo | cut -d' ' -f1)\" = $other ]"
	else	# the archive's state, not the package's: said, not failed
		echo "# SKIP - [trixie] the dkms rebuild on another kernel ABI: trixie offers only $k13 now" | tee -a "$results"
	fi
	purged trixie
else
	notok "[trixie] a clean trixie with the headers of its newest kernel"; tail -n 20 "$B/fetch-13.log" | sed 's/^/#   /'
fi
rm -rf "$R"
summary
