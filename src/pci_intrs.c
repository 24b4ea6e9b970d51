// SPDX-License-Identifier: GPL-2.0
/*
 * pci_intrs.c - VFIO_DEVICE_GET_IRQ_INFO and VFIO_DEVICE_SET_IRQS: INTx,
 * MSI, MSI-X, ERR and REQ, each delivered to userspace through an eventfd.
 *
 * One handler per (index, action) pair behind a small dispatcher, as
 * vfio-pci. INTx is level triggered and may be shared, so it is automasked:
 * the handler masks it at the device (PCI 2.3 INTx-disable) or at the
 * interrupt controller (older devices, then not shared) before signalling,
 * and only ACTION_UNMASK lets the next one through; one already pending at
 * unmask is signalled at once instead of being unmasked into. MSI and MSI-X
 * vectors are allocated when first enabled (start + count of them) and can
 * then get and lose eventfds one by one while enabled; growing the set
 * needs a disable first (NORESIZE). DATA_NONE and DATA_BOOL with
 * ACTION_TRIGGER signal the eventfds from here, for loopback testing.
 *
 * Locks: igate around every configuration change; irqlock (irq-safe) for
 * the INTx mask state and its eventfd, taken by the INTx handler;
 * trigger_lock (leaf) for the ERR and REQ eventfds, signalled from the AER
 * core and from unbind without igate.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

static unsigned int vcn_irq_count(struct vcn_device *vdev, unsigned int index)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;
	u8 pin = 0;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin && pdev->irq ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
		return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

long vcn_ioctl_get_irq_info(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vcn_irq_count(vdev, info.index);
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* ---- INTx ---- */

/* the device's own INTx-disable bit; under irqlock */
static void vcn_intx_hw_mask(struct vcn_device *vdev, bool mask)
{
	u16 cmd, new;

	pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
	new = mask ? cmd | PCI_COMMAND_INTX_DISABLE :
		     cmd & ~PCI_COMMAND_INTX_DISABLE;
	if (new != cmd)
		pci_write_config_word(vdev->pdev, PCI_COMMAND, new);
}

static irqreturn_t vcn_intx_handler(int irq, void *data)
{
	struct vcn_device *vdev = data;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->pci_2_3) {
		disable_irq_nosync(irq);
		vdev->intx_masked = true;
		ret = IRQ_HANDLED;
	} else if (!vdev->intx_masked && pci_check_and_mask_intx(vdev->pdev)) {
		vdev->intx_masked = true;
		ret = IRQ_HANDLED;
	}
	if (ret == IRQ_HANDLED && vdev->irqs[0].trigger)
		vcn_eventfd_signal(vdev->irqs[0].trigger);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return ret;
}

