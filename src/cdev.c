// SPDX-License-Identifier: GPL-2.0
/*
 * cdev.c - the file operations of /dev/vfio/devices/noiommu-vfioN.
 *
 * open() grants nothing by itself: until VFIO_DEVICE_BIND_IOMMUFD succeeds on
 * a file, every other ioctl fails with EINVAL, as upstream. A device has no
 * IOMMU, so opening it at all needs CAP_SYS_RAWIO.
 *
 * Locks: vcn_device.lock (through device_iommufd.c).
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

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

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df) {
		ret = -ENOMEM;
		goto err_put;
	}
	df->vdev = vdev;
	file->private_data = df;
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

static long vcn_ioctl_get_info(struct vcn_dfile *df, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vcn_fops_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct vcn_dfile *df = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vcn_df_bind(df, uarg);

	/* Paired with smp_store_release() in vcn_df_bind() */
	if (!smp_load_acquire(&df->access_granted))
		return -EINVAL;

	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return vcn_df_attach(df, uarg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return vcn_df_detach(df, uarg);
	case VFIO_DEVICE_GET_INFO:
		return vcn_ioctl_get_info(df, uarg);
	default:
		return -ENOTTY;
	}
}

const struct file_operations vcn_device_fops = {
	.owner		= THIS_MODULE,
	.open		= vcn_fops_open,
	.release	= vcn_fops_release,
	.unlocked_ioctl	= vcn_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
