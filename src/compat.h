/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every kernel API difference the module cares about, in one place.
 *
 * Decisions are made by feature probes (scripts/conftest.sh compiles a tiny
 * file per probe against the target kernel's headers and writes the
 * VCN_HAVE_* results to conftest.h), never by LINUX_VERSION_CODE: distro
 * kernels backport APIs, so versions lie. The rest of the source reads like
 * current upstream code and uses only the names defined here.
 */
#ifndef VCN_COMPAT_H
#define VCN_COMPAT_H

#include <linux/device.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include "conftest.h"

#if IS_ENABLED(CONFIG_IOMMUFD_NOIOMMU)
#error "This kernel already has cdev no-IOMMU (CONFIG_IOMMUFD_NOIOMMU): use its own vfio-pci"
#endif

/*
 * struct device_type::devnode took a non-const device until v6.2
 * (commit "driver core: make struct device_type.devnode() take a const *").
 */
#ifdef VCN_HAVE_DEVNODE_CONST_DEV
#define vcn_devnode_dev_t const struct device
#else
#define vcn_devnode_dev_t struct device
#endif

/* get_unaligned_le32() and friends moved to <linux/unaligned.h> (v6.12) */
#ifdef VCN_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* eventfd_signal() lost its count argument (v6.8) */
#ifdef VCN_HAVE_EVENTFD_SIGNAL_NO_COUNT
#define vcn_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define vcn_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

/* vma->vm_flags became read-only behind vm_flags_set() (v6.3) */
#ifdef VCN_HAVE_VM_FLAGS_SET
#define vcn_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define vcn_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define vcn_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define vcn_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/* bus_register() and friends take a const struct bus_type * (v6.4+) */
#ifdef VCN_HAVE_BUS_REGISTER_CONST
#define vcn_bus_const const
#else
#define vcn_bus_const
#endif

/* kmalloc_size_roundup() (v6.1); before it, the bucket slab's own index names */
#ifdef VCN_HAVE_KMALLOC_SIZE_ROUNDUP
#define vcn_kmalloc_size_roundup(size)	kmalloc_size_roundup(size)
#else
static inline size_t vcn_kmalloc_size_roundup(size_t size)
{
	unsigned int i = kmalloc_index(size);

	/* the two buckets that are not powers of two */
	return i == 1 ? 96 : i == 2 ? 192 : (size_t)1 << i;
}
#endif

/*
 * unpin_user_page_range_dirty_lock() (v5.12): before it, the same unpin
 * page by page (each subpage of a compound page was pinned on its own)
 */
#ifdef VCN_HAVE_UNPIN_USER_PAGE_RANGE_DIRTY_LOCK
#define vcn_unpin_page_range(page, npages, dirty) \
	unpin_user_page_range_dirty_lock(page, npages, dirty)
#else
static inline void vcn_unpin_page_range(struct page *page, unsigned long npages,
					bool dirty)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		struct page *p = nth_page(page, i);

		unpin_user_pages_dirty_lock(&p, 1, dirty);
	}
}
#endif

/*
 * pci_dev_trylock() (exported after v5.10): before it, the two locks it
 * takes (both trylocks, so their order cannot deadlock)
 */
#ifdef VCN_HAVE_PCI_DEV_TRYLOCK
#define vcn_pci_dev_trylock(pdev)	pci_dev_trylock(pdev)
#define vcn_pci_dev_unlock(pdev)	pci_dev_unlock(pdev)
#else
static inline bool vcn_pci_dev_trylock(struct pci_dev *pdev)
{
	if (!device_trylock(&pdev->dev))
		return false;
	if (pci_cfg_access_trylock(pdev))
		return true;
	device_unlock(&pdev->dev);
	return false;
}

static inline void vcn_pci_dev_unlock(struct pci_dev *pdev)
{
	pci_cfg_access_unlock(pdev);
	device_unlock(&pdev->dev);
}
#endif

/* pci_warn_once() (after v5.10) */
#ifndef pci_warn_once
#define pci_warn_once(pdev, fmt, arg...) dev_warn_once(&(pdev)->dev, fmt, ##arg)
#endif

/* struct device::iommu only exists with CONFIG_IOMMU_API (a config, not an API) */
#ifdef CONFIG_IOMMU_API
#define vcn_dev_iommu(dev)	((dev)->iommu)
#else
#define vcn_dev_iommu(dev)	NULL
#endif

/*
 * The iommufd context node: /dev/iommu when the kernel has no iommufd of its
 * own (every Debian kernel so far), so that upstream programs run unchanged;
 * otherwise a node of ours that cannot collide with the kernel's.
 */
#if IS_ENABLED(CONFIG_IOMMUFD)
#define VCN_ICTX_NAME		"noiommu-iommufd"
#define VCN_ICTX_NODENAME	"vfio/noiommu-iommufd"
#else
#define VCN_ICTX_NAME		"iommu"
#define VCN_ICTX_NODENAME	NULL
#endif

#endif /* VCN_COMPAT_H */
