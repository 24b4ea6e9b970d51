// SPDX-License-Identifier: GPL-2.0
/*
 * vcn_test.c - the in-guest uAPI suite: the context node's ioctl framework
 * and IOAS objects, and the device cdev's bind/attach/detach/info, positive
 * and negative, with upstream's errnos (see shared contract). Runs as root
 * against one bound device: VCN_BDF (default: the first QEMU edu device).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "harness.h"
#include "vcn_util.h"

static const char *bdf(void)
{
	const char *b = getenv("VCN_BDF");

	return b ? b : vcn_find_bdf(0x1234, 0x11e8);
}

static int open_ctx(void)
{
	int fd = open(vcn_ictx_node(), O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("#   cannot open %s: %s\n", vcn_ictx_node(), strerror(errno));
		exit(1);
	}
	return fd;
}

static int open_dev(void)
{
	const char *node = bdf() ? vcn_dev_node(bdf()) : NULL;
	int fd;

	if (!node) {
		printf("#   no noiommu node for %s\n", bdf() ? bdf() : "(no device)");
		exit(1);
	}
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("#   cannot open %s: %s\n", node, strerror(errno));
		exit(1);
	}
	return fd;
}

/* open + bind to a fresh context; returns the device fd */
static int bound_dev(int *ctx, uint32_t *devid)
{
	int dev = open_dev();

	*ctx = open_ctx();
	ASSERT_OK(vcn_bind(dev, *ctx, devid));
	return dev;
}

/* ---------------- context node: framework ---------------- */

TEST(ctx_node_is_named_in_sysfs)
{
	const char *want = getenv("VCN_EXPECT_CTX");
	struct stat st;

	/* /dev/iommu, unless the kernel has an iommufd of its own */
	EXPECT_TRUE(!strcmp(vcn_ictx_node(), want ? want : "/dev/iommu"));
	EXPECT_OK(stat(vcn_ictx_node(), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST(ioas_alloc_and_destroy)
{
	int ctx = open_ctx();
	uint32_t a, b;

	ASSERT_OK(vcn_ioas_alloc(ctx, &a));
	ASSERT_OK(vcn_ioas_alloc(ctx, &b));
	EXPECT_NE(a, 0);
	EXPECT_NE(a, b);
	EXPECT_OK(vcn_destroy(ctx, a));
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, a));
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, 0));
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, 0xffffffff));
	EXPECT_OK(vcn_destroy(ctx, b));
}

TEST(ioas_ids_are_per_context)
{
	int c1 = open_ctx(), c2 = open_ctx();
	uint32_t a;

	ASSERT_OK(vcn_ioas_alloc(c1, &a));
	EXPECT_ERRNO(ENOENT, vcn_destroy(c2, a));
	EXPECT_OK(vcn_destroy(c1, a));
}

TEST(ioas_alloc_flags_rejected)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a), .flags = 1 };
	int ctx = open_ctx();

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(ctx, IOMMU_IOAS_ALLOC, &a));
	a.flags = 0x80000000;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(ctx, IOMMU_IOAS_ALLOC, &a));
}

TEST(size_below_minimum_is_einval)
{
	struct { struct iommu_ioas_alloc a; uint8_t pad[64]; } buf = {};
	struct iommu_destroy d = {};
	int ctx = open_ctx();

	buf.a.size = 0;
	EXPECT_ERRNO(EINVAL, ioctl(ctx, IOMMU_IOAS_ALLOC, &buf));
	buf.a.size = offsetof(struct iommu_ioas_alloc, out_ioas_id) + 3;
	EXPECT_ERRNO(EINVAL, ioctl(ctx, IOMMU_IOAS_ALLOC, &buf));
	d.size = 7;
	EXPECT_ERRNO(EINVAL, ioctl(ctx, IOMMU_DESTROY, &d));
}

TEST(larger_size_needs_zero_tail)
{
	struct { struct iommu_ioas_alloc a; uint8_t pad[4084]; } buf = {};
	int ctx = open_ctx();

	buf.a.size = sizeof(buf);
	EXPECT_OK(ioctl(ctx, IOMMU_IOAS_ALLOC, &buf));
	EXPECT_NE(buf.a.out_ioas_id, 0);
	buf.pad[4083] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(ctx, IOMMU_IOAS_ALLOC, &buf));
	buf.pad[4083] = 0;
	buf.pad[0] = 0xff;
	EXPECT_ERRNO(E2BIG, ioctl(ctx, IOMMU_IOAS_ALLOC, &buf));
}

