// SPDX-License-Identifier: GPL-2.0
/*
 * pci_core.c - the PCI function behind a bound file: open and close (what
 * vfio-pci does when a device is first opened and last closed), and the
 * routing of the vfio-pci device ioctls to the file of each concern.
 *
 * Open enables the function, learns whether it can be reset by trying it,
 * turns bus mastering off (the user turns it on through the config region
 * when its DMA targets are ready) and then saves its config state. Close brings the
 * function back to D0 if the user put it to sleep, stops DMA, then
 * interrupts and mappings, and leaves the device reset and with the config
 * state it had before open.
 *
 * Locks: called with vcn_device.lock held (bind/unbind); takes memory_lock
 * and igate through pci_mmap.c and pci_intrs.c.
 */
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vcn.h"

int vcn_pci_open(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	lockdep_assert_held(&vdev->lock);
	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	/* as vfio-pci: resetting at open tells whether reset works at all */
	ret = pci_try_reset_function(pdev);
	if (ret == -EAGAIN) {
		pci_disable_device(pdev);
		return ret;
	}
	vdev->reset_works = !ret;
	/*
	 * No DMA until the user enables it through the config region; and
	 * before the state is saved, so that close, restoring it, never
	 * turns bus mastering back on for a device nobody drives any more.
	 */
	pci_clear_master(pdev);
	pci_save_state(pdev);
	vdev->saved_state = pci_store_saved_state(pdev);
	if (!vdev->saved_state)
		pci_dbg(pdev, "no saved config state to restore on close\n");
	vcn_power_init(vdev);
	vdev->pci_2_3 = pci_intx_mask_supported(pdev);
	/* as vfio-pci: a previous owner's INTx-disable must not stay behind */
	if (vdev->pci_2_3) {
		u16 cmd;

		pci_read_config_word(pdev, PCI_COMMAND, &cmd);
		if (cmd & PCI_COMMAND_INTX_DISABLE)
			pci_write_config_word(pdev, PCI_COMMAND,
					      cmd & ~PCI_COMMAND_INTX_DISABLE);
	}
	vcn_config_init(vdev);
	vcn_mmap_reserve(vdev);
	vcn_barmap_init(vdev);
	return 0;
}

void vcn_pci_close(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	lockdep_assert_held(&vdev->lock);
	/* the user may have left it in D3hot: reset and restore need D0 */
	vcn_power_release(vdev);
	/* stop DMA: the process that programmed it is going away */
	pci_clear_master(pdev);
	/* and nobody will handle its INTx: keep it masked at the device */
	vdev->virq_disabled = true;
	vcn_irqs_release(vdev);
	vcn_zap_and_down_write_memory_lock(vdev);
	vdev->mem_enabled = false;
	up_write(&vdev->memory_lock);
	vcn_bars_unmap(vdev);
	vcn_mmap_unreserve(vdev);

	if (pci_load_and_free_saved_state(pdev, &vdev->saved_state))
		pci_info(pdev, "no saved state, restoring the current one\n");
	/*
	 * Reset if we can; an unbind in progress holds the device lock, in
	 * which case the remove path leaves the device to the next driver.
	 */
	if (vdev->reset_works && vcn_pci_dev_trylock(pdev)) {
		__pci_reset_function_locked(pdev);
		vcn_pci_dev_unlock(pdev);
	}
	pci_restore_state(pdev);
	pci_disable_device(pdev);
}

static long vcn_ioctl_get_info(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static void vcn_rom_info(struct vcn_device *vdev, struct vfio_region_info *info)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	size_t size;

	info->flags = 0;
	info->size = 0;
	if (pci_resource_start(pdev, PCI_ROM_RESOURCE)) {
		/* only a ROM with a valid image is offered; reading needs decode */
		u16 cmd = vcn_memory_lock_and_enable(vdev);

		io = pci_map_rom(pdev, &size);
		if (io) {
			info->flags = VFIO_REGION_INFO_FLAG_READ;
			info->size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
			pci_unmap_rom(pdev, io);
		}
		vcn_memory_unlock_and_restore(vdev, cmd);
	} else if (pdev->rom && pdev->romlen) {
		info->flags = VFIO_REGION_INFO_FLAG_READ;
		info->size = roundup_pow_of_two(pdev->romlen);
	}
}

static long vcn_ioctl_get_region_info(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap_header cap = {
		.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, .version = 1,
	};
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_region_info info;
	bool with_cap = false;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.offset = VCN_INDEX_TO_OFFSET(info.index);
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.size = pci_resource_len(pdev, info.index);
		info.flags = 0;
		if (!info.size)
			break;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		if (vcn_bar_mmappable(vdev, info.index)) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			/*
			 * As upstream: the MSI-X table may be mapped. Without an
			 * IOMMU the device can write any MSI message by DMA
			 * anyway, so hiding the table would protect nothing.
			 */
			with_cap = pdev->msix_cap &&
				   info.index == vcn_msix_bar(pdev);
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		vcn_rom_info(vdev, &info);
		break;
	default:	/* VGA (we never claim legacy VGA ranges) and beyond */
		return -EINVAL;
	}

	if (with_cap) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + sizeof(cap)) {
			info.argsz = sizeof(info) + sizeof(cap);
			info.cap_offset = 0;
		} else {
			if (copy_to_user(arg + sizeof(info), &cap, sizeof(cap)))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

long vcn_pci_ioctl(struct vcn_device *vdev, unsigned int cmd, void __user *arg)
{
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vcn_ioctl_get_info(vdev, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vcn_ioctl_get_region_info(vdev, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vcn_ioctl_get_irq_info(vdev, arg);
	case VFIO_DEVICE_SET_IRQS:
		return vcn_ioctl_set_irqs(vdev, arg);
	case VFIO_DEVICE_RESET:
		return vcn_ioctl_reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vcn_ioctl_hot_reset_info(vdev, arg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vcn_ioctl_hot_reset(vdev, arg);
	default:
		return -ENOTTY;
	}
}
