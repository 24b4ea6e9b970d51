// SPDX-License-Identifier: GPL-2.0
/*
 * vcn_tool.c - small driver-side programs used by the demo and the tests.
 *
 *   vcn_tool info BDF           open the device's cdev, bind it to a context,
 *                               attach an IOAS, print what GET_INFO says
 *   vcn_tool openloop BDF SECS  open/bind/close the device in a loop (racing
 *                               binds and unbinds done by another process);
 *                               prints how many opens succeeded
 *   vcn_tool reqwait BDF SECS   open and bind the device, register a REQ
 *                               eventfd, print "ready", and close the device
 *                               when the kernel asks for it back (exit 0), or
 *                               exit 1 if no request came within SECS
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "vcn_util.h"

static int cmd_info(const char *bdf)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const char *node = vcn_dev_node(bdf);
	uint32_t devid, ioas, pt;
	int dev, ctx;

	if (!node) {
		fprintf(stderr, "%s: not bound to vfio-cdev-noiommu\n", bdf);
		return 1;
	}
	printf("device %s -> %s\n", bdf, node);
	dev = open(node, O_RDWR);
	ctx = open(vcn_ictx_node(), O_RDWR);
	if (dev < 0 || ctx < 0) {
		perror("open");
		return 1;
	}
	printf("context node %s\n", vcn_ictx_node());
	if (vcn_bind(dev, ctx, &devid)) {
		perror("VFIO_DEVICE_BIND_IOMMUFD");
		return 1;
	}
	printf("bound: devid %u\n", devid);
	if (vcn_ioas_alloc(ctx, &ioas) || vcn_attach(dev, ioas, &pt)) {
		perror("IOAS_ALLOC/ATTACH");
		return 1;
	}
	printf("attached: ioas %u, page table object %u\n", ioas, pt);
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &info)) {
		perror("VFIO_DEVICE_GET_INFO");
		return 1;
	}
	printf("GET_INFO: flags %#x (%s%s) regions %u irqs %u\n", info.flags,
	       info.flags & VFIO_DEVICE_FLAGS_PCI ? "PCI" : "",
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? ",RESET" : "",
	       info.num_regions, info.num_irqs);
	return 0;
}

static int cmd_openloop(const char *bdf, int secs)
{
	time_t end = time(NULL) + secs;
	long opens = 0, binds = 0, misses = 0;
	int ctx = open(vcn_ictx_node(), O_RDWR);

	if (ctx < 0) {
		perror("open context");
		return 1;
	}
	while (time(NULL) < end) {
		const char *node = vcn_dev_node(bdf);
		int dev;

		if (!node) {
			misses++;
			continue;
		}
		dev = open(node, O_RDWR);
		if (dev < 0) {
			/* the node went away between lookup and open */
			if (errno != ENOENT && errno != ENODEV && errno != ENXIO) {
				perror("open");
				return 1;
			}
			misses++;
			continue;
		}
		opens++;
		if (!vcn_bind(dev, ctx, NULL))
			binds++;
		close(dev);
	}
	printf("openloop: %ld opens, %ld binds, %ld misses\n", opens, binds, misses);
	return opens ? 0 : 1;
}

static int cmd_reqwait(const char *bdf, int secs)
{
	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} set = { .s = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_REQ_IRQ_INDEX, .count = 1,
	} };
	const char *node = vcn_dev_node(bdf);
	int dev, ctx, r;
	struct pollfd p;
	uint64_t n;

	if (!node)
		return 2;
	dev = open(node, O_RDWR);
	ctx = open(vcn_ictx_node(), O_RDWR);
	set.fd = eventfd(0, 0);
	if (dev < 0 || ctx < 0 || set.fd < 0 || vcn_bind(dev, ctx, NULL) ||
	    ioctl(dev, VFIO_DEVICE_SET_IRQS, &set)) {
		perror("reqwait setup");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	p = (struct pollfd){ .fd = set.fd, .events = POLLIN };
	r = poll(&p, 1, secs * 1000);
	if (r != 1 || read(set.fd, &n, 8) != 8) {
		printf("reqwait: no request within %d s\n", secs);
		return 1;
	}
	printf("reqwait: the kernel asked for the device back (%llu), closing\n",
	       (unsigned long long)n);
	close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "reqwait"))
		return cmd_reqwait(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "info"))
		return cmd_info(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "openloop"))
		return cmd_openloop(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: vcn_tool info BDF | openloop BDF SECONDS | reqwait BDF SECONDS\n");
	return 2;
}