TEST(bad_pointer_is_efault)
{
	int ctx = open_ctx();

	EXPECT_ERRNO(EFAULT, ioctl(ctx, IOMMU_IOAS_ALLOC, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(ctx, IOMMU_DESTROY, (void *)8));
}

TEST(unimplemented_commands_fail)
{
	/* every ';' number we do not implement yet: never a silent success */
	static const unsigned int impl[] = { 0x80, 0x81, 0x84, 0x85, 0x86, 0x95 };
	uint8_t buf[256] = {};
	int ctx = open_ctx();
	unsigned int nr, i;

	*(uint32_t *)buf = sizeof(buf);
	for (nr = 0x70; nr < 0xb0; nr++) {
		int skip = 0;

		for (i = 0; i < sizeof(impl) / sizeof(impl[0]); i++)
			skip |= nr == impl[i];
		if (skip)
			continue;
		errno = 0;
		long r = ioctl(ctx, _IO(IOMMUFD_TYPE, nr), buf);

		VCN_REPORT(r == -1 && (errno == ENOTTY || errno == EOPNOTSUPP),
			   "cmd %#x -> %ld errno %d", nr, r, errno);
	}
	/* VFIO compat ioctls on the context: not offered */
	EXPECT_ERRNO(ENOTTY, ioctl(ctx, VFIO_GET_API_VERSION));
	/* an implemented number with another direction/size encoding */
	EXPECT_ERRNO(ENOTTY, ioctl(ctx, _IOW(IOMMUFD_TYPE, 0x81, uint64_t), buf));
}

/* ---------------- device cdev: open and privilege ---------------- */

static int drop_rawio_and_open(const char *node)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return -2;
	d[CAP_SYS_RAWIO / 32].effective &= ~(1u << (CAP_SYS_RAWIO % 32));
	if (syscall(SYS_capset, &h, d))
		return -2;
	return open(node, O_RDWR);
}

TEST(open_needs_cap_sys_rawio)
{
	const char *node = vcn_dev_node(bdf());

	ASSERT_TRUE(node);
	/* root without CAP_SYS_RAWIO: EPERM from the module */
	EXPECT_ERRNO(EPERM, drop_rawio_and_open(node));
}

/* open(node) as uid/gid 65534 in a child; returns the errno, 0 on success */
static int open_as_nobody(const char *node)
{
	int st, fd;
	pid_t pid = fork();

	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(255);
		fd = open(node, O_RDWR);
		_exit(fd >= 0 ? 0 : errno);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST(open_as_unprivileged_user)
{
	const char *node = vcn_dev_node(bdf());

	ASSERT_TRUE(node);
	/* node mode 0600 root: the VFS refuses first */
	EXPECT_EQ(open_as_nobody(node), EACCES);
	/* an admin widened the mode: the module still wants CAP_SYS_RAWIO */
	ASSERT_OK(chmod(node, 0666));
	EXPECT_EQ(open_as_nobody(node), EPERM);
	chmod(node, 0600);
}

TEST(everything_but_bind_fails_before_bind)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int dev = open_dev();

	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_ERRNO(EINVAL, vcn_attach(dev, 1, NULL));
	EXPECT_ERRNO(EINVAL, vcn_detach(dev));
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_RESET));
	EXPECT_ERRNO(EINVAL, ioctl(dev, _IO(VFIO_TYPE, VFIO_BASE + 99)));
}

/* ---------------- VFIO_DEVICE_BIND_IOMMUFD ---------------- */

