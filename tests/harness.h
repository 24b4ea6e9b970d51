/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - a small test harness in the spirit of kselftest_harness.h.
 *
 * TEST(name) { ... } registers a test. Each test runs in a forked child, so
 * every fd it opened is closed by exit (closing is itself under test) and a
 * crash fails one test, not the run. Checks print what they checked; a
 * failed EXPECT marks the test failed and goes on, a failed ASSERT ends it.
 * Output is TAP: "ok N name" / "not ok N name", then "# N passed, N failed".
 */
#ifndef VCN_HARNESS_H
#define VCN_HARNESS_H

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct vcn_test {
	const char *name;
	void (*fn)(void);
};

#define VCN_MAX_TESTS 256
static struct vcn_test vcn_tests[VCN_MAX_TESTS];
static int vcn_ntests;
static int vcn_failed;		/* in the child: this test has failed */
static const char *vcn_cur;

#define TEST(t)								\
	static void test_##t(void);					\
	__attribute__((constructor)) static void reg_##t(void)		\
	{								\
		vcn_tests[vcn_ntests].name = #t;			\
		vcn_tests[vcn_ntests++].fn = test_##t;			\
	}								\
	static void test_##t(void)

#define VCN_REPORT(ok, fmt, ...)					\
	do {								\
		if (!(ok)) {						\
			vcn_failed = 1;					\
			printf("#   FAIL %s:%d: " fmt "\n", __FILE__,	\
			       __LINE__, ##__VA_ARGS__);		\
		} else if (getenv("VCN_VERBOSE")) {			\
			printf("#   pass: " fmt "\n", ##__VA_ARGS__);	\
		}							\
	} while (0)

/* expr must fail (-1 or NULL-ish negative) with errno == err */
#define EXPECT_ERRNO(err, expr)						\
	({								\
		errno = 0;						\
		long _r = (long)(expr);					\
		int _e = errno;						\
		VCN_REPORT(_r == -1 && _e == (err),			\
			   "%s -> %ld errno %d (%s), want %d (%s)", #expr, \
			   _r, _e, strerror(_e), (err), strerror(err));	\
		_r == -1 && _e == (err);				\
	})

#define EXPECT_OK(expr)							\
	({								\
		errno = 0;						\
		long _r = (long)(expr);					\
		int _e = errno;						\
		VCN_REPORT(_r >= 0, "%s -> %ld errno %d (%s)", #expr,	\
			   _r, _e, strerror(_e));			\
		_r >= 0;						\
	})

#define EXPECT_EQ(a, b)							\
	({								\
		unsigned long long _a = (a), _b = (b);			\
		VCN_REPORT(_a == _b, "%s == %s: %#llx vs %#llx", #a, #b, \
			   _a, _b);					\
		_a == _b;						\
	})

#define EXPECT_NE(a, b)							\
	({								\
		unsigned long long _a = (a), _b = (b);			\
		VCN_REPORT(_a != _b, "%s != %s: both %#llx", #a, #b, _a); \
		_a != _b;						\
	})

#define EXPECT_TRUE(c)	({ int _c = !!(c); VCN_REPORT(_c, "%s", #c); _c; })

#define ASSERT_OK(expr)		do { if (!EXPECT_OK(expr)) exit(1); } while (0)
#define ASSERT_TRUE(c)		do { if (!EXPECT_TRUE(c)) exit(1); } while (0)
#define ASSERT_EQ(a, b)		do { if (!EXPECT_EQ(a, b)) exit(1); } while (0)

/* the device a test runs on, named by the suite in environment variable @name */
static inline const char *vcn_env_bdf(const char *name)
{
	const char *b = getenv(name);

	ASSERT_TRUE(b && *b);
	return b;
}

/* Runs every test (or those matching argv patterns); returns failures. */
static int vcn_run_tests(int argc, char **argv)
{
	int i, j, n = 0, passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < vcn_ntests; i++) {
		int match = argc <= 1, status;
		pid_t pid;

		for (j = 1; j < argc; j++)
			match |= !fnmatch(argv[j], vcn_tests[i].name, 0);
		if (!match)
			continue;
		n++;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			vcn_cur = vcn_tests[i].name;
			vcn_tests[i].fn();
			fflush(stdout);
			_exit(vcn_failed);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			status = -1;
		if (status == 0) {
			passed++;
			printf("ok %d %s\n", n, vcn_tests[i].name);
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("#   killed by signal %d\n", WTERMSIG(status));
			printf("not ok %d %s\n", n, vcn_tests[i].name);
		}
	}
	printf("# %s: %d passed, %d failed\n", argv[0], passed, failed);
	return failed;
}

#endif /* VCN_HARNESS_H */