static void vcn_intx_mask(struct vcn_device *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->intx_masked) {
		if (vdev->pci_2_3)
			vcn_intx_hw_mask(vdev, true);
		else
			disable_irq_nosync(vdev->pdev->irq);
		vdev->intx_masked = true;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

static void vcn_intx_unmask(struct vcn_device *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->intx_masked && !vdev->virq_disabled) {
		if (!vdev->pci_2_3) {
			enable_irq(vdev->pdev->irq);
			vdev->intx_masked = false;
		} else if (pci_check_and_unmask_intx(vdev->pdev)) {
			vdev->intx_masked = false;
		} else if (vdev->irqs[0].trigger) {
			/* still asserted: deliver it now, stay masked */
			vcn_eventfd_signal(vdev->irqs[0].trigger);
		}
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

static void vcn_intx_set_trigger(struct vcn_device *vdev,
				 struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	old = vdev->irqs[0].trigger;
	vdev->irqs[0].trigger = trigger;
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	if (old)
		eventfd_ctx_put(old);
}

static int vcn_intx_enable(struct vcn_device *vdev, struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	char *name;
	int ret;

	vdev->irqs = kcalloc(1, sizeof(*vdev->irqs), GFP_KERNEL_ACCOUNT);
	name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)", pci_name(pdev));
	if (!vdev->irqs || !name) {
		ret = -ENOMEM;
		goto err;
	}
	vdev->irqs[0].name = name;
	vdev->irqs[0].trigger = trigger;
	/* the user's INTx-disable in config space starts it masked */
	spin_lock_irqsave(&vdev->irqlock, flags);
	vdev->intx_masked = vdev->virq_disabled;
	if (vdev->pci_2_3)
		vcn_intx_hw_mask(vdev, vdev->intx_masked);
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	/*
	 * An exclusive line starts disabled: an interrupt between request_irq()
	 * and a disable_irq() would otherwise leave it disabled twice, and one
	 * UNMASK could never bring it back.
	 */
	ret = request_irq(pdev->irq, vcn_intx_handler,
			  vdev->pci_2_3 ? IRQF_SHARED : IRQF_NO_AUTOEN, name, vdev);
	if (ret)
		goto err;
	if (!vdev->pci_2_3 && !vdev->intx_masked)
		enable_irq(pdev->irq);
	vdev->irq_type = VCN_IRQ_INTX;
	vdev->num_irqs = 1;
	return 0;
err:
	kfree(name);
	kfree(vdev->irqs);
	vdev->irqs = NULL;
	return ret;
}

static void vcn_intx_disable(struct vcn_device *vdev)
{
	unsigned long flags;

	free_irq(vdev->pdev->irq, vdev);
	spin_lock_irqsave(&vdev->irqlock, flags);
	/* INTx no longer in use: the device's bit is the user's again */
	if (vdev->pci_2_3)
		vcn_intx_hw_mask(vdev, vdev->virq_disabled);
	vdev->intx_masked = false;
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	if (vdev->irqs[0].trigger)
		eventfd_ctx_put(vdev->irqs[0].trigger);
	kfree(vdev->irqs[0].name);
	kfree(vdev->irqs);
	vdev->irqs = NULL;
	vdev->num_irqs = 0;
	vdev->irq_type = VCN_IRQ_NONE;
}

/*
 * The user changed PCI_COMMAND_INTX_DISABLE in config space (igate held):
 * as vfio-pci, that masks or unmasks INTx when it is in use.
 */
void vcn_intx_user_disable(struct vcn_device *vdev, bool disable)
{
	lockdep_assert_held(&vdev->igate);
	if (vdev->irq_type == VCN_IRQ_INTX) {
		if (disable)
			vcn_intx_mask(vdev);
		else
			vcn_intx_unmask(vdev);
	}
}

/*
 * The device's INTx-disable bit for a user write of @cmd (igate and irqlock
 * held). While INTx is in use the bit is the automasking's, and stays as
 * the device has it. Otherwise nobody in the kernel handles the device's
 * INTx, and the user's own bit reaches the device (PCI 2.3 masking), so a
 * polling driver can keep a device quiet on a line it shares: an assertion
 * nobody handles would otherwise get the line disabled for every device on
 * it ("nobody cared").
 */
u16 vcn_intx_hw_bit(struct vcn_device *vdev, u16 cmd, bool user_disable)
{
	lockdep_assert_held(&vdev->igate);
	lockdep_assert_held(&vdev->irqlock);
	if (vdev->irq_type == VCN_IRQ_INTX || !vdev->pci_2_3)
		return cmd;
	return user_disable ? cmd | PCI_COMMAND_INTX_DISABLE :
			      cmd & ~PCI_COMMAND_INTX_DISABLE;
}

/* ---- MSI / MSI-X ---- */

static irqreturn_t vcn_msi_handler(int irq, void *arg)
{
	vcn_eventfd_signal(arg);
	return IRQ_HANDLED;
}

static int vcn_msi_enable(struct vcn_device *vdev, unsigned int nvec, bool msix)
{
	u16 cmd;
	int ret;

	vdev->irqs = kcalloc(nvec, sizeof(*vdev->irqs), GFP_KERNEL_ACCOUNT);
	if (!vdev->irqs)
		return -ENOMEM;
	/* the MSI-X table lives in a BAR: decode must be on to program it */
	cmd = vcn_memory_lock_and_enable(vdev);
	ret = pci_alloc_irq_vectors(vdev->pdev, 1, nvec,
				    msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI);
	vcn_memory_unlock_and_restore(vdev, cmd);
	if (ret < (int)nvec) {
		if (ret > 0)
			pci_free_irq_vectors(vdev->pdev);
		kfree(vdev->irqs);
		vdev->irqs = NULL;
		/*
		 * As upstream: fewer vectors than asked for (x86 gives one MSI
		 * vector without interrupt remapping) enables none, and
		 * SET_IRQS returns how many there could be, a positive count
		 */
		return ret;
	}
	vdev->num_irqs = nvec;
	vdev->irq_type = msix ? VCN_IRQ_MSIX : VCN_IRQ_MSI;
	return 0;
}

static int vcn_msi_set_vector(struct vcn_device *vdev, unsigned int vector,
			      int fd)
{
	struct vcn_irq *v = &vdev->irqs[vector];
	struct eventfd_ctx *trigger;
	int irq, ret;
	char *name;

	irq = pci_irq_vector(vdev->pdev, vector);
	if (irq < 0)
		return -EINVAL;
	if (v->trigger) {
		free_irq(irq, v->trigger);
		kfree(v->name);
		eventfd_ctx_put(v->trigger);
		v->trigger = NULL;
		v->name = NULL;
	}
	if (fd < 0)
		return 0;

	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger))
		return PTR_ERR(trigger);
	name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%u](%s)",
			 vdev->irq_type == VCN_IRQ_MSIX ? "x" : "", vector,
			 pci_name(vdev->pdev));
	if (!name) {
		eventfd_ctx_put(trigger);
		return -ENOMEM;
	}
	ret = request_irq(irq, vcn_msi_handler, 0, name, trigger);
	if (ret) {
		kfree(name);
		eventfd_ctx_put(trigger);
		return ret;
	}
	v->trigger = trigger;
	v->name = name;
	return 0;
}

