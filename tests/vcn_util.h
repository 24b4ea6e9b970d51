/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcn_util.h - helpers shared by the test programs and the demo: finding a
 * bound device's node the way upstream tools do (through sysfs), opening the
 * context, and thin wrappers over the ioctls.
 */
#ifndef VCN_UTIL_H
#define VCN_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vfio_cdev_noiommu.h"

/* the context node the module serves, as its sysfs parameter says */
static inline const char *vcn_ictx_node(void)
{
	static char path[128];
	FILE *f = fopen("/sys/module/vfio_cdev_noiommu/parameters/iommufd_node", "r");

	if (!f || !fgets(path, sizeof(path), f))
		strcpy(path, "/dev/iommu");
	if (f)
		fclose(f);
	path[strcspn(path, "\n")] = 0;
	return path;
}

/*
 * The PCI function with this vendor:device and the lowest BDF, as
 * "0000:00:01.0": sysfs lists a directory in hash order, not BDF order, and
 * the rig has several functions of one kind, so "first" must not depend on
 * how the names hash.
 */
static inline const char *vcn_find_bdf(unsigned int vendor, unsigned int device)
{
	static char bdf[256];
	struct dirent *de;
	DIR *d = opendir("/sys/bus/pci/devices");
	int found = 0;

	while (d && (de = readdir(d))) {
		char p[300];
		unsigned int v = 0, dv = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%x", &v) != 1)
			v = 0;
		fclose(f);
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%x", &dv) != 1)
			dv = 0;
		fclose(f);
		if (v == vendor && dv == device &&
		    (!found || strcmp(de->d_name, bdf) < 0)) {
			snprintf(bdf, sizeof(bdf), "%s", de->d_name);
			found = 1;
		}
	}
	if (d)
		closedir(d);
	return found ? bdf : NULL;
}

/*
 * /dev/vfio/devices/<name> of a bound device, found as upstream tools do:
 * /sys/bus/pci/devices/<BDF>/vfio-dev/<name>/dev holds "major:minor".
 * Checks that the node there really is that device number.
 */
static inline const char *vcn_dev_node(const char *bdf)
{
	static char node[300];
	char dir[200], p[600];
	unsigned int maj, min;
	struct dirent *de;
	struct stat st;
	DIR *d;
	FILE *f;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			break;
	if (!de) {
		closedir(d);
		return NULL;
	}
	snprintf(p, sizeof(p), "%s/%s/dev", dir, de->d_name);
	snprintf(node, sizeof(node), "/dev/vfio/devices/%s", de->d_name);
	closedir(d);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	if (fscanf(f, "%u:%u", &maj, &min) != 2)
		maj = min = ~0u;
	fclose(f);
	if (stat(node, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		return NULL;
	return node;
}

/* the sysfs driver of @bdf ("none" if unbound) */
static inline const char *vcn_driver_of(const char *bdf)
{
	static char buf[256];
	char p[128];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0)
		return "none";
	buf[n] = 0;
	return strrchr(buf, '/') + 1;
}

/* one write of @val to a sysfs file (bind, unbind, driver_override...) */
static inline int vcn_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

static inline int vcn_ioas_alloc(int ctx, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int r = ioctl(ctx, IOMMU_IOAS_ALLOC, &a);

	*id = a.out_ioas_id;
	return r;
}

static inline int vcn_destroy(int ctx, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(ctx, IOMMU_DESTROY, &d);
}

static inline int vcn_bind(int dev, int ctx, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b), .iommufd = ctx,
	};
	int r = ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (devid)
		*devid = b.out_devid;
	return r;
}

static inline int vcn_attach(int dev, uint32_t id, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a), .pt_id = id,
	};
	int r = ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (pt_id)
		*pt_id = a.pt_id;
	return r;
}

static inline int vcn_detach(int dev)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

/* a counter of the module's debugfs stats ("pinned_pages" ...), -1 if absent */
static inline long long vcn_stat(const char *name)
{
	char key[64];
	long long v, found = -1;
	FILE *f = fopen("/sys/kernel/debug/vfio_cdev_noiommu/stats", "r");

	while (f && fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/* VmPin of this process in kB (pages pinned for DMA), -1 if unknown */
static inline long vcn_vmpin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * A test that stopped making progress: print every thread's kernel stack
 * and ask the kernel (sysrq-w) to log its blocked tasks, then carry on.
 */
static inline void vcn_dump_stacks(const char *why)
{
	char p[300], line[256];
	struct dirent *de;
	DIR *d;
	FILE *f;

	printf("# %s; kernel stacks:\n", why);
	d = opendir("/proc/self/task");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/stack", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		printf("#  task %s:\n", de->d_name);
		while (fgets(line, sizeof(line), f))
			printf("#    %s", line);
		fclose(f);
	}
	if (d)
		closedir(d);
	f = fopen("/proc/sysrq-trigger", "w");	/* blocked tasks to dmesg */
	if (f) {
		fputs("w", f);
		fclose(f);
	}
}

/*
 * A count for a test program: argv[idx] if given, else the environment
 * variable @env, else @def; clamped to [lo, hi].
 */
static inline int vcn_int_arg(int argc, char **argv, int idx, const char *env,
			      int def, int lo, int hi)
{
	const char *s = argc > idx ? argv[idx] : getenv(env);
	int v = s ? atoi(s) : def;

	return v < lo ? lo : v > hi ? hi : v;
}

#endif /* VCN_UTIL_H */
