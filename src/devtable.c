// SPDX-License-Identifier: GPL-2.0
/*
 * devtable.c - the module's own, groupless table of devices.
 *
 * Upstream finds a device through its iommu_group; a no-IOMMU device has
 * none, so the table is keyed by the device index N of noiommu-vfioN, which is
 * also the cdev minor. The lowest free index is handed out, so an index is
 * reused after unbind. The xarray's internal lock makes add/remove safe
 * against concurrent binds and unbinds; open() never looks here (it finds the
 * device through the inode's cdev), so nothing blocks an open.
 */
#include "vcn.h"

static DEFINE_XARRAY_ALLOC(vcn_devtable);

int vcn_devtable_add(struct vcn_device *vdev)
{
	u32 index;
	int ret;

	ret = xa_alloc(&vcn_devtable, &index, vdev, XA_LIMIT(0, MINORMASK),
		       GFP_KERNEL);
	if (ret == -EBUSY)
		ret = -ENOSPC;
	if (!ret)
		vdev->index = index;
	return ret;
}

void vcn_devtable_remove(struct vcn_device *vdev)
{
	xa_erase(&vcn_devtable, vdev->index);
}

/*
 * The registered device for @pdev, with a registration reference (put it
 * with vcn_device_put_registration()), or NULL. The xarray lock makes the
 * lookup safe against a concurrent unbind: a device leaves the table before
 * its memory can go.
 */
struct vcn_device *vcn_devtable_get_by_pdev(struct pci_dev *pdev)
{
	struct vcn_device *vdev, *found = NULL;
	unsigned long index;

	xa_lock(&vcn_devtable);
	xa_for_each(&vcn_devtable, index, vdev) {
		if (vdev->pdev == pdev) {
			if (vcn_device_try_get_registration(vdev))
				found = vdev;
			break;
		}
	}
	xa_unlock(&vcn_devtable);
	return found;
}
