// SPDX-License-Identifier: GPL-2.0
/*
 * pci_config.c - the config region: what the user sees of config space.
 *
 * The whole policy is the table vcn_cfg_rules[] below: per register of the
 * header, of a capability or of an extended capability, which bits the
 * user sees from the kernel instead of the device ("virt"), which bits a
 * user write may change ("wr": on the device, or through the register's
 * write hook for virtual bits), and a hook for the registers whose writes
 * must become kernel calls. A byte no rule covers passes through both ways,
 * with the kernel's pci_user_{read,write}_config_*, which also keep the user
 * off the device while it is being reset. A write to bits outside "wr" is
 * dropped: the device keeps its value.
 *
 * At open, vcn_config_init() maps every byte of this device's config space
 * to the rule that covers it (later rules of the table win where two cover
 * the same byte: a read-only capability, then the registers in it that are
 * writable). Accesses of any size are split into naturally aligned 4/2/1
 * byte pieces, and further into halves until each piece lies in a single
 * register of a single rule, or in bytes no rule covers.
 *
 * Locks: vcn_device.lock for the virtual registers and around every access;
 * the hooks take igate (command register) and memory_lock (write) around
 * anything that can change decode, in that order.
 */
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vcn.h"

/* where a rule applies: the type 0 header, a capability, or an extended one */
#define VCN_HDR		0x100
#define VCN_ECAP(id)	(0x200 | (id))

/* one user write into one register of a rule */
struct vcn_cfg_wr {
	unsigned int reg;	/* the register's offset in config space */
	unsigned int pos, size;	/* the piece written, inside the register */
	u32 mask;		/* the piece's bits, in the register */
	u32 hw;			/* the device's value of the register */
	u32 old, new;		/* the user's view before and after */
};

struct vcn_cfg_rule {
	u16 where;	/* VCN_HDR, a capability ID, or VCN_ECAP(id) */
	u16 off;	/* from the header or the capability's start */
	u16 len;	/* bytes covered; 0: the whole capability */
	u8 width;	/* register width; registers are naturally aligned */
	u32 virt;	/* bits read from ->vread (zero without one) */
	u32 wr;		/* bits a user write may change */
	u32 w1c;	/* write-1-to-clear bits the kernel owns: written as 0 */
	/* the virtual bits' value; @hw is the device's register */
	u32 (*vread)(struct vcn_device *vdev, unsigned int reg, u32 hw);
	/* the write, instead of the generic one (which writes wr & ~virt) */
	int (*write)(struct vcn_device *vdev, const struct vcn_cfg_rule *r,
		     const struct vcn_cfg_wr *w);
};

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

/* bits of a @size byte piece at byte @shift of a register */
static u32 vcn_piece_mask(unsigned int shift, unsigned int size)
{
	return (size == 4 ? ~0u : (1u << (8 * size)) - 1) << (8 * shift);
}

/*
 * The generic write: the piece's writable, non-virtual bits as the user
 * wrote them, its other bits as the device has them (kernel-owned
 * write-1-to-clear bits as 0); nothing reaches the device if no bit may.
 */
static int vcn_cfg_write_device(struct vcn_device *vdev, u32 wr, u32 w1c,
				const struct vcn_cfg_wr *w)
{
	unsigned int shift = 8 * (w->pos - w->reg);
	u32 hwm = w->mask & wr;
	u32 val = (w->new & hwm) | (w->hw & ~hwm & ~w1c);

	if (!hwm)
		return 0;
	return vcn_cfg_hw_write(vdev->pdev, w->pos, w->size, val >> shift);
}

static int vcn_cfg_write_generic(struct vcn_device *vdev,
				 const struct vcn_cfg_rule *r,
				 const struct vcn_cfg_wr *w)
{
	return vcn_cfg_write_device(vdev, r->wr & ~r->virt, r->w1c, w);
}

/* ---- the header ---- */

/* a VF's ID registers read 0xffff on the device: show the IDs it has */
static u32 vcn_ids_read(struct vcn_device *vdev, unsigned int reg, u32 hw)
{
	struct pci_dev *pdev = vdev->pdev;

	return pdev->is_virtfn ? pdev->vendor | (u32)pdev->device << 16 : hw;
}

