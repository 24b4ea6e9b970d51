#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deb-suite.sh SUITE update | download DIR PKG... | extract DIR PKG... |
#              version PKG | uri
#   Reads another Debian suite (bookworm-backports, trixie-backports, ...)
#   through a private apt state: the machine's apt sources, preferences and
#   installed packages are never touched, and nothing is installed. The
#   archive address is taken from the machine's own apt sources (for a
#   *-security suite, the security archive's address there). `extract`
#   downloads and unpacks with dpkg-deb -x; `version` prints the version
#   `download` would fetch; `uri` prints the archive address (debootstrap
#   and a chroot's own sources use it). Cache: $VCN_CACHE/deb-suite.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '3,12p' "$0"; exit 2; }
suite=$1 cmd=$2
shift 2
root=${VCN_CACHE:-/var/cache/vfio-cdev-noiommu}/deb-suite/$suite
# the security archive serves only the *-security suites, the main one the rest
case $suite in *-security) want='~' ;; *) want='!~' ;; esac
uri=$(awk "/^URIs:/ && \$2 $want /security/ {print \$2; exit}" /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk "/^deb / && \$2 $want /security/ {print \$2; exit}" /etc/apt/sources.list 2>/dev/null || true)
[ -n "$uri" ] || { echo "deb-suite: no Debian archive address for $suite in the apt sources" >&2; exit 1; }
[ "$cmd" != uri ] || { echo "$uri"; exit 0; }
mkdir -p "$root/lists/partial" "$root/archives/partial" "$root/etc/preferences.d" "$root/etc/sources.list.d"
# one apt at a time per suite: CI fetches kernels in the background while
# make check reads the same suites, and apt's own list lock fails, not waits
exec 9>"$root/.vcn-lock"
flock 9
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" >"$root/etc/sources.list"
: >"$root/status"
apt_opts=(-o Dir::Etc="$root/etc" -o Dir::Etc::SourceList="$root/etc/sources.list"
	-o Dir::Etc::SourceParts="$root/etc/sources.list.d" -o Dir::Etc::PreferencesParts="$root/etc/preferences.d"
	-o Dir::State::Lists="$root/lists" -o Dir::State::status="$root/status"
	-o Dir::Cache="$root" -o Dir::Cache::archives="$root/archives" -o APT::Sandbox::User=root)
fresh() { [ -n "$(find "$root/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; }
case $cmd in
update) fresh || apt-get -qq "${apt_opts[@]}" update ;;
version)
	fresh || apt-get -qq "${apt_opts[@]}" update
	v=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$1" 2>/dev/null |
		awk '/^Version:/ {print $2; exit}') || true
	[ -n "$v" ] || { echo "deb-suite: $suite has no package $1" >&2; exit 1; }
	echo "$v" ;;
download|extract)
	dir=$1; shift
	mkdir -p "$dir"
	fresh || apt-get -qq "${apt_opts[@]}" update
	(cd "$dir" && apt-get -qq "${apt_opts[@]}" download "$@")
	if [ "$cmd" = extract ]; then
		for p in "$@"; do dpkg-deb -x "$(ls "$dir/${p}"_*.deb | sort -V | tail -n1)" "$dir/root"; done
	fi ;;
*) echo "deb-suite: unknown command '$cmd'" >&2; exit 2 ;;
esac
