#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench-peer.sh - the second half of `make bench`: the module against
# upstream 7.3's own cdev no-IOMMU, in one run. Three kernels boot in turn,
# A B C A B C ... (ROUNDS rounds, default 3), each running the same
# tests/peer_bench.c binary (upstream's uAPI only) with 4 vCPUs and 2 GiB:
#   upstream  Debian's linux-source-7.3 and config with the feature built in
#             (scripts/build-kernel.sh upstream), upstream's vfio-pci
#   7.3       Debian's 7.3 kernel (trixie-backports) with the module
#   6.1       Debian 12's stock kernel with the module
# Prints, per figure, each kernel's median, min and max over the rounds,
# and ours/upstream (medians, both on 7.3: only the feature's
# implementation differs); then the scaling table (throughput per thread
# relative to one thread; 1.0 is perfect). Absolute times under TCG mean
# nothing; the ratios measured in one run do. Not a test.
# Env: ROUNDS, VCN_BUILD (scratch, default /var/tmp/vcn-build).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
B=${VCN_BUILD:-/var/tmp/vcn-build}/peer
rm -rf "$B"; mkdir -p "$B"
scripts/install-deps.sh

echo "== the three kernels (the upstream one is built once, then cached)"
scripts/fetch-kernel.sh upstream "$B/env-upstream" >"$B/fetch-upstream.log" 2>&1 ||
	{ tail -n 30 "$B/fetch-upstream.log"; exit 1; }
scripts/fetch-kernel.sh 7.3 "$B/env-7.3" >"$B/fetch-7.3.log" 2>&1 ||
	{ tail -n 30 "$B/fetch-7.3.log"; exit 1; }
eval "$(tests/rig/stock-kernel.sh)"
printf 'KREL=%s\nKDIR=%s\nKERNEL=%s\nMODROOT=\nBUILD_WRAPPER=\n' \
	"$KREL" "/usr/src/linux-headers-$KREL" "$VMLINUX" >"$B/env-6.1"

gcc -static -O2 -pthread -Wall -Wextra -Werror -Iinclude -o "$B/peer_bench" tests/peer_bench.c
# initrd KSPEC: the module built for that kernel (none for upstream), the
# benchmark, the guest script
for k in upstream 7.3 6.1; do
	# shellcheck disable=SC1090
	. "$B/env-$k"
	ko=
	if [ "$k" != upstream ]; then
		mkdir -p "$B/ko-$k"
		cp -a src include scripts Kbuild Makefile dkms.conf "$B/ko-$k/"
		# shellcheck disable=SC2086
		(cd "$B/ko-$k" && $BUILD_WRAPPER make KDIR="$KDIR" modules) >"$B/ko-$k/build.log" 2>&1 ||
			{ tail -n 20 "$B/ko-$k/build.log"; exit 1; }
		ko=$B/ko-$k/vfio_cdev_noiommu.ko
	fi
	MODROOT=$MODROOT KMODS=$([ "$k" = upstream ] && echo vfio-pci) tests/rig/mkinitramfs.sh \
		"$B/initrd-$k.gz" "$KREL" $ko "$B/peer_bench" tests/guest/lib.sh tests/guest/peer.sh
	echo "KERNEL_$(echo "$k" | tr -d .)=$KERNEL" >>"$B/kernels"
	echo "#   $k: $KREL"
done
. "$B/kernels"

echo "== $ROUNDS rounds of upstream, 7.3, 6.1 (each boot about a minute)"
: >"$B/figures"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for k in upstream 7.3 6.1; do
		eval "kernel=\$KERNEL_$(echo "$k" | tr -d .)"
		log=$B/guest-$k-$r.log
		KERNEL=$kernel MEM=2G SMP=4 APPEND="SUITE=peer quiet" \
			tests/rig/run-guest.sh "$B/initrd-$k.gz" "$log" || true
		if ! grep -q '^VCN-GUEST-DONE rc=0' "$log"; then
			echo "bench-peer: $k round $r failed (log $log):"; grep -E '^(#|peer)' "$log" | tail -n 20
			exit 1
		fi
		grep '^peer: ' "$log" | sed "s/^peer: /$k $r /" >>"$B/figures"
	done
	echo "#   round $r done"
	r=$((r + 1))
done

# median, min and max of each kernel's values of each figure
awk '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1; f = $3; v[f, k, ++n[f, k]] = $4; unit[f] = $5; if (!(f in seen)) { seen[f] = 1; order[++nf] = f } }
END {
	printf "%-26s %-4s %26s %26s %26s %12s\n", "figure", "unit", "upstream 7.3 med (min-max)", "ours 7.3 med (min-max)", "ours 6.1 med (min-max)", "ours/upstream"
	for (i = 1; i <= nf; i++) {
		f = order[i]
		if (unit[f] == "x") continue
		line = sprintf("%-26s %-4s", f, unit[f])
		for (kk = 1; kk <= 3; kk++) {
			k = kk == 1 ? "upstream" : kk == 2 ? "7.3" : "6.1"
			m = n[f, k]; lo = hi = v[f, k, 1]
			for (j = 1; j <= m; j++) { a[j] = v[f, k, j]; if (a[j] < lo) lo = a[j]; if (a[j] > hi) hi = a[j] }
			md[k] = med(a, m)
			line = line sprintf(" %26s", sprintf("%.1f (%.1f-%.1f)", md[k], lo, hi))
		}
		printf "%s %12.2f\n", line, md["upstream"] ? md["7.3"] / md["upstream"] : 0
	}
	printf "\nscaling: throughput per thread relative to one thread (median over rounds; 1.0 is perfect)\n"
	printf "%-30s %10s %10s %10s\n", "figure", "upstream", "ours 7.3", "ours 6.1"
	for (i = 1; i <= nf; i++) {
		f = order[i]
		if (unit[f] != "x") continue
		line = sprintf("%-30s", f)
		for (kk = 1; kk <= 3; kk++) {
			k = kk == 1 ? "upstream" : kk == 2 ? "7.3" : "6.1"
			m = n[f, k]
			for (j = 1; j <= m; j++) a[j] = v[f, k, j]
			line = line sprintf(" %10.2f", med(a, m))
		}
		print line
	}
}' "$B/figures" | tee "$B/table"
echo "== figures of every boot in $B/figures, the table in $B/table"
