// SPDX-License-Identifier: GPL-2.0
/*
 * pci_driver.c - the "vfio-cdev-noiommu" PCI driver: which devices it takes.
 *
 * There is no static id table: devices arrive only by an admin's choice
 * (driver_override, new_id, bind, or the ids= parameter), as with vfio-pci.
 * Probe is the one place that decides whether a device may be handed to
 * userspace without an IOMMU; every refusal says why and what to do.
 */
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/security.h>

#include "vcn.h"

static bool vcn_dev_has_iommu(struct pci_dev *pdev)
{
	/*
	 * Upstream's test is dev->iommu; a group is the other visible sign.
	 * Such a device is isolated by its IOMMU and belongs to vfio-pci.
	 */
	return vcn_dev_iommu(&pdev->dev) || device_iommu_mapped(&pdev->dev);
}

static int vcn_probe_allowed(struct pci_dev *pdev)
{
	if (!READ_ONCE(vcn_enable_unsafe_noiommu_mode)) {
		pci_err(pdev, "refusing to bind: no-IOMMU mode is off; to accept a device that can DMA anywhere, set /sys/module/vfio_cdev_noiommu/parameters/enable_unsafe_noiommu_mode to Y\n");
		return -EINVAL;
	}
	/*
	 * A device without an IOMMU can read and write all of memory, which is
	 * what lockdown forbids /dev/mem for: honour it the same way.
	 */
	if (security_locked_down(LOCKDOWN_DEV_MEM)) {
		pci_err(pdev, "refusing to bind: the kernel is locked down, and a device without an IOMMU could DMA to any memory\n");
		return -EPERM;
	}
	if (vcn_dev_has_iommu(pdev)) {
		pci_err(pdev, "refusing to bind: device is behind an IOMMU; use vfio-pci for it\n");
		return -EINVAL;
	}
	/*
	 * As vfio-pci: the user of a PF could reset it or change its SR-IOV
	 * set-up under VFs that other drivers (or guests) are using.
	 */
	if (pci_num_vf(pdev)) {
		pci_err(pdev, "refusing to bind: %d VFs are enabled on this physical function; disable them first (echo 0 > /sys/bus/pci/devices/%s/sriov_numvfs)\n",
			pci_num_vf(pdev), pci_name(pdev));
		return -EBUSY;
	}
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL ||
	    (pdev->class >> 16) == PCI_BASE_CLASS_BRIDGE) {
		pci_err(pdev, "refusing to bind: not a normal endpoint (header type %u, class %06x)\n",
			pdev->hdr_type, pdev->class);
		return -EINVAL;
	}
	return 0;
}

/*
 * Lockdown raised after a device was bound: it can no longer be opened,
 * bound to a context or mapped. Said once: a program retrying in a loop
 * must not flood the log.
 */
int vcn_lockdown_refuses(struct vcn_device *vdev)
{
	if (!security_locked_down(LOCKDOWN_DEV_MEM))
		return 0;
	pci_warn_once(vdev->pdev, "refusing access: the kernel is locked down, and a device without an IOMMU could DMA to any memory; unbind it from %s\n",
		      VCN_DRV_NAME);
	return -EPERM;
}

static int vcn_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vcn_device *vdev;
	int ret;

	ret = vcn_probe_allowed(pdev);
	if (ret)
		return ret;

	ret = vcn_device_register(pdev, &vdev);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, vdev);
	return 0;
}

static void vcn_pci_remove(struct pci_dev *pdev)
{
	vcn_device_unregister(pci_get_drvdata(pdev));
}

/* AER: tell the user through the ERR eventfd, and let recovery go on */
static pci_ers_result_t vcn_pci_error_detected(struct pci_dev *pdev,
					       pci_channel_state_t state)
{
	struct vcn_device *vdev = pci_get_drvdata(pdev);

	if (vdev)
		vcn_error_notify(vdev);
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static const struct pci_error_handlers vcn_err_handlers = {
	.error_detected = vcn_pci_error_detected,
};

static struct pci_driver vcn_pci_driver = {
	.name		= VCN_DRV_NAME,
	.id_table	= NULL,
	.probe		= vcn_pci_probe,
	.remove		= vcn_pci_remove,
	.err_handler	= &vcn_err_handlers,
};

/* ids=, as vfio-pci parses it; a bad entry is reported and skipped */
static void vcn_add_ids(const char *ids_param)
{
	char *ids, *p, *id;

	ids = kstrdup(ids_param, GFP_KERNEL);
	if (!ids)
		return;
	p = ids;
	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID,
			subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int fields, ret;

		if (!*id)
			continue;
		fields = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
				&subvendor, &subdevice, &class, &class_mask);
		if (fields < 2) {
			pr_warn(VCN_DRV_NAME ": invalid id string \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(&vcn_pci_driver, vendor, device, subvendor,
				    subdevice, class, class_mask, 0);
		if (ret)
			pr_warn(VCN_DRV_NAME ": failed to add dynamic id %s (%d)\n",
				id, ret);
		else
			pr_info(VCN_DRV_NAME ": add [%04x:%04x[%04x:%04x]] class %#08x/%08x\n",
				vendor, device, subvendor, subdevice, class,
				class_mask);
	}
	kfree(ids);
}

int vcn_pci_driver_init(const char *ids)
{
	int ret;

	ret = pci_register_driver(&vcn_pci_driver);
	if (ret)
		return ret;
	vcn_add_ids(ids);
	return 0;
}

void vcn_pci_driver_exit(void)
{
	pci_unregister_driver(&vcn_pci_driver);
}
