#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fetch-kernel.sh KSPEC [OUTFILE]
#   Makes a Debian kernel ready to build the module for and to boot in the
#   QEMU rig, and prints (or writes to OUTFILE) shell assignments:
#     KREL=          its release
#     KDIR=          its kbuild tree (a path inside the chroot when BUILD_WRAPPER is set)
#     KERNEL=        an ELF vmlinux (or the bzImage) for tests/rig/run-guest.sh
#     MODROOT=       a dir whose lib/modules/KREL has its modules (vfio-pci, ...)
#     BUILD_WRAPPER= command prefix that runs a build in the kernel's chroot, or empty
#     KMODS=         the modules its module root was made with
#     SUITE=         the Debian suite it came from
#   KSPEC: 6.1 6.1-rt 6.1-cloud (the machine's own suite), 6.12 6.12-rt
#   (bookworm-backports), 6.12-deb12 (Debian 12's security-updated 6.12, the
#   linux-6.12 source in bookworm-security), 13 13-rt (Debian 13's stock
#   6.12, the newer of trixie and trixie-security), 7.3 (trixie-backports),
#   5.10 (Debian 11's, the newer of bullseye and bullseye-security: built
#   in a bullseye chroot with gcc-10), distro and upstream (built here by
#   scripts/build-kernel.sh: Debian 12's 6.12 configured like Ubuntu's,
#   Fedora's and RHEL's kernels, with their own iommufd; Debian's 7.3 with
#   upstream's own cdev no-IOMMU, the reference of `make bench`).
#   Trixie's kbuild needs trixie's glibc and gcc-14: its headers are
#   unpacked into a trixie chroot made with debootstrap. Always the newest
#   ABI the suites offer now: nothing is pinned.
#   fetch-kernel.sh search SUITE REGEX: package names of another suite.
# Nothing is installed from another suite: .debs are unpacked with dpkg-deb -x
# under $VCN_CACHE (default /var/cache/vfio-cdev-noiommu)/kernels/; a second
# run reuses them. Runs as root, non-interactive. Env: VCN_KMODS (modules and
# their dependencies made loadable by busybox insmod, default "vfio-pci nvme
# pci-pf-stub aer_inject"; those the kernel lacks are left out),
# VCN_REFRESH=1 (redo even if cached).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}
export VCN_CACHE=$cache
log() { echo "fetch-kernel: $*" >&2; }
die() { log "$*"; exit 1; }
[ $# -ge 1 ] || { sed -n '3,20p' "$0" >&2; exit 2; }

# apt-cache over another suite, through deb-suite.sh's private apt state
suite_cache() {
	local root=$cache/deb-suite/$1; shift
	apt-cache -o Dir::Etc="$root/etc" -o Dir::Etc::SourceList="$root/etc/sources.list" \
		-o Dir::Etc::SourceParts="$root/etc/sources.list.d" \
		-o Dir::Etc::PreferencesParts="$root/etc/preferences.d" \
		-o Dir::State::Lists="$root/lists" -o Dir::State::status="$root/status" \
		-o Dir::Cache="$root" "$@"
}
# aq SUITE apt-cache-args...: SUITE "host" is the machine's own apt state
aq() { local s=$1; shift; if [ "$s" = host ]; then apt-cache "$@"; else suite_cache "$s" "$@"; fi; }
# newest package name matching the extended regex
newest() { aq "$1" search --names-only "$2" | awk '{print $1}' | grep -E "$2" | sort -V | tail -n1; }
# newest_of REGEX SUITE...: "SUITE PACKAGE" for the newest match in any SUITE
newest_of() {
	local re=$1 s p; shift
	for s in "$@"; do
		"$here/deb-suite.sh" "$s" update >&2
		p=$(newest "$s" "$re")
		[ -n "$p" ] && echo "$p $s"
	done | sort -V | tail -n1 | awk '{print $2, $1}'
}
# a package's direct dependencies that are kernel build pieces
kdeps() {
	aq "$1" show "$2" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1 | tr ',|' '\n\n' |
		awk '{print $1}' | grep -E '^linux-(headers|kbuild|base)-' | sort -u
}
# fetch SUITE DIR PKG...: download (cached) and unpack into DIR/root
fetch() {
	local s=$1 dir=$2 p f; shift 2
	mkdir -p "$dir/debs" "$dir/root"
	for p in "$@"; do
		f=$(ls "$dir/debs/${p}"_*.deb 2>/dev/null | sort -V | tail -n1 || true)
		if [ -z "$f" ]; then
			if [ "$s" = host ]; then (cd "$dir/debs" && apt-get -qq download "$p") >&2
			else "$here/deb-suite.sh" "$s" download "$dir/debs" "$p" >&2; fi
			f=$(ls "$dir/debs/${p}"_*.deb | sort -V | tail -n1)
		fi
		log "unpack $(basename "$f")"
		dpkg-deb -x "$f" "$dir/root"
	done
}
# absolute symlinks and the Makefile include point at /usr/...: make them resolve in ROOT
fixup_tree() {
	local root=$1 l t
	find "$root" -type l -lname '/*' | while read -r l; do
		t=$(readlink "$l"); ln -sfn "$root$t" "$l"
	done
	for t in "$root"/usr/src/linux-headers-*/Makefile; do
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$t"
	done
}
# the kernel image: an ELF vmlinux when it can be unpacked, else the bzImage
mk_kernel() {
	local vmlinuz=$1 out=$2
	[ -s "$out" ] && [ "$out" -nt "$vmlinuz" ] && { echo "$out"; return; }
	if "$top/tests/rig/extract-vmlinux.sh" "$vmlinuz" "$out" 2>/dev/null; then echo "$out"; return; fi
	# zstd (6.12+ Debian kernels): extract-vmlinux.sh knows xz and lz4 only
	local pos
	for pos in $(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$vmlinuz" | cut -d: -f1 | head -n 8); do
		tail -c +$((pos + 1)) "$vmlinuz" | zstd -qdc >"$out.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$out.tmp" | tail -c 3)" = ELF ]; then mv "$out.tmp" "$out"; echo "$out"; return; fi
	done
	rm -f "$out.tmp"
	log "no ELF vmlinux in $vmlinuz: booting the bzImage"; echo "$vmlinuz"
}
# mk_modroot SRCROOT KREL OUT: OUT/lib/modules/KREL with VCN_KMODS and their
# dependencies, decompressed (busybox insmod and init_module want plain .ko)
mk_modroot() {
	local src=$1 krel=$2 out=$3 m p rel
	local sm=$src/lib/modules/$krel om=$out/lib/modules/$krel
	[ -f "$sm/modules.dep" ] || depmod -b "$src" "$krel"
	if ! find "$sm/kernel" -name '*.ko.*' -print -quit | grep -q .; then echo "$src"; return; fi
	rm -rf "$out"; mkdir -p "$om"
	cp "$sm"/modules.order "$sm"/modules.builtin* "$om/" 2>/dev/null || true
	for m in $kmods; do
		{ modprobe -d "$src" -S "$krel" --show-depends "$m" 2>/dev/null || true; } |
			awk '$1=="insmod"{print $2}'
	done | sort -u | while read -r p; do
		rel=${p#"$sm"/}; mkdir -p "$om/$(dirname "$rel")"
		case $p in
		*.xz) xz -dc "$p" >"$om/${rel%.xz}" ;;
		*.zst) zstd -qdc "$p" >"$om/${rel%.zst}" ;;
		*.gz) gzip -dc "$p" >"$om/${rel%.gz}" ;;
		*) cp "$p" "$om/$rel" ;;
		esac
	done
	sed -i 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$om/modules.order"
	depmod -b "$out" "$krel"
	echo "$out"
}

