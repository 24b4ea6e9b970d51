// SPDX-License-Identifier: GPL-2.0
/*
 * pci_config.c - the config region: what the user sees of config space.
 *
 * Policy (the parts vfio-pci virtualizes that matter; everything else passes
 * through to the device with the kernel's pci_user_{read,write}_config_*,
 * which also keep the user off the device while it is being reset):
 *
 *  - BARs 0x10-0x27 and the ROM BAR 0x30 are virtual. The device keeps the
 *    addresses the kernel gave it; the user reads back what it wrote, masked
 *    by the BAR's size and with the BAR's type bits, so the sizing protocol
 *    (write all ones, read back) works as on hardware.
 *  - PCI_COMMAND_INTX_DISABLE is virtual: the user reads back its own value,
 *    while the device's bit belongs to the INTx masking of SET_IRQS. The
 *    other command bits (memory, I/O, bus master) go to the device; turning
 *    memory decode off revokes every BAR mmap first.
 *  - The MSI and MSI-X capabilities belong to the kernel (VFIO_DEVICE_SET_IRQS
 *    programs them): reads show the device's state, writes are dropped.
 *  - PMCSR's PowerState field goes through the PCI core (pci_power.c).
 *  - PME is the kernel's: a user cannot take the wake-up events, so PMC's
 *    PME_Support and PMCSR's PME_En and PME_Status read as zero, and user
 *    writes never reach them (PME_Status is write-1-to-clear: writing back
 *    what was read would clear an event the kernel has not handled).
 *
 * Accesses of any size are split into naturally aligned 4/2/1-byte pieces.
 * Locks: vcn_device.lock for the virtual registers; memory_lock (write)
 * around a command register write.
 */
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vcn.h"

#define VCN_BAR_FIRST	PCI_BASE_ADDRESS_0
#define VCN_BAR_END	(PCI_BASE_ADDRESS_5 + 4)

void vcn_config_init(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_read_config_dword(pdev, VCN_BAR_FIRST + 4 * i, &vdev->vbar[i]);
	pci_read_config_dword(pdev, PCI_ROM_ADDRESS, &vdev->vrom);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	vdev->virq_disabled = cmd & PCI_COMMAND_INTX_DISABLE;
	down_write(&vdev->memory_lock);
	vdev->mem_enabled = cmd & PCI_COMMAND_MEMORY;
	up_write(&vdev->memory_lock);
}

/* the value a BAR register holds after the user wrote @val to it */
static u32 vcn_bar_value(struct pci_dev *pdev, int bar, u32 val)
{
	resource_size_t size = pci_resource_len(pdev, bar);
	unsigned long flags = pci_resource_flags(pdev, bar);

	if (!size) {
		/* the upper half of a 64-bit BAR holds the high size bits */
		if (bar > 0 && pci_resource_len(pdev, bar - 1) &&
		    (pci_resource_flags(pdev, bar - 1) & IORESOURCE_MEM_64))
			return val & upper_32_bits(~(pci_resource_len(pdev, bar - 1) - 1));
		return 0;
	}
	if (flags & IORESOURCE_IO)
		return (val & ~(u32)(size - 1) & PCI_BASE_ADDRESS_IO_MASK) |
		       PCI_BASE_ADDRESS_SPACE_IO;
	val &= ~(u32)(size - 1) & PCI_BASE_ADDRESS_MEM_MASK;
	if (flags & IORESOURCE_MEM_64)
		val |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & IORESOURCE_PREFETCH)
		val |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	return val;
}

static u32 vcn_rom_value(struct pci_dev *pdev, u32 val)
{
	resource_size_t size = pci_resource_len(pdev, PCI_ROM_RESOURCE);

	if (!size)
		return 0;
	return (val & ~(u32)(size - 1) & PCI_ROM_ADDRESS_MASK) |
	       (val & PCI_ROM_ADDRESS_ENABLE);
}

/* the virtual dword at @reg, or NULL where config space passes through */
static u32 *vcn_virt_dword(struct vcn_device *vdev, unsigned int reg)
{
	if (reg >= VCN_BAR_FIRST && reg < VCN_BAR_END)
		return &vdev->vbar[(reg - VCN_BAR_FIRST) / 4];
	if (reg == PCI_ROM_ADDRESS)
		return &vdev->vrom;
	return NULL;
}

static bool vcn_in_cap(unsigned int pos, u8 cap, unsigned int len)
{
	return cap && pos >= cap && pos < cap + len;
}