static int vcn_msi_set_block(struct vcn_device *vdev, unsigned int start,
			     unsigned int count, const s32 *fds)
{
	unsigned int i;
	int ret = 0;
	u16 cmd;

	if (start >= vdev->num_irqs || start + count > vdev->num_irqs)
		return -EINVAL;
	/* (un)masking a vector writes the MSI-X table: decode on */
	cmd = vcn_memory_lock_and_enable(vdev);
	for (i = 0; i < count && !ret; i++)
		ret = vcn_msi_set_vector(vdev, start + i, fds ? fds[i] : -1);
	if (ret) {	/* all or nothing: undo the vectors set by this call */
		while (i--)
			vcn_msi_set_vector(vdev, start + i, -1);
	}
	vcn_memory_unlock_and_restore(vdev, cmd);
	return ret;
}

static void vcn_msi_disable(struct vcn_device *vdev)
{
	u16 cmd;

	vcn_msi_set_block(vdev, 0, vdev->num_irqs, NULL);
	cmd = vcn_memory_lock_and_enable(vdev);
	pci_free_irq_vectors(vdev->pdev);
	vcn_memory_unlock_and_restore(vdev, cmd);
	kfree(vdev->irqs);
	vdev->irqs = NULL;
	vdev->num_irqs = 0;
	vdev->irq_type = VCN_IRQ_NONE;
}

/* ---- the (index, action) handlers ---- */

struct vcn_irq_req {
	unsigned int index, start, count;
	u32 flags;
	void *data;
};

static bool vcn_data_none(const struct vcn_irq_req *r)
{
	return r->flags & VFIO_IRQ_SET_DATA_NONE;
}

static bool vcn_data_bool(const struct vcn_irq_req *r)
{
	return r->flags & VFIO_IRQ_SET_DATA_BOOL;
}

static bool vcn_data_eventfd(const struct vcn_irq_req *r)
{
	return r->flags & VFIO_IRQ_SET_DATA_EVENTFD;
}

static int vcn_set_intx_mask(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	if (vdev->irq_type != VCN_IRQ_INTX || r->start || r->count != 1)
		return -EINVAL;
	if (vcn_data_eventfd(r))
		return -ENOTTY;		/* masking through an eventfd: not offered */
	if (vcn_data_none(r) || *(u8 *)r->data)
		vcn_intx_mask(vdev);
	return 0;
}

static int vcn_set_intx_unmask(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	if (vdev->irq_type != VCN_IRQ_INTX || r->start || r->count != 1)
		return -EINVAL;
	if (vcn_data_eventfd(r))
		return -ENOTTY;		/* unmask through an eventfd: not offered */
	if (vcn_data_none(r) || *(u8 *)r->data)
		vcn_intx_unmask(vdev);
	return 0;
}