/*
 * Command register. INTx-disable is virtual: the user reads back its own
 * bit; while INTx is in use through SET_IRQS the device's bit belongs to
 * INTx masking (pci_intrs.c), otherwise the user's bit reaches the device.
 * Memory enable is virtual only where the device does not implement it
 * (VFs: pdev->no_command_memory), whose decode is always on.
 */
static u32 vcn_command_read(struct vcn_device *vdev, unsigned int reg, u32 hw)
{
	u32 v = hw & PCI_COMMAND_MEMORY;

	if (vdev->pdev->no_command_memory)
		v = vdev->vmem_enabled ? PCI_COMMAND_MEMORY : 0;
	return v | (vdev->virq_disabled ? PCI_COMMAND_INTX_DISABLE : 0);
}

/*
 * The decode bits go to the device after every mapping was revoked
 * (memory_lock held for writing); pci_intrs.c decides the device's
 * INTx-disable bit, under irqlock so that the INTx handler cannot mask in
 * between and be undone.
 */
static int vcn_command_write(struct vcn_device *vdev,
			     const struct vcn_cfg_rule *r,
			     const struct vcn_cfg_wr *w)
{
	struct pci_dev *pdev = vdev->pdev;
	bool user_disable = w->new & PCI_COMMAND_INTX_DISABLE;
	u32 hwm = w->mask & ~PCI_COMMAND_INTX_DISABLE;
	unsigned long flags;
	u16 hw, cmd;

	if (pdev->no_command_memory) {
		vdev->vmem_enabled = w->new & PCI_COMMAND_MEMORY;
		hwm &= ~PCI_COMMAND_MEMORY;
	}
	/* igate: whether INTx is in use must not change under us */
	mutex_lock(&vdev->igate);
	vcn_zap_and_down_write_memory_lock(vdev);
	spin_lock_irqsave(&vdev->irqlock, flags);
	pci_read_config_word(pdev, PCI_COMMAND, &hw);
	cmd = (hw & ~hwm) | (w->new & hwm);
	cmd = vcn_intx_hw_bit(vdev, cmd, user_disable);
	if (cmd != hw)
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vcn_memory_update_and_up_write(vdev);

	if (user_disable != vdev->virq_disabled) {
		vdev->virq_disabled = user_disable;
		vcn_intx_user_disable(vdev, user_disable);
	}
	mutex_unlock(&vdev->igate);
	return 0;
}

/*
 * BARs and the ROM BAR are virtual. The device keeps the addresses the
 * kernel gave it; the user reads back what it wrote, masked by the BAR's
 * size and with the BAR's type bits, so the sizing protocol (write all
 * ones, read back) works as on hardware.
 */
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

static u32 *vcn_vbar(struct vcn_device *vdev, unsigned int reg)
{
	if (reg == PCI_ROM_ADDRESS)
		return &vdev->vrom;
	return &vdev->vbar[(reg - PCI_BASE_ADDRESS_0) / 4];
}

static u32 vcn_bar_read(struct vcn_device *vdev, unsigned int reg, u32 hw)
{
	return *vcn_vbar(vdev, reg);
}

static int vcn_bar_write(struct vcn_device *vdev, const struct vcn_cfg_rule *r,
			 const struct vcn_cfg_wr *w)
{
	struct pci_dev *pdev = vdev->pdev;

	if (w->reg == PCI_ROM_ADDRESS)
		vdev->vrom = vcn_rom_value(pdev, w->new);
	else
		vdev->vbar[(w->reg - PCI_BASE_ADDRESS_0) / 4] =
			vcn_bar_value(pdev, (w->reg - PCI_BASE_ADDRESS_0) / 4, w->new);
	return 0;
}

/* ---- power management ---- */

/*
 * PMCSR: PME is the kernel's (PME_En and PME_Status read as zero and never
 * change; PME_Status is write-1-to-clear, so it is written as 0), and a new
 * PowerState goes through the PCI core (pci_power.c) instead of the device.
 */
