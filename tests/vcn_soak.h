/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcn_soak.h - what the two long-running tests (fuzz.c, stress.c) share:
 * a per-thread xorshift generator (seed it by assigning rs, never 0), TAP
 * lines for their end-of-run checks, and the check that a run left nothing
 * pinned, mapped or accounted behind. Include after vcn_dev.h.
 */
#ifndef VCN_SOAK_H
#define VCN_SOAK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static __thread uint64_t rs;

static inline uint64_t rnd64(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static int checks_failed;

/* one TAP line; a failed one makes the program exit non-zero */
static inline __attribute__((format(printf, 2, 3)))
void check(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(ok ? "ok - " : "not ok - ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	if (!ok)
		checks_failed++;
}

/* after the run: the module's counters and this process's VmPin are 0 */
static inline void check_nothing_left(const char *who)
{
	static const char *const names[] = { "pinned_pages", "areas",
					     "mapped_bytes", "table_bytes" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long long v = vcn_stat(names[i]);

		check(v == 0, "%s: debugfs %s back to 0 (%lld)", who, names[i], v);
	}
	check(vcn_vmpin_kb() == 0, "%s: VmPin of the %s process is 0 (%ld kB)",
	      who, who, vcn_vmpin_kb());
}

#endif