static int vcn_set_intx_trigger(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	bool is_intx = vdev->irq_type == VCN_IRQ_INTX;
	unsigned long flags;

	if (is_intx && !r->count && vcn_data_none(r)) {
		vcn_intx_disable(vdev);
		return 0;
	}
	if (!(is_intx || vdev->irq_type == VCN_IRQ_NONE) || r->start ||
	    r->count != 1)
		return -EINVAL;

	if (vcn_data_eventfd(r)) {
		s32 fd = *(s32 *)r->data;
		struct eventfd_ctx *trigger = NULL;
		int ret;

		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		} else if (fd != -1) {
			return -EINVAL;
		}
		if (is_intx) {
			vcn_intx_set_trigger(vdev, trigger);
			return 0;
		}
		ret = vcn_intx_enable(vdev, trigger);
		if (ret && trigger)
			eventfd_ctx_put(trigger);
		return ret;
	}
	if (!is_intx)
		return -EINVAL;
	if (vcn_data_none(r) || *(u8 *)r->data) {
		spin_lock_irqsave(&vdev->irqlock, flags);
		if (vdev->irqs[0].trigger)
			vcn_eventfd_signal(vdev->irqs[0].trigger);
		spin_unlock_irqrestore(&vdev->irqlock, flags);
	}
	return 0;
}

static int vcn_set_msi_trigger(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	bool msix = r->index == VFIO_PCI_MSIX_IRQ_INDEX;
	enum vcn_irq_type type = msix ? VCN_IRQ_MSIX : VCN_IRQ_MSI;
	unsigned int i;
	int ret;

	if (vdev->irq_type == type && !r->count && vcn_data_none(r)) {
		vcn_msi_disable(vdev);
		return 0;
	}
	if (!(vdev->irq_type == type || vdev->irq_type == VCN_IRQ_NONE))
		return -EINVAL;		/* another interrupt type is enabled */

	if (vcn_data_eventfd(r)) {
		if (vdev->irq_type == type)
			return vcn_msi_set_block(vdev, r->start, r->count, r->data);
		if (!r->count)
			return -EINVAL;
		ret = vcn_msi_enable(vdev, r->start + r->count, msix);
		if (ret)
			return ret;
		ret = vcn_msi_set_block(vdev, r->start, r->count, r->data);
		if (ret)
			vcn_msi_disable(vdev);
		return ret;
	}
	if (vdev->irq_type != type || r->start + r->count > vdev->num_irqs)
		return -EINVAL;
	for (i = 0; i < r->count; i++) {
		struct eventfd_ctx *t = vdev->irqs[r->start + i].trigger;

		if (t && (vcn_data_none(r) || ((u8 *)r->data)[i]))
			vcn_eventfd_signal(t);
	}
	return 0;
}

/*
 * ERR and REQ: one eventfd each, no vector behind it. Their pointers are
 * under trigger_lock, a leaf, not igate: the AER core calls error_detected
 * holding pci_bus_sem, which a hot reset takes under memory_lock, which
 * SET_IRQS takes under igate; waiting for igate there closes that circle.
 */
static bool vcn_trigger_signal(struct vcn_device *vdev, struct eventfd_ctx **ctx)
{
	bool there;

	spin_lock(&vdev->trigger_lock);
	there = *ctx;
	if (there)
		vcn_eventfd_signal(*ctx);
	spin_unlock(&vdev->trigger_lock);
	return there;
}

/* the old eventfd, for the caller to put once the lock is dropped */
static struct eventfd_ctx *vcn_trigger_swap(struct vcn_device *vdev,
					    struct eventfd_ctx **ctx,
					    struct eventfd_ctx *new)
{
	struct eventfd_ctx *old;

	spin_lock(&vdev->trigger_lock);
	old = *ctx;
	*ctx = new;
	spin_unlock(&vdev->trigger_lock);
	return old;
}

/* igate held: setters are serialized, only readers race with them */
static int vcn_set_ctx_trigger(struct vcn_device *vdev, struct eventfd_ctx **ctx,
			       struct vcn_irq_req *r)
{
	struct eventfd_ctx *new = NULL, *old;