# into_chroot DIR: DIR's tree copied over the chroot, whose /lib may be a
# symlink to usr/lib (merged /usr) where the packages ship a real /lib
into_chroot() { (cd "$1" && tar cf - .) | (cd "$chroot_dir" && tar xf - --keep-directory-symlink); }

# ---- a chroot of another suite for a kbuild that needs its glibc and gcc ----
# mk_chroot SUITE: $cache/chroot-SUITE (trixie: gcc-14 for 6.12+deb13 and
# 7.3; bullseye: gcc-10 for 5.10), made once with debootstrap; sets chroot_dir
mk_chroot() {
	local suite=$1 tools
	case $suite in
	trixie) tools="gcc-14 make libc6-dev libelf1t64 sparse dwarves kmod xz-utils" ;;
	bullseye) tools="gcc-10 make libc6-dev libelf1 sparse dwarves kmod xz-utils" ;;
	esac
	chroot_dir=$cache/chroot-$suite
	if [ -f "$chroot_dir/.vcn-ready" ]; then
		# pahole (dwarves): kbuild makes module BTF with it when the headers ship vmlinux
		[ -x "$chroot_dir/usr/bin/pahole" ] && [ -x "$chroot_dir/usr/bin/sparse" ] && return
		log "installing $tools in the chroot (its own apt state)"
		chroot "$chroot_dir" sh -c "apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tools" >&2
		return
	fi
	command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
	local uri
	uri=$("$here/deb-suite.sh" "$suite" uri) || die "no Debian archive address in the apt sources"
	rm -rf "$chroot_dir"
	log "debootstrap $suite into $chroot_dir (once)"
	debootstrap --variant=minbase --include="$(echo $tools | tr ' ' ,)" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$suite" "$chroot_dir" "$uri" >&2 ||
		die "debootstrap failed (log: $chroot_dir/debootstrap/debootstrap.log)"
	# the wrapper: run a command in the chroot, in the caller's directory
	# (bind-mounted at the same path in a private mount namespace)
	cat >"$chroot_dir/.vcn-run" <<-'SH'
	#!/bin/sh
	# .vcn-run CMD...: run CMD inside this chroot, in the current directory
	root=$(dirname "$(readlink -f "$0")")
	exec unshare -m --propagation private sh -c '
		r=$1 d=$2; shift 2
		mkdir -p "$r$d" && mount --bind "$d" "$r$d" && mount -t proc proc "$r/proc" || exit 1
		exec chroot "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$d" "$@"' - "$root" "$(pwd)" "$@"
	SH
	chmod +x "$chroot_dir/.vcn-run"
	touch "$chroot_dir/.vcn-ready"
}

