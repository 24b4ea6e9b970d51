// SPDX-License-Identifier: GPL-2.0
/*
 * pci_mmap.c - BAR mmaps, and their revocation.
 *
 * A mapping is only a promise: pages are inserted at fault time, and only
 * while the device decodes memory and is not being reset. Whatever turns
 * decode off (a command register write, reset, close, unbind) first takes
 * memory_lock for writing and zaps every mapping of the device (they all
 * live in the device inode's address space, see pseudofs.c); a later access
 * faults again and gets SIGBUS until decode is back.
 *
 * Locks: memory_lock (read in the fault handler, under mmap_lock; write
 * around decode changes). Nothing touches user memory under memory_lock.
 */
#include <linux/mm.h>
#include <linux/pci.h>

#include "vcn.h"

int vcn_msix_bar(struct pci_dev *pdev)
{
	u32 table;

	if (!pdev->msix_cap)
		return -1;
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	return table & PCI_MSIX_TABLE_BIR;
}

/*
 * Whole pages of memory space only: a page mapped may not reach another
 * BAR. A BAR smaller than a page qualifies when it starts a page and the
 * rest of that page could be reserved at open (vcn_mmap_reserve()), so
 * that nothing is ever assigned there while the user maps the page.
 */
bool vcn_bar_mmappable(struct vcn_device *vdev, unsigned int bar)
{
	struct pci_dev *pdev = vdev->pdev;

	if (bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    !pci_resource_len(pdev, bar) ||
	    !IS_ALIGNED(pci_resource_start(pdev, bar), PAGE_SIZE))
		return false;
	return pci_resource_len(pdev, bar) >= PAGE_SIZE ||
	       vdev->subpage[bar].parent;
}

/* open: reserve the rest of the page of each sub-page, page-aligned BAR */
void vcn_mmap_reserve(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		struct resource *bres = &pdev->resource[bar];
		struct resource *res = &vdev->subpage[bar];

		if (!(bres->flags & IORESOURCE_MEM) || !bres->parent ||
		    !resource_size(bres) || resource_size(bres) >= PAGE_SIZE ||
		    !IS_ALIGNED(bres->start, PAGE_SIZE))
			continue;
		/* not DEFINE_RES_NAMED(): a compound literal itself from 6.12 on */
		*res = (struct resource){
			.start = bres->end + 1,
			.end = bres->start + PAGE_SIZE - 1,
			.name = "vfio-cdev-noiommu sub-page reserved",
			.flags = bres->flags,
		};
		if (request_resource(bres->parent, res)) {
			pci_info(pdev, "BAR %u: the rest of its page is in use: no mmap\n", bar);
			memset(res, 0, sizeof(*res));
		}
	}
}

/* close: every mapping is gone (they hold the file) */
void vcn_mmap_unreserve(struct vcn_device *vdev)
{
	unsigned int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->subpage[bar].parent)
			continue;
		release_resource(&vdev->subpage[bar]);
		memset(&vdev->subpage[bar], 0, sizeof(vdev->subpage[bar]));
	}
}

void vcn_zap_and_down_write_memory_lock(struct vcn_device *vdev)
{
	down_write(&vdev->memory_lock);
	unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
}

/*
 * For the kernel's own accesses to device memory (the MSI-X table, the ROM)
 * while the user may have turned decode off: take memory_lock, turn decode
 * on (user mappings were zapped when it went off, and faults wait for the
 * lock), and give back the command word to restore.
 */