/* writes into the kernel-owned interrupt capabilities are dropped */
static bool vcn_write_dropped(struct pci_dev *pdev, unsigned int pos)
{
	unsigned int msi_len = 0;
	u16 flags;

	if (pdev->msi_cap) {
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
		msi_len = flags & PCI_MSI_FLAGS_64BIT ? 14 : 10;
		if (flags & PCI_MSI_FLAGS_MASKBIT)
			msi_len += 10;
	}
	return vcn_in_cap(pos, pdev->msi_cap, msi_len) ||
	       vcn_in_cap(pos, pdev->msix_cap, PCI_CAP_MSIX_SIZEOF);
}

static int vcn_cfg_hw_read(struct pci_dev *pdev, unsigned int pos, int size,
			   u32 *val)
{
	u16 w;
	u8 b;
	int ret;

	switch (size) {
	case 4:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_user_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	}
	return ret ? pcibios_err_to_errno(ret) : 0;
}

static int vcn_cfg_hw_write(struct pci_dev *pdev, unsigned int pos, int size,
			    u32 val)
{
	int ret;

	switch (size) {
	case 4:
		ret = pci_user_write_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_write_config_word(pdev, pos, val);
		break;
	default:
		ret = pci_user_write_config_byte(pdev, pos, val);
		break;
	}
	return ret ? pcibios_err_to_errno(ret) : 0;
}

static u32 vcn_extract(u32 dword, unsigned int pos, int size)
{
	u32 v = dword >> (8 * (pos & 3));

	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static u32 vcn_merge(u32 dword, unsigned int pos, int size, u32 val)
{
	unsigned int shift = 8 * (pos & 3);
	u32 mask = size == 4 ? ~0u : ((1u << (8 * size)) - 1) << shift;

	return (dword & ~mask) | ((val << shift) & mask);
}

/* the PME bits of the dword at @reg (capabilities are dword aligned) */
static u32 vcn_pme_bits(struct pci_dev *pdev, unsigned int reg)
{
	if (!pdev->pm_cap)
		return 0;
	if (reg == pdev->pm_cap)	/* PMC is the upper half */
		return (u32)PCI_PM_CAP_PME_MASK << 16;
	if (reg == pdev->pm_cap + PCI_PM_CTRL)
		return PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS;
	return 0;
}

static int vcn_cfg_read(struct vcn_device *vdev, unsigned int pos, int size,
			u32 *val)
{
	unsigned int reg = pos & ~3u;
	u32 *virt, dword;
	int ret;

	mutex_lock(&vdev->lock);
	virt = vcn_virt_dword(vdev, reg);
	if (virt) {
		*val = vcn_extract(*virt, pos, size);
		ret = 0;
	} else if (reg == PCI_COMMAND) {
		ret = vcn_cfg_hw_read(vdev->pdev, reg, 4, &dword);
		dword &= ~PCI_COMMAND_INTX_DISABLE;
		if (vdev->virq_disabled)
			dword |= PCI_COMMAND_INTX_DISABLE;
		*val = vcn_extract(dword, pos, size);
	} else {
		ret = vcn_cfg_hw_read(vdev->pdev, pos, size, val);
		*val &= ~vcn_extract(vcn_pme_bits(vdev->pdev, reg), pos, size);
	}
	mutex_unlock(&vdev->lock);
	return ret;
}

/*
 * Command register. The decode bits go to the device after every mapping
 * was revoked (memory_lock held for writing). The device's INTx-disable bit
 * belongs to INTx masking: the read-modify-write keeps it, under irqlock so
 * that the INTx handler cannot mask in between and be undone. The user's
 * INTx-disable is virtual and, as in vfio-pci, masks INTx while set.
 */
static int vcn_cfg_write_command(struct vcn_device *vdev, unsigned int pos,
				 int size, u32 val)
{
	unsigned int wsize = min_t(unsigned int, size, PCI_COMMAND + 2 - pos);
	bool covers_intx = pos + wsize > PCI_COMMAND + 1;	/* byte 1: bit 10 */
	struct pci_dev *pdev = vdev->pdev;
	bool user_disable = vdev->virq_disabled;
	unsigned long flags;
	u16 hw, new;

	if (covers_intx)
		user_disable = vcn_merge(0, pos, wsize, val) & PCI_COMMAND_INTX_DISABLE;

	vcn_zap_and_down_write_memory_lock(vdev);
	spin_lock_irqsave(&vdev->irqlock, flags);
	pci_read_config_word(pdev, PCI_COMMAND, &hw);
	new = vcn_merge(hw, pos, wsize, val);
	new = (new & ~PCI_COMMAND_INTX_DISABLE) | (hw & PCI_COMMAND_INTX_DISABLE);
	pci_write_config_word(pdev, PCI_COMMAND, new);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vcn_memory_update_and_up_write(vdev);

	if (user_disable != vdev->virq_disabled) {
		vdev->virq_disabled = user_disable;
		vcn_intx_user_disable(vdev, user_disable);
	}
	/* a 4-byte write at 0x04 also carries the status register (RW1C) */
	if (size > wsize)
		return vcn_cfg_hw_write(pdev, PCI_STATUS, 2, val >> 16);
	return 0;
}

/* does this piece of a write reach PMCSR (the low half of its dword)? */
static bool vcn_covers_pmcsr(struct pci_dev *pdev, unsigned int pos)
{
	return pdev->pm_cap && (pos & ~3u) == pdev->pm_cap + PCI_PM_CTRL &&
	       (pos & 3) < 2;
}

/*
 * The bits of PMCSR the kernel owns (PowerState and PME) reach the device
 * as the device has them, PME_Status as 0 so as not to clear it; the rest
 * of the piece as written. A new PowerState then goes through the PCI core.
 */
static int vcn_cfg_write_pmcsr(struct vcn_device *vdev, unsigned int pos,
			       int size, u32 val)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int ctrl = pdev->pm_cap + PCI_PM_CTRL;
	u32 owned = vcn_extract(PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE |
				PCI_PM_CTRL_PME_STATUS, pos, size);
	u16 pmcsr;
	int ret;

	/* the user accessor: it waits out a reset someone else is doing */
	ret = pci_user_read_config_word(pdev, ctrl, &pmcsr);
	if (ret)
		return pcibios_err_to_errno(ret);
	pmcsr &= ~PCI_PM_CTRL_PME_STATUS;
	ret = vcn_cfg_hw_write(pdev, pos, size,
			       (val & ~owned) | (vcn_extract(pmcsr, pos, size) & owned));
	if (ret)
		return ret;
	if (pos == ctrl)	/* the piece holds PowerState */
		vcn_power_user_set(vdev, val & PCI_PM_CTRL_STATE_MASK);
	return 0;
}