TEST(bind_rejects_bad_arguments)
{
	struct { struct vfio_device_bind_iommufd b; uint8_t pad[16]; } x = {};
	int dev = open_dev(), ctx = open_ctx();
	int null = open("/dev/null", O_RDWR);

	x.b.argsz = sizeof(x.b);
	x.b.iommufd = -1;
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.iommufd = ctx;
	x.b.argsz = offsetof(struct vfio_device_bind_iommufd, out_devid);
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.argsz = sizeof(x.b);
	x.b.flags = 2;
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;	/* no VF token to match */
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.flags = 0;
	x.b.iommufd = null;				/* not our context */
	EXPECT_ERRNO(EBADFD, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.iommufd = dev;				/* nor a device */
	EXPECT_ERRNO(EBADFD, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.iommufd = 1000;				/* no such fd */
	EXPECT_ERRNO(EBADF, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	x.b.iommufd = ctx;
	x.b.argsz = sizeof(x);
	x.pad[3] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	EXPECT_ERRNO(EFAULT, ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, NULL));
	/* none of it bound the file */
	struct vfio_device_info info = { .argsz = sizeof(info) };

	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	/* and a correct bind still works afterwards, with a larger zeroed struct */
	x.pad[3] = 0;
	EXPECT_OK(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &x));
	EXPECT_NE(x.b.out_devid, 0);
}

TEST(bind_once_per_file_and_device)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t devid;
	int ctx, dev = bound_dev(&ctx, &devid);
	int dev2, ctx2 = open_ctx();

	EXPECT_NE(devid, 0);
	EXPECT_ERRNO(EINVAL, vcn_bind(dev, ctx, NULL));
	EXPECT_ERRNO(EINVAL, vcn_bind(dev, ctx2, NULL));
	/* a second file opens, but cannot bind or act */
	dev2 = open_dev();
	EXPECT_ERRNO(EINVAL, vcn_bind(dev2, ctx, NULL));
	EXPECT_ERRNO(EINVAL, vcn_bind(dev2, ctx2, NULL));
	EXPECT_ERRNO(EINVAL, ioctl(dev2, VFIO_DEVICE_GET_INFO, &info));
	/* the bound device object cannot be destroyed from under the file */
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, devid));
	EXPECT_OK(ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	/* once the first file is closed, the second can bind */
	close(dev);
	EXPECT_OK(vcn_bind(dev2, ctx2, NULL));
	EXPECT_OK(ioctl(dev2, VFIO_DEVICE_GET_INFO, &info));
}

/* ---------------- VFIO_DEVICE_GET_INFO ---------------- */

TEST(get_info)
{
	struct { struct vfio_device_info i; uint8_t pad[32]; } x = {};
	int ctx, dev = bound_dev(&ctx, NULL);

	x.i.argsz = sizeof(x.i);
	ASSERT_OK(ioctl(dev, VFIO_DEVICE_GET_INFO, &x));
	EXPECT_TRUE(x.i.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_TRUE(!(x.i.flags & VFIO_DEVICE_FLAGS_RESET));	/* edu has no reset */
	EXPECT_EQ(x.i.num_regions, VFIO_PCI_NUM_REGIONS);
	EXPECT_EQ(x.i.num_irqs, VFIO_PCI_NUM_IRQS);
	x.i.argsz = offsetof(struct vfio_device_info, num_irqs);
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_GET_INFO, &x));
	EXPECT_ERRNO(EFAULT, ioctl(dev, VFIO_DEVICE_GET_INFO, NULL));
}

/* ---------------- ATTACH / DETACH ---------------- */

TEST(attach_creates_hwpt_and_pins_ioas)
{
	uint32_t devid, ioas, pt;
	int ctx, dev = bound_dev(&ctx, &devid);

	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas));
	ASSERT_OK(vcn_attach(dev, ioas, &pt));
	EXPECT_NE(pt, ioas);		/* a page-table object of its own */
	EXPECT_NE(pt, devid);
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, ioas));
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, pt));
	EXPECT_OK(vcn_detach(dev));
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, pt));	/* went with the detach */
	EXPECT_OK(vcn_destroy(ctx, ioas));
}

TEST(attach_rejects_bad_ids_and_args)
{
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	uint32_t devid, ioas;
	int ctx, dev = bound_dev(&ctx, &devid);

	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas));
	EXPECT_ERRNO(ENOENT, vcn_attach(dev, 0, NULL));
	EXPECT_ERRNO(ENOENT, vcn_attach(dev, 12345, NULL));
	EXPECT_ERRNO(EINVAL, vcn_attach(dev, devid, NULL));	/* wrong type */
	a.pt_id = ioas;
	a.argsz = offsetof(struct vfio_device_attach_iommufd_pt, pt_id);
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	a.argsz = sizeof(a);
	a.flags = 2;
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	a.flags = VFIO_DEVICE_ATTACH_PASID;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	EXPECT_ERRNO(EFAULT, ioctl(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL));
	/* an IOAS of another context is unknown here */
	int ctx2 = open_ctx();
	uint32_t other;

	for (int i = 0; i < 10; i++)
		ASSERT_OK(vcn_ioas_alloc(ctx2, &other));
	EXPECT_ERRNO(ENOENT, vcn_attach(dev, other, NULL));
	/* nothing got attached: the IOAS is free to go */
	EXPECT_OK(vcn_destroy(ctx, ioas));
}