cmd=$1; out=${2:-}
if [ "$cmd" = search ]; then
	[ $# -eq 3 ] || die "usage: fetch-kernel.sh search SUITE REGEX"
	"$here/deb-suite.sh" "$2" update >&2
	suite_cache "$2" search --names-only "$3"; exit
fi
kspec=$cmd
kc=$cache/kernels/$kspec
# the suites' modules: the first two are needed, the others where the
# kernel has them (6.12 and later have no aer_inject)
kmods=${VCN_KMODS:-vfio-pci nvme pci-pf-stub aer_inject}
# cached: the kernel, and every module of VCN_KMODS in its module root
cached() {
	(. "$kc/env" && [ -e "$KERNEL" ] && [ -d "$MODROOT/lib/modules/$KREL" ] &&
		[ "${KMODS:-}" = "$kmods" ] && [ -n "${SUITE:-}" ] &&
		for m in vfio-pci nvme; do modprobe -d "$MODROOT" -S "$KREL" --show-depends "$m" >/dev/null 2>&1 || exit 1; done)
}
# reuse KREL: done, if the cache holds exactly KREL, the newest the suite
# offers now (a new ABI in the archive is fetched, never an old one reused)
reuse() {
	[ -z "${VCN_REFRESH:-}" ] && [ -s "$kc/env" ] && [ "$(. "$kc/env" && echo "$KREL")" = "$1" ] && cached || return 0
	if [ -n "$out" ]; then cp "$kc/env" "$out"; else cat "$kc/env"; fi
	exit 0
}
mkdir -p "$kc"
wrapper= s=bookworm
case $kspec in
6.1)
	krel=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' |
		grep -Ev -- '-(rt|cloud)-amd64$' | sort -V | while read -r r; do
		[ -e "/boot/vmlinuz-$r" ] && echo "$r"; done | tail -n1)
	[ -n "$krel" ] || die "no installed Debian 6.1 kernel with headers (apt-get install linux-image-amd64 linux-headers-amd64)"
	reuse "$krel"
	kdir=/usr/src/linux-headers-$krel
	kernel=$(mk_kernel "/boot/vmlinuz-$krel" "$cache/vmlinux-$krel")
	modroot=/ ;;