static int vcn_cfg_write(struct vcn_device *vdev, unsigned int pos, int size,
			 u32 val)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int reg = pos & ~3u;
	u32 *virt;
	int ret = 0;

	mutex_lock(&vdev->lock);
	virt = vcn_virt_dword(vdev, reg);
	if (virt) {
		u32 dword = vcn_merge(*virt, pos, size, val);

		if (reg == PCI_ROM_ADDRESS)
			*virt = vcn_rom_value(pdev, dword);
		else
			*virt = vcn_bar_value(pdev, (reg - VCN_BAR_FIRST) / 4, dword);
	} else if (reg == PCI_COMMAND && pos < PCI_COMMAND + 2) {
		ret = vcn_cfg_write_command(vdev, pos, size, val);
	} else if (vcn_covers_pmcsr(pdev, pos)) {
		ret = vcn_cfg_write_pmcsr(vdev, pos, size, val);
	} else if (!vcn_write_dropped(pdev, pos)) {
		ret = vcn_cfg_hw_write(pdev, pos, size, val);
	}
	mutex_unlock(&vdev->lock);
	return ret;
}

ssize_t vcn_config_rw(struct vcn_device *vdev, char __user *buf,
		      size_t count, loff_t pos, bool write)
{
	size_t done = 0;
	int ret;

	if (pos < 0 || pos >= vdev->pdev->cfg_size)
		return -EINVAL;
	count = min_t(size_t, count, vdev->pdev->cfg_size - pos);

	while (done < count) {
		unsigned int p = pos + done;
		size_t left = count - done;
		int size = (!(p & 3) && left >= 4) ? 4 :
			   (!(p & 1) && left >= 2) ? 2 : 1;
		u8 bytes[4];
		u32 val = 0;

		/* config space is little endian, whatever the CPU */
		if (write) {
			if (copy_from_user(bytes, buf + done, size))
				return -EFAULT;
			val = size == 4 ? get_unaligned_le32(bytes) :
			      size == 2 ? get_unaligned_le16(bytes) : bytes[0];
			ret = vcn_cfg_write(vdev, p, size, val);
		} else {
			ret = vcn_cfg_read(vdev, p, size, &val);
			if (size == 4)
				put_unaligned_le32(val, bytes);
			else if (size == 2)
				put_unaligned_le16(val, bytes);
			else
				bytes[0] = val;
			if (!ret && copy_to_user(buf + done, bytes, size))
				return -EFAULT;
		}
		if (ret)
			return done ? done : ret;
		done += size;
	}
	return done;
}
