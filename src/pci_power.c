// SPDX-License-Identifier: GPL-2.0
/*
 * pci_power.c - the power state a user sets through the PM capability.
 *
 * As vfio-pci: a write to PMCSR's PowerState field does not reach the
 * device as written; it becomes pci_set_power_state(), so the PCI core's
 * view stays true (current_state, the D3hot delays, the BARs it restores on
 * the way back) and BAR access stops while the function is in D3hot, where
 * its BARs need not decode: every mmap is revoked and region access fails
 * until D0. A function without No_Soft_Reset loses its config state on
 * D3hot -> D0, so a copy is taken on the way down and restored on the way
 * up. Close and reset bring the function back to D0 first: a reset through
 * the PM capability needs D0, and the copy must not be lost.
 *
 * Locks: memory_lock for writing around every transition; it also guards
 * @pm_save. Callers may hold vcn_device.lock (outside memory_lock).
 */
#include <linux/pci.h>
#include <linux/slab.h>

#include "vcn.h"

/* at open: does this function forget its config state in D3hot? */
void vcn_power_init(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 pmcsr;

	vdev->needs_pm_restore = false;
	if (!pdev->pm_cap)
		return;
	pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
	vdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
}

/* memory_lock held for writing, every mapping of a BAR already revoked */
void __vcn_power_set(struct vcn_device *vdev, pci_power_t state)
{
	struct pci_dev *pdev = vdev->pdev;
	bool save = false, restore = false;

	lockdep_assert_held_write(&vdev->memory_lock);
	if (vdev->needs_pm_restore) {
		save = !vcn_pm_asleep(pdev->current_state) && vcn_pm_asleep(state);
		restore = vcn_pm_asleep(pdev->current_state) && state == PCI_D0;
	}
	if (save)
		pci_save_state(pdev);	/* the D0 state, before it is lost */
	if (pci_set_power_state(pdev, state))
		return;
	if (save && vcn_pm_asleep(pdev->current_state)) {
		/* a copy from an earlier D3hot the core woke from is stale */
		kfree(vdev->pm_save);
		vdev->pm_save = pci_store_saved_state(pdev);
	} else if (restore && vdev->pm_save) {
		pci_load_and_free_saved_state(pdev, &vdev->pm_save);
		pci_restore_state(pdev);
	}
}

static void vcn_power_set(struct vcn_device *vdev, pci_power_t state)
{
	if (vcn_pm_asleep(state))
		vcn_zap_and_down_write_memory_lock(vdev);
	else
		down_write(&vdev->memory_lock);
	__vcn_power_set(vdev, state);
	vcn_memory_update_and_up_write(vdev);	/* decode follows the state */
}

/* the user wrote @field (0..3) to PMCSR's PowerState */
void vcn_power_user_set(struct vcn_device *vdev, u8 field)
{
	static const pci_power_t states[] = {
		PCI_D0, PCI_D1, PCI_D2, PCI_D3hot,
	};

	vcn_power_set(vdev, states[field & PCI_PM_CTRL_STATE_MASK]);
}

/* close: back to D0 (restoring what D3hot lost), forget the copy */
void vcn_power_release(struct vcn_device *vdev)
{
	if (!vdev->pdev->pm_cap)
		return;
	vcn_power_set(vdev, PCI_D0);
	down_write(&vdev->memory_lock);
	kfree(vdev->pm_save);
	vdev->pm_save = NULL;
	up_write(&vdev->memory_lock);
}