static int vcn_pmcsr_write(struct vcn_device *vdev, const struct vcn_cfg_rule *r,
			   const struct vcn_cfg_wr *w)
{
	int ret;

	ret = vcn_cfg_write_device(vdev, r->wr & ~r->virt & ~PCI_PM_CTRL_STATE_MASK,
				   r->w1c, w);
	if (ret)
		return ret;
	if (w->mask & PCI_PM_CTRL_STATE_MASK)	/* the piece holds PowerState */
		vcn_power_user_set(vdev, w->new & PCI_PM_CTRL_STATE_MASK);
	return 0;
}

/* ---- PCI Express ---- */

/* Max_Payload_Size needs a system-wide view: the user gets a copy */
static u32 vcn_devctl_read(struct vcn_device *vdev, unsigned int reg, u32 hw)
{
	return vdev->vmps;	/* Initiate FLR always reads as 0 */
}

/*
 * Device Control: Initiate FLR becomes a function reset through the PCI
 * core (mappings revoked, config state saved and restored around it), on a
 * device that advertises FLR; MPS is kept virtual; a new Max_Read_Request
 * goes through pcie_set_readrq(), never below the device's MPS (a lower
 * value the user has no system view to need costs full-size TLPs).
 */
static int vcn_devctl_write(struct vcn_device *vdev, const struct vcn_cfg_rule *r,
			    const struct vcn_cfg_wr *w)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 raw = r->wr & ~r->virt & ~PCI_EXP_DEVCTL_READRQ;
	u32 cap;
	int ret;

	vdev->vmps = w->new & PCI_EXP_DEVCTL_PAYLOAD;
	ret = vcn_cfg_write_device(vdev, raw, 0, w);
	if (ret)
		return ret;
	if ((w->new ^ w->hw) & w->mask & PCI_EXP_DEVCTL_READRQ) {
		int rq = 128 << ((w->new & PCI_EXP_DEVCTL_READRQ) >> 12);

		ret = pcie_set_readrq(pdev, max(rq, pcie_get_mps(pdev)));
		if (ret)
			return ret;
	}
	if (!(w->new & w->mask & PCI_EXP_DEVCTL_BCR_FLR))
		return 0;
	ret = pcie_capability_read_dword(pdev, PCI_EXP_DEVCAP, &cap);
	if (ret || !(cap & PCI_EXP_DEVCAP_FLR))
		return 0;	/* no FLR to initiate: the bit is dropped */
	ret = vcn_reset_function_locked(vdev);
	if (ret)
		pci_info(pdev, "FLR requested through config space failed: %d\n", ret);
	return 0;
}

/* ---- the policy ---- */

static const struct vcn_cfg_rule vcn_cfg_rules[] = {
	/* header: IDs (a VF's read 0xffff on the device), read-only */
	{ VCN_HDR, PCI_VENDOR_ID, 4, 4, .virt = ~0u, .wr = 0,
	  .vread = vcn_ids_read },
	{ VCN_HDR, PCI_COMMAND, 2, 2,
	  .virt = PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_MEMORY, .wr = 0xffff,
	  .vread = vcn_command_read, .write = vcn_command_write },
	{ VCN_HDR, PCI_BASE_ADDRESS_0, 24, 4, .virt = ~0u, .wr = ~0u,
	  .vread = vcn_bar_read, .write = vcn_bar_write },
	{ VCN_HDR, PCI_ROM_ADDRESS, 4, 4, .virt = ~0u, .wr = ~0u,
	  .vread = vcn_bar_read, .write = vcn_bar_write },
	/* PM: PME is the kernel's; PowerState goes through the PCI core */
	{ PCI_CAP_ID_PM, PCI_PM_PMC, 2, 2, .virt = PCI_PM_CAP_PME_MASK, .wr = 0 },
	{ PCI_CAP_ID_PM, PCI_PM_CTRL, 2, 2,
	  .virt = PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
	  .wr = 0xffff, .w1c = PCI_PM_CTRL_PME_STATUS, .write = vcn_pmcsr_write },
	/* MSI and MSI-X belong to the kernel: VFIO_DEVICE_SET_IRQS programs them */
	{ PCI_CAP_ID_MSI, 0, 0, 4, .wr = 0 },
	{ PCI_CAP_ID_MSIX, 0, 0, 4, .wr = 0 },
	/*
	 * PCI Express: read-only (link control, slot, root and the second
	 * link registers are the kernel's: ASPM, retraining, speed), but for
	 * Device Control (phantom functions would alias requester IDs) and
	 * Device Control 2 (ARI forwarding is set up by the kernel)
	 */
	{ PCI_CAP_ID_EXP, 0, 0, 4, .wr = 0 },
	{ PCI_CAP_ID_EXP, PCI_EXP_DEVCTL, 2, 2,
	  .virt = PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_BCR_FLR,
	  .wr = 0xffff & ~PCI_EXP_DEVCTL_PHANTOM,
	  .vread = vcn_devctl_read, .write = vcn_devctl_write },
	{ PCI_CAP_ID_EXP, PCI_EXP_DEVCTL2, 2, 2, .wr = 0xffff & ~PCI_EXP_DEVCTL2_ARI },
	/* VF set-up and BAR sizes are the kernel's: read-only */
	{ VCN_ECAP(PCI_EXT_CAP_ID_SRIOV), 0, PCI_EXT_CAP_SRIOV_SIZEOF, 4, .wr = 0 },
	{ VCN_ECAP(PCI_EXT_CAP_ID_REBAR), 0, 0, 4, .wr = 0 },
};

