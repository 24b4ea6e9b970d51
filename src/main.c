// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module parameters, init and exit.
 *
 * Registration order matters: the char region and the context node exist
 * before the PCI driver, because probe (also triggered by ids= during
 * pci_register_driver) creates device nodes at once.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "vcn.h"

bool vcn_enable_unsafe_noiommu_mode;
module_param_named(enable_unsafe_noiommu_mode, vcn_enable_unsafe_noiommu_mode,
		   bool, 0644);
MODULE_PARM_DESC(enable_unsafe_noiommu_mode,
		 "Enable UNSAFE, no-IOMMU mode. Bound devices get no isolation and no DMA translation: they can DMA anywhere in memory. Requires CAP_SYS_RAWIO to use and taints the kernel. (default: false)");

module_param_named(write_combine, vcn_write_combine, bool, 0644);
MODULE_PARM_DESC(write_combine,
		 "Map prefetchable memory BARs write-combining (for the user and the kernel), but for the pages of the MSI-X table and PBA. Writable at run time; applies to BARs not mapped at the time. (default: false, uncached as vfio-pci)");

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids,
		 "Initial PCI IDs to add to the driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified");

static int vcn_param_get_node(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "/dev/%s\n", vcn_ictx_path());
}

static int vcn_param_set_ro(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops vcn_node_ops = {
	.set = vcn_param_set_ro,
	.get = vcn_param_get_node,
};
module_param_cb(iommufd_node, &vcn_node_ops, NULL, 0444);
MODULE_PARM_DESC(iommufd_node,
		 "Read-only: the iommufd-compatible context node this module serves");

static int __init vcn_init(void)
{
	int ret;

	ret = vcn_stats_init();
	if (ret)
		return ret;
	ret = vcn_device_chrdev_init();
	if (ret)
		goto err_stats;
	ret = vcn_ictx_init();
	if (ret)
		goto err_chrdev;
	ret = vcn_pci_driver_init(ids);
	if (ret)
		goto err_ictx;
	return 0;

err_ictx:
	vcn_ictx_exit();
err_chrdev:
	vcn_device_chrdev_exit();
err_stats:
	vcn_stats_exit();
	return ret;
}

static void __exit vcn_exit(void)
{
	vcn_pci_driver_exit();
	vcn_ictx_exit();
	vcn_device_chrdev_exit();
	vcn_stats_exit();
	/* io_pagetable.c frees tables from RCU callbacks: their code is ours */
	rcu_barrier();
}

module_init(vcn_init);
module_exit(vcn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO cdev no-IOMMU mode (upstream 7.3 uAPI) for stock kernels");
MODULE_VERSION(VCN_VERSION);