6.1-rt|6.1-cloud)
	flav=${kspec#6.1-}-amd64
	hdr=$(aq host depends "linux-headers-$flav" 2>/dev/null | awk '/Depends: linux-headers-/{print $2; exit}')
	[ -n "$hdr" ] || die "no linux-headers-$flav in the machine's apt lists (apt-get update?)"
	krel=${hdr#linux-headers-}
	reuse "$krel"
	rm -rf "$kc/root"
	fetch host "$kc" "linux-image-$krel" "$hdr" $(kdeps host "$hdr")
	fixup_tree "$kc/root"
	kdir=$kc/root/usr/src/linux-headers-$krel
	kernel=$(mk_kernel "$kc/root/boot/vmlinuz-$krel" "$kc/vmlinux-$krel")
	modroot=$(mk_modroot "$kc/root" "$krel" "$kc/modroot") ;;
6.12|6.12-rt|6.12-deb12)
	# bookworm-backports' 6.12, or Debian 12's own linux-6.12 (security)
	case $kspec in
	6.12-deb12) suites=bookworm-security flav=amd64 ;;
	*) suites=bookworm-backports flav=${kspec#6.12}; flav=${flav#-}; flav=${flav:+$flav-}amd64 ;;
	esac
	set -- $(newest_of "^linux-headers-6\.12\.[0-9]+\+deb[0-9.]+-$flav\$" $suites)
	[ $# = 2 ] || die "no 6.12 $flav headers in $suites"
	s=$1 hdr=$2 krel=${2#linux-headers-}
	reuse "$krel"
	img=linux-image-$krel-unsigned
	aq "$s" show "$img" >/dev/null 2>&1 || img=linux-image-$krel
	rm -rf "$kc/root"
	fetch "$s" "$kc" "$img" "$hdr" $(kdeps "$s" "$hdr")
	fixup_tree "$kc/root"
	kdir=$kc/root/usr/src/linux-headers-$krel
	kernel=$(mk_kernel "$kc/root/boot/vmlinuz-$krel" "$kc/vmlinux-$krel")
	modroot=$(mk_modroot "$kc/root" "$krel" "$kc/modroot") ;;
13|13-rt|5.10)
	# Debian 13's own 6.12 (gcc-14), Debian 11's 5.10 (gcc-10): the
	# newer of the release and its security suite, built in its chroot
	case $kspec in
	5.10) cs=bullseye re='^linux-headers-5\.10\.0-[0-9]+-amd64$' ;;
	*) cs=trixie flav=${kspec#13}; flav=${flav#-}; flav=${flav:+$flav-}amd64
		re="^linux-headers-6\.12\.[0-9]+\+deb13-$flav\$" ;;
	esac
	set -- $(newest_of "$re" $cs $cs-security)
	[ $# = 2 ] || die "no $kspec headers in $cs or $cs-security"
	s=$1 hdr=$2 krel=${2#linux-headers-}
	reuse "$krel"
	mk_chroot $cs
	img=linux-image-$krel-unsigned
	aq "$s" show "$img" >/dev/null 2>&1 || img=linux-image-$krel
	rm -rf "$kc/root" "$kc/hdr"
	fetch "$s" "$kc" "$img"
	fetch "$s" "$kc/hdr" "$hdr" $(kdeps "$s" "$hdr")
	into_chroot "$kc/hdr/root"
	kdir=/usr/src/linux-headers-$krel
	[ -d "$chroot_dir$kdir" ] || die "headers did not land in the chroot"
	mr=$kc/root; [ -d "$mr/lib/modules/$krel" ] || mr=$kc/root/usr
	vmlinuz=$kc/root/boot/vmlinuz-$krel
	[ -f "$vmlinuz" ] || die "no vmlinuz in $img"
	kernel=$(mk_kernel "$vmlinuz" "$kc/vmlinux-$krel")
	modroot=$(mk_modroot "$mr" "$krel" "$kc/modroot")
	wrapper=$chroot_dir/.vcn-run ;;
7.3)
	s=trixie-backports; flav=amd64
	"$here/deb-suite.sh" "$s" update >&2
	hdr=$(newest "$s" "^linux-headers-7\.3\.[0-9]+\+deb[0-9.]+-$flav\$")
	[ -n "$hdr" ] || die "no 7.3 $flav headers in $s"
	krel=${hdr#linux-headers-}
	reuse "$krel"
	mk_chroot trixie
	# image, base and modules on the host side (booted, packed into the initramfs)
	rm -rf "$kc/root"
	fetch "$s" "$kc" "linux-binary-$krel" "linux-modules-$krel" "linux-base-$krel"
	# headers and kbuild unpacked inside the chroot, where their paths are right
	fetch "$s" "$kc/hdr" "$hdr" $(kdeps "$s" "$hdr")
	into_chroot "$kc/hdr/root"
	kdir=/usr/src/linux-headers-$krel
	[ -d "$chroot_dir$kdir" ] || die "headers did not land in the chroot"
	# merged /usr: the image is /usr/lib/modules/KREL/vmlinuz, modules under /usr/lib
	mr=$kc/root; [ -d "$mr/lib/modules/$krel" ] || mr=$kc/root/usr
	vmlinuz=$mr/lib/modules/$krel/vmlinuz; [ -f "$vmlinuz" ] || vmlinuz=$kc/root/boot/vmlinuz-$krel
	[ -f "$vmlinuz" ] || die "no vmlinuz in linux-binary-$krel"
	kernel=$(mk_kernel "$vmlinuz" "$kc/vmlinux-$krel")
	modroot=$(mk_modroot "$mr" "$krel" "$kc/modroot")
	wrapper=$chroot_dir/.vcn-run ;;
distro|upstream)
	# built here (scripts/build-kernel.sh, cached by its own key): distro,
	# Debian 12's 6.12 configured as Ubuntu's, Fedora's and RHEL's kernels
	# are (their own iommufd and vfio cdev); upstream, Debian's 7.3 with
	# upstream's own cdev no-IOMMU (the reference of `make bench`)
	case $kspec in distro) s=bookworm-security ;; *) s=trixie-backports ;; esac
	dk=$("$top/scripts/build-kernel.sh" "$kspec") || die "the $kspec kernel did not build"
	krel=$(cat "$dk/include/config/kernel.release")
	kdir=$dk
	kernel=$dk/arch/x86/boot/bzImage
	modroot=$(mk_modroot "$dk/modroot" "$krel" "$kc/modroot") ;;
*) die "unknown KSPEC '$kspec' (5.10 6.1 6.1-rt 6.1-cloud 6.12 6.12-rt 6.12-deb12 13 13-rt 7.3 distro upstream)" ;;
esac
printf 'KREL=%s\nKDIR=%s\nKERNEL=%s\nMODROOT=%s\nBUILD_WRAPPER=%s\nKMODS="%s"\nSUITE=%s\n' \
	"$krel" "$kdir" "$kernel" "$modroot" "$wrapper" "$kmods" "$s" >"$kc/env.tmp"
mv "$kc/env.tmp" "$kc/env"
if [ -n "$out" ]; then cp "$kc/env" "$out"; else cat "$kc/env"; fi