static_assert(ARRAY_SIZE(vcn_cfg_rules) < U8_MAX);

/* the length of a capability at @pos, for rules that cover all of it */
static unsigned int vcn_cap_len(struct pci_dev *pdev, u16 where,
				unsigned int pos)
{
	u16 flags;
	u32 ctrl;

	switch (where) {
	case PCI_CAP_ID_MSI:
		pci_read_config_word(pdev, pos + PCI_MSI_FLAGS, &flags);
		return (flags & PCI_MSI_FLAGS_64BIT ? 14 : 10) +
		       (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		return (pcie_caps_reg(pdev) & PCI_EXP_FLAGS_VERS) > 1 ?
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 :
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	case VCN_ECAP(PCI_EXT_CAP_ID_REBAR):
		/* a header, then a capability and a control dword per BAR */
		pci_read_config_dword(pdev, pos + PCI_REBAR_CTRL, &ctrl);
		return 4 + 8 * clamp_t(u32, (ctrl & PCI_REBAR_CTRL_NBAR_MASK) >>
				       PCI_REBAR_CTRL_NBAR_SHIFT, 1, PCI_STD_NUM_BARS);
	}
	return 0;
}

/* the next instance of capability @where after the one at @pos (0: the first) */
static unsigned int vcn_cap_next(struct pci_dev *pdev, u16 where,
				 unsigned int pos)
{
	if (where & 0x200)
		return pci_find_next_ext_capability(pdev, pos, where & 0xff);
	return pos ? pci_find_next_capability(pdev, pos, where) :
		     pci_find_capability(pdev, where);
}

static void vcn_cfg_map_at(struct vcn_device *vdev, unsigned int i,
			   unsigned int base)
{
	const struct vcn_cfg_rule *r = &vcn_cfg_rules[i];
	unsigned int start = base + r->off;
	unsigned int len = r->len ?: vcn_cap_len(vdev->pdev, r->where, base);
	unsigned int b;

	if (WARN_ON_ONCE(start % r->width))
		return;	/* the table promises natural alignment */
	for (b = start; b < start + len && b < vdev->pdev->cfg_size; b++)
		vdev->cfg_map[b] = i + 1;
}

static void vcn_cfg_map_rule(struct vcn_device *vdev, unsigned int i)
{
	u16 where = vcn_cfg_rules[i].where;
	unsigned int pos;

	if (where == VCN_HDR) {
		vcn_cfg_map_at(vdev, i, 0);
		return;
	}
	for (pos = vcn_cap_next(vdev->pdev, where, 0); pos;
	     pos = vcn_cap_next(vdev->pdev, where, pos))
		vcn_cfg_map_at(vdev, i, pos);
}

void vcn_config_init(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;
	u16 cmd, devctl = 0;

	memset(vdev->cfg_map, 0, sizeof(vdev->cfg_map));
	for (i = 0; i < ARRAY_SIZE(vcn_cfg_rules); i++)
		vcn_cfg_map_rule(vdev, i);

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i, &vdev->vbar[i]);
	pci_read_config_dword(pdev, PCI_ROM_ADDRESS, &vdev->vrom);
	pcie_capability_read_word(pdev, PCI_EXP_DEVCTL, &devctl);
	vdev->vmps = devctl & PCI_EXP_DEVCTL_PAYLOAD;
	/* as vfio-pci: a VF's decode is on, so it reads back as on */
	vdev->vmem_enabled = true;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	vdev->virq_disabled = cmd & PCI_COMMAND_INTX_DISABLE;
	down_write(&vdev->memory_lock);
	vdev->mem_enabled = vcn_decodes(vdev, cmd);
	up_write(&vdev->memory_lock);
}

