# SPDX-License-Identifier: GPL-2.0
# collect.sh - the one reader of a finished guest's console log, and the one
# count of a results file. Sourced by tests/run.sh, tests/matrix.sh and
# tests/package.sh (each had its own copy once, and they drifted). The
# sourcing script sets $results, its TAP file.
#
# A results file holds "ok - ..." and "not ok - ..." lines, and "# SKIP -
# [where] what: why" lines for checks a guest could not make: those are
# listed and counted as skipped, never as passes.

# a kernel splat on a guest's console: any of these fails the guest
VCN_SPLAT='^\[ *[0-9]+\.[0-9]+\] .*(BUG:|WARNING:|Oops|Call Trace|Kernel panic|general protection|UBSAN|KASAN|kmemleak:.*leak)'

vcn_result() { echo "$1 - $2" | tee -a "$results"; }

# vcn_collect LOG LABEL [nosplat]: the guest's TAP and SKIP lines, named
# "[LABEL] ...", into $results (and on stdout); its "#" diagnostics if any
# check failed; then two checks of the guest itself: it ran to the end
# (VCN-GUEST-DONE), and its console shows no kernel splat (not for a guest
# that provokes the kernel's own reports and filters them itself: nosplat).
vcn_collect() {
	log=$1 label=$2
	# the label as sed's replacement text: it holds slashes
	lab=$(printf '%s' "$label" | sed 's/[\/&]/\\&/g')
	grep -E '^(not )?ok ' "$log" | sed "s/^\(not ok\|ok\) [0-9-]* */\1 - [$lab] /" | tee -a "$results"
	grep -E '^# SKIP' "$log" | sed "s/^# SKIP -* */# SKIP - [$lab] /" | tee -a "$results"
	if grep -q '^not ok' "$log"; then
		grep -E '^#' "$log" | grep -v '^# SKIP' | sed "s/^/[$lab] /"
	fi
	if grep -q '^VCN-GUEST-DONE' "$log"; then
		vcn_result ok "[$label] guest ran to the end"
	else
		vcn_result "not ok" "[$label] guest ran to the end (crash, oops or timeout: see $log)"
		tail -n 60 "$log" | sed 's/^/#   /'
	fi
	[ "${3:-}" = nosplat ] && return 0
	if grep -E "$VCN_SPLAT" "$log" | head -n 20 | sed 's/^/#   /' | grep .; then
		vcn_result "not ok" "[$label] serial console shows no kernel splat"
	else
		vcn_result ok "[$label] serial console shows no kernel splat"
	fi
}

# vcn_summary: the skipped checks, then "N passed, N failed"; true if
# nothing failed and something passed
vcn_summary() {
	passed=$(grep -c '^ok ' "$results")
	failed=$(grep -c '^not ok ' "$results")
	skipped=$(grep -c '^# SKIP' "$results")
	if [ "$skipped" != 0 ]; then
		echo "== skipped ($skipped, not counted as passed):"
		grep '^# SKIP' "$results"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}
