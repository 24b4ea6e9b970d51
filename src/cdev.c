// SPDX-License-Identifier: GPL-2.0
/*
 * cdev.c - the file operations of /dev/vfio/devices/noiommu-vfioN.
 *
 * open() grants nothing by itself: until VFIO_DEVICE_BIND_IOMMUFD succeeds on
 * a file, every other ioctl fails with EINVAL, as upstream. A device has no
 * IOMMU, so opening it at all needs CAP_SYS_RAWIO, and open, bind and mmap
 * are refused once the kernel is locked down, even if it was not at probe.
 *
 * Locks: vcn_device.lock (through device_iommufd.c).
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

/* Nothing but BIND works on a file until a bind succeeded on it. */
static bool vcn_df_granted(struct vcn_dfile *df)
{
	/* Paired with smp_store_release() in vcn_df_bind() */
	return smp_load_acquire(&df->access_granted);
}

static int vcn_fops_open(struct inode *inode, struct file *file)
{
	struct vcn_device *vdev = container_of(inode->i_cdev,
					       struct vcn_device, cdev);
	struct vcn_dfile *df;
	int ret;

	/* Paired with the put in vcn_fops_release() */
	if (!vcn_device_try_get_registration(vdev))
		return -ENODEV;

	if (!capable(CAP_SYS_RAWIO)) {
		ret = -EPERM;
		goto err_put;
	}
	ret = vcn_lockdown_refuses(vdev);
	if (ret)
		goto err_put;

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df) {
		ret = -ENOMEM;
		goto err_put;
	}
	df->vdev = vdev;
	file->private_data = df;
	/*
	 * All files of the device share its inode's mapping, so every BAR mmap
	 * can be revoked at once (see pseudofs.c).
	 */
	file->f_mapping = vdev->inode->i_mapping;
	return 0;

err_put:
	vcn_device_put_registration(vdev);
	return ret;
}

static int vcn_fops_release(struct inode *inode, struct file *file)
{
	struct vcn_dfile *df = file->private_data;
	struct vcn_device *vdev = df->vdev;

	vcn_df_unbind(df);
	kfree(df);
	vcn_device_put_registration(vdev);
	return 0;
}

static long vcn_fops_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct vcn_dfile *df = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vcn_lockdown_refuses(df->vdev) ?: vcn_df_bind(df, uarg);

	if (!vcn_df_granted(df))
		return -EINVAL;

	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return vcn_df_attach(df, uarg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return vcn_df_detach(df, uarg);
	default:
		return vcn_pci_ioctl(df->vdev, cmd, uarg);
	}
}

static ssize_t vcn_fops_read(struct file *file, char __user *buf, size_t count,
			     loff_t *ppos)
{
	struct vcn_dfile *df = file->private_data;

	if (!vcn_df_granted(df))
		return -EINVAL;
	return vcn_region_rw(df->vdev, buf, count, ppos, false);
}

static ssize_t vcn_fops_write(struct file *file, const char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct vcn_dfile *df = file->private_data;

	if (!vcn_df_granted(df))
		return -EINVAL;
	return vcn_region_rw(df->vdev, (char __user *)buf, count, ppos, true);
}

static int vcn_fops_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vcn_dfile *df = file->private_data;

	if (!vcn_df_granted(df))
		return -EINVAL;
	return vcn_lockdown_refuses(df->vdev) ?: vcn_mmap(df->vdev, vma);
}

const struct file_operations vcn_device_fops = {
	.owner		= THIS_MODULE,
	.open		= vcn_fops_open,
	.release	= vcn_fops_release,
	.unlocked_ioctl	= vcn_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.read		= vcn_fops_read,
	.write		= vcn_fops_write,
	.mmap		= vcn_fops_mmap,
	.llseek		= noop_llseek,
};