static const struct vcn_cfg_rule *vcn_rule_at(struct vcn_device *vdev,
					      unsigned int pos)
{
	u8 i = vdev->cfg_map[pos];

	return i ? &vcn_cfg_rules[i - 1] : NULL;
}

/* is the piece in one register of one rule, or in bytes no rule covers? */
static bool vcn_piece_whole(struct vcn_device *vdev, unsigned int pos, int size)
{
	const struct vcn_cfg_rule *r = vcn_rule_at(vdev, pos);
	int b;

	if (r && size > r->width)
		return false;
	for (b = 1; b < size; b++)
		if (vcn_rule_at(vdev, pos + b) != r)
			return false;
	return true;
}

/* the user's view of the register @reg of rule @r */
static int vcn_rule_view(struct vcn_device *vdev, const struct vcn_cfg_rule *r,
			 unsigned int reg, u32 *hw, u32 *view)
{
	int ret = vcn_cfg_hw_read(vdev->pdev, reg, r->width, hw);

	if (ret)
		return ret;
	*view = (*hw & ~r->virt) |
		((r->vread ? r->vread(vdev, reg, *hw) : 0) & r->virt);
	return 0;
}

static int vcn_cfg_read(struct vcn_device *vdev, unsigned int pos, int size,
			u32 *val)
{
	const struct vcn_cfg_rule *r;
	unsigned int reg;
	u32 hw, view;
	int ret;

	if (!vcn_piece_whole(vdev, pos, size)) {
		u32 lo = 0, hi = 0;

		size /= 2;
		ret = vcn_cfg_read(vdev, pos, size, &lo);
		if (!ret)
			ret = vcn_cfg_read(vdev, pos + size, size, &hi);
		*val = lo | hi << (8 * size);
		return ret;
	}
	r = vcn_rule_at(vdev, pos);
	if (!r)
		return vcn_cfg_hw_read(vdev->pdev, pos, size, val);
	reg = pos & ~(r->width - 1u);
	ret = vcn_rule_view(vdev, r, reg, &hw, &view);
	*val = (view & vcn_piece_mask(pos - reg, size)) >> (8 * (pos - reg));
	return ret;
}

static int vcn_cfg_write(struct vcn_device *vdev, unsigned int pos, int size,
			 u32 val)
{
	const struct vcn_cfg_rule *r;
	struct vcn_cfg_wr w;
	int ret;

	if (!vcn_piece_whole(vdev, pos, size)) {
		size /= 2;
		ret = vcn_cfg_write(vdev, pos, size, val & ((1u << (8 * size)) - 1));
		return ret ?: vcn_cfg_write(vdev, pos + size, size, val >> (8 * size));
	}
	r = vcn_rule_at(vdev, pos);
	if (!r)
		return vcn_cfg_hw_write(vdev->pdev, pos, size, val);

	w.reg = pos & ~(r->width - 1u);
	w.pos = pos;
	w.size = size;
	w.mask = vcn_piece_mask(pos - w.reg, size);
	ret = vcn_rule_view(vdev, r, w.reg, &w.hw, &w.old);
	if (ret)
		return ret;
	w.new = (w.old & ~(w.mask & r->wr)) |
		((val << (8 * (pos - w.reg))) & w.mask & r->wr);
	return (r->write ?: vcn_cfg_write_generic)(vdev, r, &w);
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
		}
		mutex_lock(&vdev->lock);
		ret = write ? vcn_cfg_write(vdev, p, size, val) :
			      vcn_cfg_read(vdev, p, size, &val);
		mutex_unlock(&vdev->lock);
		if (!write) {
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