u16 vcn_memory_lock_and_enable(struct vcn_device *vdev)
{
	u16 cmd = 0;

	down_write(&vdev->memory_lock);
	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

void vcn_memory_unlock_and_restore(struct vcn_device *vdev, u16 cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

/*
 * Does the function decode its memory BARs with @cmd in its command
 * register? In D3hot a function's BARs need not decode, whatever cmd says;
 * a VF (no_command_memory) has no memory enable bit and always decodes.
 */
bool vcn_decodes(struct vcn_device *vdev, u16 cmd)
{
	struct pci_dev *pdev = vdev->pdev;

	return (pdev->no_command_memory || (cmd & PCI_COMMAND_MEMORY)) &&
	       !vcn_pm_asleep(pdev->current_state);
}

/* re-read decode state after a command write, then drop the lock */
void vcn_memory_update_and_up_write(struct vcn_device *vdev)
{
	u16 cmd = 0;

	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	vdev->mem_enabled = vcn_decodes(vdev, cmd);
	up_write(&vdev->memory_lock);
}

/*
 * The BAR a mapping of the device is of (its vm_pgoff is a frame of it),
 * PCI_STD_NUM_BARS if none
 */
static unsigned int vcn_vma_bar(struct vcn_device *vdev,
				struct vm_area_struct *vma, u64 *off)
{
	struct pci_dev *pdev = vdev->pdev;
	u64 pa = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		u64 start = pci_resource_start(pdev, bar);

		if ((pci_resource_flags(pdev, bar) & IORESOURCE_MEM) &&
		    pa >= start &&
		    pa < start + PAGE_ALIGN(pci_resource_len(pdev, bar)))
			break;
	}
	*off = pa - pci_resource_start(pdev, bar);
	return bar;
}

static vm_fault_t vcn_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vcn_device *vdev = vma->vm_private_data;
	unsigned long pgoff = (vmf->address - vma->vm_start) >> PAGE_SHIFT;
	const struct vcn_barseg *seg;
	unsigned int bar;
	vm_fault_t ret;
	pgprot_t prot;
	u64 off;

	bar = vcn_vma_bar(vdev, vma, &off);
	down_read(&vdev->memory_lock);
	seg = vcn_bar_seg(vdev, bar, off + ((u64)pgoff << PAGE_SHIFT), NULL);
	if (!vdev->mem_enabled || !seg) {
		ret = VM_FAULT_SIGBUS;	/* never touch a BAR that does not decode */
	} else {
		/*
		 * The page's own type (a write-combining BAR's MSI-X pages are
		 * not), from the vma's base protection, which mmap made uncached
		 */
		prot = seg->wc ? pgprot_writecombine(vm_get_page_prot(vma->vm_flags)) :
				 vma->vm_page_prot;
		ret = vmf_insert_pfn_prot(vma, vmf->address,
					  vma->vm_pgoff + pgoff, prot);
	}
	up_read(&vdev->memory_lock);
	return ret;
}

/* live mappings of a BAR pin its memory type (pci_barmap.c) */
static void vcn_mmap_open(struct vm_area_struct *vma)
{
	struct vcn_device *vdev = vma->vm_private_data;
	u64 off;

	vcn_bar_mmap_count(vdev, vcn_vma_bar(vdev, vma, &off), 1);
}

static void vcn_mmap_close(struct vm_area_struct *vma)
{
	struct vcn_device *vdev = vma->vm_private_data;
	u64 off;

	vcn_bar_mmap_count(vdev, vcn_vma_bar(vdev, vma, &off), -1);
}

static const struct vm_operations_struct vcn_mmap_ops = {
	.open = vcn_mmap_open,
	.close = vcn_mmap_close,
	.fault = vcn_mmap_fault,
};

int vcn_mmap(struct vcn_device *vdev, struct vm_area_struct *vma)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int index = vma->vm_pgoff >> (VCN_OFFSET_SHIFT - PAGE_SHIFT);
	u64 pgoff, req_len, len;
	int ret;

	if (vma->vm_end < vma->vm_start)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;		/* a private copy of MMIO means nothing */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (index >= VFIO_PCI_ROM_REGION_INDEX || !vcn_bar_mmappable(vdev, index))
		return -EINVAL;

	len = PAGE_ALIGN(pci_resource_len(pdev, index));	/* see above */
	req_len = vma->vm_end - vma->vm_start;
	pgoff = vma->vm_pgoff &
		((1ULL << (VCN_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	if (req_len > len || pgoff > (len >> PAGE_SHIFT) - (req_len >> PAGE_SHIFT))
		return -EINVAL;

	/* claim the BAR, as any access path does, and settle its memory type */
	ret = vcn_bar_claim_mmap(vdev, index);
	if (ret)
		return ret;

	vma->vm_private_data = vdev;
	/* the base type; the fault handler sets each page's (pci_barmap.c) */
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_pgoff = (pci_resource_start(pdev, index) >> PAGE_SHIFT) + pgoff;
	vcn_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vcn_vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &vcn_mmap_ops;
	return 0;
}