	if (vcn_data_none(r)) {
		if (r->count)
			return vcn_trigger_signal(vdev, ctx) ? 0 : -EINVAL;
		old = vcn_trigger_swap(vdev, ctx, NULL);
		if (!old)
			return -EINVAL;
		eventfd_ctx_put(old);
		return 0;
	}
	if (!r->count)
		return -EINVAL;
	if (vcn_data_bool(r)) {
		if (*(u8 *)r->data)
			vcn_trigger_signal(vdev, ctx);
		return 0;
	}
	if (vcn_data_eventfd(r)) {
		s32 fd = *(s32 *)r->data;

		if (fd >= 0) {
			new = eventfd_ctx_fdget(fd);
			if (IS_ERR(new))
				return PTR_ERR(new);
		} else if (fd != -1) {
			return -EINVAL;
		}
		old = vcn_trigger_swap(vdev, ctx, new);
		if (old)
			eventfd_ctx_put(old);
		return 0;
	}
	return -EINVAL;
}

static int vcn_set_err_trigger(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	return vcn_set_ctx_trigger(vdev, &vdev->err_trigger, r);
}

static int vcn_set_req_trigger(struct vcn_device *vdev, struct vcn_irq_req *r)
{
	return vcn_set_ctx_trigger(vdev, &vdev->req_trigger, r);
}

typedef int (*vcn_irq_fn)(struct vcn_device *vdev, struct vcn_irq_req *r);

static vcn_irq_fn vcn_irq_handler(unsigned int index, u32 action)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vcn_set_intx_mask;
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vcn_set_intx_unmask;
		return action == VFIO_IRQ_SET_ACTION_TRIGGER ?
		       vcn_set_intx_trigger : NULL;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return action == VFIO_IRQ_SET_ACTION_TRIGGER ?
		       vcn_set_msi_trigger : NULL;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return action == VFIO_IRQ_SET_ACTION_TRIGGER ?
		       vcn_set_err_trigger : NULL;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return action == VFIO_IRQ_SET_ACTION_TRIGGER ?
		       vcn_set_req_trigger : NULL;
	}
	return NULL;
}

/* vfio's argument rules: one data type, one action, a range inside count */
static int vcn_irq_set_validate(struct vfio_irq_set *hdr, unsigned int max,
				size_t *data_size)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	u32 data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	size_t size;

	if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->count >= U32_MAX - hdr->start ||
	    hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			   VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	if (hdr->start >= max || hdr->start + hdr->count > max)
		return -EINVAL;
	switch (data) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}
	if (size && hdr->argsz - minsz < (size_t)hdr->count * size)
		return -EINVAL;
	*data_size = (size_t)hdr->count * size;
	return 0;
}

long vcn_ioctl_set_irqs(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	struct vcn_irq_req r;
	size_t data_size;
	vcn_irq_fn fn;
	void *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	ret = vcn_irq_set_validate(&hdr, vcn_irq_count(vdev, hdr.index),
				   &data_size);
	if (ret)
		return ret;
	fn = vcn_irq_handler(hdr.index, hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK);
	if (!fn)
		return -ENOTTY;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	r = (struct vcn_irq_req){
		.index = hdr.index, .start = hdr.start, .count = hdr.count,
		.flags = hdr.flags, .data = data,
	};
	mutex_lock(&vdev->igate);
	ret = fn(vdev, &r);
	mutex_unlock(&vdev->igate);
	kfree(data);
	return ret;
}

/* Close: every vector off, every eventfd released. */
void vcn_irqs_release(struct vcn_device *vdev)
{
	struct eventfd_ctx *err, *req;

	mutex_lock(&vdev->igate);
	if (vdev->irq_type == VCN_IRQ_INTX)
		vcn_intx_disable(vdev);
	else if (vdev->irq_type != VCN_IRQ_NONE)
		vcn_msi_disable(vdev);
	err = vcn_trigger_swap(vdev, &vdev->err_trigger, NULL);
	req = vcn_trigger_swap(vdev, &vdev->req_trigger, NULL);
	mutex_unlock(&vdev->igate);
	if (err)
		eventfd_ctx_put(err);
	if (req)
		eventfd_ctx_put(req);
}

/* Unbind wants the device back: ask the user. False if nobody listens. */
bool vcn_request_user(struct vcn_device *vdev)
{
	return vcn_trigger_signal(vdev, &vdev->req_trigger);
}

/* the AER core's error_detected: pci_bus_sem is held, igate must not be */
void vcn_error_notify(struct vcn_device *vdev)
{
	vcn_trigger_signal(vdev, &vdev->err_trigger);
}
