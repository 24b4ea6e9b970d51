// SPDX-License-Identifier: GPL-2.0
/*
 * pci_rdwr.c - read()/write() of the device's regions at index << 40.
 *
 * Config space goes to pci_config.c. BARs (memory or I/O port) are claimed
 * and mapped on first use (pci_barmap.c, which also decides their memory
 * type) and accessed in naturally aligned 8/4/2/1-byte pieces, as a driver
 * would; memory BARs only while decode is on (EIO otherwise). The ROM is
 * read-only. Data moves through a bounce buffer so that no user memory is
 * touched while memory_lock is held.
 *
 * Locks: memory_lock (read) around access (pci_barmap.c claims).
 */
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

#define VCN_BOUNCE	PAGE_SIZE

static void vcn_io_rw(void __iomem *io, u8 *buf, size_t count, loff_t off,
		      bool write, bool mmio)
{
	size_t done = 0;

	while (done < count) {
		loff_t p = off + done;
		size_t left = count - done;

		if (mmio && !(p & 7) && left >= 8) {
#ifdef CONFIG_64BIT
			if (write)
				writeq(get_unaligned_le64(buf + done), io + p);
			else
				put_unaligned_le64(readq(io + p), buf + done);
			done += 8;
			continue;
#endif
		}
		if (!(p & 3) && left >= 4) {
			if (write)
				iowrite32(get_unaligned_le32(buf + done), io + p);
			else
				put_unaligned_le32(ioread32(io + p), buf + done);
			done += 4;
		} else if (!(p & 1) && left >= 2) {
			if (write)
				iowrite16(get_unaligned_le16(buf + done), io + p);
			else
				put_unaligned_le16(ioread16(io + p), buf + done);
			done += 2;
		} else {
			if (write)
				iowrite8(buf[done], io + p);
			else
				buf[done] = ioread8(io + p);
			done += 1;
		}
	}
}

static ssize_t vcn_bar_rw(struct vcn_device *vdev, unsigned int bar,
			  char __user *ubuf, size_t count, loff_t off, bool write)
{
	struct pci_dev *pdev = vdev->pdev;
	resource_size_t len = pci_resource_len(pdev, bar);
	bool mmio = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	const struct vcn_barseg *seg;
	void __iomem *io;
	size_t done = 0;
	u8 *bounce;
	int ret;

	if (!len || off >= len)
		return -EINVAL;
	count = min_t(u64, count, len - off);

	ret = vcn_bar_claim(vdev, bar);
	if (ret)
		return ret;

	bounce = kmalloc(VCN_BOUNCE, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	while (done < count) {
		size_t n = min_t(size_t, count - done, VCN_BOUNCE);

		if (write && copy_from_user(bounce, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		down_read(&vdev->memory_lock);
		if (mmio && !vdev->mem_enabled) {
			up_read(&vdev->memory_lock);
			ret = -EIO;	/* decode is off: the BAR is not there */
			break;
		}
		seg = vcn_bar_seg(vdev, bar, off + done, &io);
		if (!seg) {	/* a failed change of type left it unclaimed */
			up_read(&vdev->memory_lock);
			ret = -EIO;
			break;
		}
		/* one segment at a time: each has its own kernel mapping */
		n = min_t(u64, n, seg->end - (off + done));
		vcn_io_rw(io, bounce, n, off + done - seg->start, write, mmio);
		/*
		 * Write-combined stores sit in the CPU's buffers until something
		 * flushes them: push them to the device before pwrite returns, as
		 * an uncached store would have been.
		 */
		if (write && seg->wc)
			wmb();	/* the write-combining buffers, to the device */
		up_read(&vdev->memory_lock);
		if (!write && copy_to_user(ubuf + done, bounce, n)) {
			ret = -EFAULT;
			break;
		}
		done += n;
	}
	kfree(bounce);
	return done ? done : ret;
}

static ssize_t vcn_rom_read(struct vcn_device *vdev, char __user *ubuf,
			    size_t count, loff_t off)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	size_t size;
	u8 *bounce;
	ssize_t ret;
	u16 cmd;

	/* no ROM (region size 0): never ask the PCI core to map one */
	if (!pci_resource_start(pdev, PCI_ROM_RESOURCE) &&
	    !(pdev->rom && pdev->romlen))
		return -EINVAL;
	if (off >= SZ_16M)
		return -EINVAL;
	count = min_t(size_t, count, VCN_BOUNCE);
	bounce = kmalloc(count, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	/* decode on for the ROM read; no mmap may race it */
	cmd = vcn_memory_lock_and_enable(vdev);
	io = pci_map_rom(pdev, &size);
	if (!io) {
		ret = -EINVAL;
	} else {
		ret = off < size ? min_t(size_t, count, size - off) : 0;
		memcpy_fromio(bounce, io + off, ret);
		pci_unmap_rom(pdev, io);
	}
	vcn_memory_unlock_and_restore(vdev, cmd);
	if (ret > 0 && copy_to_user(ubuf, bounce, ret))
		ret = -EFAULT;
	kfree(bounce);
	return ret;
}

ssize_t vcn_region_rw(struct vcn_device *vdev, char __user *buf,
		      size_t count, loff_t *ppos, bool write)
{
	unsigned int index = VCN_OFFSET_TO_INDEX(*ppos);
	loff_t off = *ppos & VCN_OFFSET_MASK;
	ssize_t ret;

	if (!count)
		return 0;
	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = vcn_config_rw(vdev, buf, count, off, write);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		ret = vcn_bar_rw(vdev, index, buf, count, off, write);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		ret = write ? -EINVAL : vcn_rom_read(vdev, buf, count, off);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret > 0)
		*ppos += ret;
	return ret;
}
