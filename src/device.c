// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - one registered no-IOMMU device: its sysfs nodes and its cdev.
 *
 * Layout, as upstream's: /sys/bus/pci/devices/<BDF>/vfio-dev/noiommu-vfioN
 * with a "dev" attribute, and /dev/vfio/devices/noiommu-vfioN. Upstream gets
 * the "vfio-dev" directory from a class of that name; we must not register
 * that class (it would stop the kernel's own vfio.ko from loading), so
 * "vfio-dev" is a bare kobject under the PCI device, and noiommu-vfioN a
 * device on our own bus placed in it: a bus device with no parent device
 * keeps the kobject parent it was given, and a bus (unlike a classless
 * device) emits uevents, so udev rules can match
 * SUBSYSTEM=="vfio_cdev_noiommu".
 *
 * Lifetime: @registration is 1 while the PCI driver holds the device plus one
 * per open file. Unregister drops the driver's count and waits for the files
 * to go; the memory lives on until the last reference to @dev (held by the
 * cdev while any file is open) is gone.
 *
 * Locks: takes vcn_device.lock only in the file paths (cdev.c and
 * device_iommufd.c), never here.
 */
#include <linux/fs.h>
#include <linux/slab.h>

#include "vcn.h"

static dev_t vcn_devt;

static vcn_bus_const struct bus_type vcn_bus = {
	.name = "vfio_cdev_noiommu",
};

static char *vcn_devnode(vcn_devnode_dev_t *dev, umode_t *mode, kuid_t *uid,
			 kgid_t *gid)
{
	return kasprintf(GFP_KERNEL, "vfio/devices/%s", dev_name(dev));
}

static void vcn_device_release(struct device *dev)
{
	struct vcn_device *vdev = container_of(dev, struct vcn_device, dev);

	if (vdev->inode)
		vcn_pseudofs_put_inode(vdev->inode);
	mutex_destroy(&vdev->igate);
	mutex_destroy(&vdev->barmap_lock);
	mutex_destroy(&vdev->lock);
	kfree(vdev);
}

static const struct device_type vcn_device_type = {
	.name = "noiommu-vfio",
	.devnode = vcn_devnode,
	.release = vcn_device_release,
};

/*
 * "vfio-dev" is a bare kobject, so the directory holds nothing but the
 * noiommu-vfioN entries, exactly as upstream's class glue directory does.
 */
static struct kobject *vcn_dir_create(struct pci_dev *pdev)
{
	struct kobject *dir;

	dir = kobject_create_and_add("vfio-dev", &pdev->dev.kobj);
	return dir ?: ERR_PTR(-ENOMEM);
}

static void vcn_dir_destroy(struct kobject *dir)
{
	kobject_del(dir);
	kobject_put(dir);
}

bool vcn_device_try_get_registration(struct vcn_device *vdev)
{
	return refcount_inc_not_zero(&vdev->registration);
}

void vcn_device_put_registration(struct vcn_device *vdev)
{
	if (refcount_dec_and_test(&vdev->registration))
		complete(&vdev->comp);
}

static struct vcn_device *vcn_device_alloc(struct pci_dev *pdev)
{
	struct vcn_device *vdev;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return NULL;
	vdev->pdev = pdev;
	mutex_init(&vdev->lock);
	mutex_init(&vdev->igate);
	mutex_init(&vdev->barmap_lock);
	init_rwsem(&vdev->memory_lock);
	spin_lock_init(&vdev->irqlock);
	spin_lock_init(&vdev->trigger_lock);
	init_completion(&vdev->comp);
	device_initialize(&vdev->dev);
	vdev->dev.bus = &vcn_bus;
	vdev->dev.type = &vcn_device_type;
	cdev_init(&vdev->cdev, &vcn_device_fops);
	vdev->cdev.owner = THIS_MODULE;
	return vdev;
}

int vcn_device_register(struct pci_dev *pdev, struct vcn_device **out)
{
	struct vcn_device *vdev;
	int ret;

	vdev = vcn_device_alloc(pdev);
	if (!vdev)
		return -ENOMEM;

	vdev->inode = vcn_pseudofs_inode();
	if (IS_ERR(vdev->inode)) {
		ret = PTR_ERR(vdev->inode);
		vdev->inode = NULL;
		goto err_put;
	}
	ret = vcn_devtable_add(vdev);	/* sets vdev->index */
	if (ret)
		goto err_put;
	vdev->dev.devt = MKDEV(MAJOR(vcn_devt), vdev->index);
	ret = dev_set_name(&vdev->dev, "noiommu-vfio%u", vdev->index);
	if (ret)
		goto err_table;

	ret = vcn_group_set(vdev);
	if (ret)
		goto err_table;

	vdev->dir = vcn_dir_create(pdev);
	if (IS_ERR(vdev->dir)) {
		ret = PTR_ERR(vdev->dir);
		goto err_group;
	}
	vdev->dev.kobj.parent = vdev->dir;

	/* As upstream: the taint is taken when the device is registered. */
	add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	pci_warn(pdev, "Adding kernel taint for vfio-noiommu cdev\n");

	refcount_set(&vdev->registration, 1);
	ret = cdev_device_add(&vdev->cdev, &vdev->dev);
	if (ret)
		goto err_dir;
	vcn_group_register(vdev);
	pci_info(pdev, "bound as /dev/vfio/devices/%s (no IOMMU)\n",
		 dev_name(&vdev->dev));
	*out = vdev;
	return 0;

err_dir:
	vcn_dir_destroy(vdev->dir);
err_group:
	vcn_group_remove(vdev);
err_table:
	vcn_devtable_remove(vdev);
err_put:
	put_device(&vdev->dev);
	return ret;
}

void vcn_device_unregister(struct vcn_device *vdev)
{
	unsigned int i = 0;

	vcn_group_unregister(vdev);
	/* No new opens from here on; files already open keep the memory. */
	cdev_device_del(&vdev->cdev, &vdev->dev);
	vcn_device_put_registration(vdev);
	/*
	 * As vfio-pci: ask the user to let go through the REQ eventfd, again
	 * every 10 s, and wait; the device is gone only once every file is.
	 */
	while (!try_wait_for_completion(&vdev->comp)) {
		if (!vcn_request_user(vdev) && !i)
			pci_notice(vdev->pdev, "device in use and no request channel registered: unbind blocked until it is closed\n");
		if (wait_for_completion_timeout(&vdev->comp, HZ * 10))
			break;
		pci_info(vdev->pdev, "device still in use, waiting for it to be closed (%u s)\n",
			 ++i * 10);
	}
	vcn_dir_destroy(vdev->dir);
	vcn_group_remove(vdev);
	vcn_devtable_remove(vdev);
	put_device(&vdev->dev);
}

int vcn_device_chrdev_init(void)
{
	int ret;

	ret = bus_register(&vcn_bus);
	if (ret)
		return ret;
	ret = alloc_chrdev_region(&vcn_devt, 0, MINORMASK + 1, VCN_DRV_NAME);
	if (ret)
		bus_unregister(&vcn_bus);
	return ret;
}

void vcn_device_chrdev_exit(void)
{
	unregister_chrdev_region(vcn_devt, MINORMASK + 1);
	bus_unregister(&vcn_bus);
}