TEST(attach_by_hwpt_id_and_replace)
{
	uint32_t ioas1, ioas2, pt1, pt1b, pt2;
	int ctx, dev = bound_dev(&ctx, NULL);

	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas1));
	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas2));
	ASSERT_OK(vcn_attach(dev, ioas1, &pt1));
	/* attaching to the hwpt itself keeps it */
	ASSERT_OK(vcn_attach(dev, pt1, &pt1b));
	EXPECT_EQ(pt1b, pt1);
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, ioas1));
	/* attaching elsewhere replaces: the old IOAS is released */
	ASSERT_OK(vcn_attach(dev, ioas2, &pt2));
	EXPECT_NE(pt2, pt1);
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, pt1));
	EXPECT_OK(vcn_destroy(ctx, ioas1));
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, ioas2));
	EXPECT_OK(vcn_detach(dev));
	EXPECT_OK(vcn_destroy(ctx, ioas2));
}

TEST(detach_rejects_bad_args)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };
	int ctx, dev = bound_dev(&ctx, NULL);

	EXPECT_OK(vcn_detach(dev));	/* not attached: nothing to do */
	d.argsz = 4;
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	d.argsz = sizeof(d);
	d.flags = 4;
	EXPECT_ERRNO(EINVAL, ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	d.flags = VFIO_DEVICE_DETACH_PASID;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	EXPECT_ERRNO(EFAULT, ioctl(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, NULL));
}

/* ---------------- teardown in any order ---------------- */

TEST(close_context_first)
{
	uint32_t ioas, pt;
	int ctx, dev = bound_dev(&ctx, NULL);
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas));
	ASSERT_OK(vcn_attach(dev, ioas, &pt));
	close(ctx);		/* the bound device keeps the context alive */
	EXPECT_OK(ioctl(dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_OK(vcn_detach(dev));
	/* the detached hwpt went away with the detach */
	EXPECT_ERRNO(ENOENT, vcn_attach(dev, pt, NULL));
	close(dev);
	/* the device is free again */
	dev = open_dev();
	ctx = open_ctx();
	EXPECT_OK(vcn_bind(dev, ctx, NULL));
}

TEST(close_device_first_then_rebind)
{
	uint32_t ioas, pt, devid, devid2;
	int ctx, dev = bound_dev(&ctx, &devid);

	ASSERT_OK(vcn_ioas_alloc(ctx, &ioas));
	ASSERT_OK(vcn_attach(dev, ioas, &pt));
	close(dev);		/* unbinds and detaches */
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, devid));
	EXPECT_ERRNO(ENOENT, vcn_destroy(ctx, pt));
	/* a new file binds the same context and attaches the same IOAS */
	dev = open_dev();
	ASSERT_OK(vcn_bind(dev, ctx, &devid2));
	EXPECT_OK(vcn_attach(dev, ioas, NULL));
	EXPECT_ERRNO(EBUSY, vcn_destroy(ctx, ioas));
	close(dev);
	EXPECT_OK(vcn_destroy(ctx, ioas));
	close(ctx);
}

TEST(many_contexts_and_objects)
{
	int i, ctx[8];
	uint32_t id;

	for (i = 0; i < 8; i++) {
		ctx[i] = open_ctx();
		for (int j = 0; j < 200; j++)
			ASSERT_OK(vcn_ioas_alloc(ctx[i], &id));
	}
	EXPECT_TRUE(id >= 200);
	/* closing a context with live objects frees them (checked by rmmod) */
	for (i = 0; i < 8; i++)
		close(ctx[i]);
}

/* ---------------- PCI state on bind ---------------- */

static int cfg_rw(int write, unsigned int off, uint16_t *val)
{
	char p[200];
	int fd, r;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf());
	fd = open(p, O_RDWR);
	if (fd < 0)
		return -1;
	r = write ? pwrite(fd, val, 2, off) : pread(fd, val, 2, off);
	close(fd);
	return r == 2 ? 0 : -1;
}

TEST(bind_clears_bus_master)
{
	uint16_t cmd;
	int ctx, dev;

	ASSERT_OK(cfg_rw(0, 4, &cmd));
	cmd |= 0x4;		/* PCI_COMMAND_MASTER */
	ASSERT_OK(cfg_rw(1, 4, &cmd));
	ASSERT_OK(cfg_rw(0, 4, &cmd));
	ASSERT_TRUE(cmd & 0x4);
	dev = bound_dev(&ctx, NULL);
	ASSERT_OK(cfg_rw(0, 4, &cmd));
	EXPECT_TRUE(!(cmd & 0x4));
	/* and the user may set it again (through sysfs here, until regions exist) */
	cmd |= 0x4;
	ASSERT_OK(cfg_rw(1, 4, &cmd));
	close(dev);
	ASSERT_OK(cfg_rw(0, 4, &cmd));
	EXPECT_TRUE(!(cmd & 0x4));	/* closing takes DMA away */
}

int main(int argc, char **argv)
{
	if (!bdf()) {
		printf("Bail out! no test device (set VCN_BDF)\n");
		return 1;
	}
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
