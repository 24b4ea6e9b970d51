// SPDX-License-Identifier: GPL-2.0
/*
 * pci_barmap.c - claiming BARs, the kernel's own mappings of them, and the
 * memory type of every mapping (write_combine).
 *
 * A BAR is claimed (its region requested, and mapped for pread/pwrite) on
 * first use, by an access or an mmap, and released at close.
 *
 * Memory types. By default every BAR is uncached, as in vfio-pci. With the
 * write_combine parameter on, a prefetchable memory BAR is mapped
 * write-combining instead, for the user and for the kernel alike. The
 * kernel's mapping decides the user's: on x86, a page inserted at fault
 * time (vmf_insert_pfn_prot()) takes the memory type PAT has reserved for
 * its physical range, and that reservation is the one our own ioremap
 * makes. One type per range is also the rule: x86 must never map a
 * physical page write-combining in one place and uncached in another (PAT
 * silently turns the later request into the earlier type, or refuses it).
 * So the kernel maps a write-combining BAR with pci_iomap_wc_range(), and
 * pread/pwrite go through that mapping (prefetchable means reads have no
 * side effects; a write is pushed out with wmb() before pwrite returns).
 *
 * The pages that hold the MSI-X table or PBA stay uncached whatever the
 * parameter says: the PCI core maps the table uncached to program it, and
 * a write-combined vector write could reach the device torn or late. A
 * write-combining BAR is therefore mapped in segments (barmap_split.h),
 * each with its own type, and the fault handler gives each user page the
 * type of the segment that holds it.
 *
 * When the type is decided: when the BAR is claimed, and again at each
 * mmap of it while no other user mapping of it is alive, so that the
 * parameter, writable at run time, takes effect for mappings made after the
 * change. A BAR with live mappings keeps its type until they are gone: a
 * second type for the same range is exactly what x86 forbids.
 *
 * Locks: barmap_lock around claiming, releasing and re-typing a BAR; the
 * segments change only with memory_lock also held for writing, so an access
 * or a fault (memory_lock read) sees them stable.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>

#include "vcn.h"

bool vcn_write_combine;

/*
 * Open: where the MSI-X table and PBA are, read once from a device just
 * reset and enabled, as vfio-pci does. Read at claim time instead, a
 * device in reset or in error would answer ~0, and the table would not be
 * kept uncached.
 */
void vcn_barmap_init(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 table = ~0u, pba = ~0u;
	u16 flags = 0;

	vdev->msix_known = !pdev->msix_cap;
	vdev->msix_bir[0] = -1;
	vdev->msix_bir[1] = -1;
	if (!pdev->msix_cap)
		return;
	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	if (flags == 0xffff || (table & PCI_MSIX_TABLE_BIR) >= PCI_STD_NUM_BARS ||
	    (pba & PCI_MSIX_PBA_BIR) >= PCI_STD_NUM_BARS)
		return;		/* unreadable: no BAR of it will be write-combining */
	vdev->msix_bir[0] = table & PCI_MSIX_TABLE_BIR;
	vdev->msix_off[0] = table & PCI_MSIX_TABLE_OFFSET;
	vdev->msix_len[0] = (u64)((flags & PCI_MSIX_FLAGS_QSIZE) + 1) *
			    PCI_MSIX_ENTRY_SIZE;
	vdev->msix_bir[1] = pba & PCI_MSIX_PBA_BIR;
	vdev->msix_off[1] = pba & PCI_MSIX_PBA_OFFSET;
	vdev->msix_len[1] = DIV_ROUND_UP((flags & PCI_MSIX_FLAGS_QSIZE) + 1, 64) * 8;
	vdev->msix_known = true;
}

/*
 * Does the parameter make @bar write-combining? Only a prefetchable memory
 * BAR whose pages are its own (mappable: whole pages, or a sub-page BAR
 * with the rest of its page reserved): a type covers whole pages, and must
 * not spill onto a neighbour's registers.
 */
static bool vcn_bar_wants_wc(struct vcn_device *vdev, unsigned int bar)
{
	unsigned long flags = pci_resource_flags(vdev->pdev, bar);

	return READ_ONCE(vcn_write_combine) && (flags & IORESOURCE_MEM) &&
	       (flags & IORESOURCE_PREFETCH) && vdev->msix_known &&
	       vcn_bar_mmappable(vdev, bar);
}

/* the segments of @bar: uncached where the MSI-X table or PBA is */
static unsigned int vcn_bar_split(struct vcn_device *vdev, unsigned int bar,
				  bool wc, struct vcn_barseg *seg)
{
	u64 len = pci_resource_len(vdev->pdev, bar);
	u64 off[2] = { 0, 0 }, size[2] = { 0, 0 };
	unsigned int i;

	if (!wc) {
		seg[0] = (struct vcn_barseg){ 0, len, 0 };
		return 1;
	}
	for (i = 0; i < 2; i++) {
		if (vdev->msix_bir[i] != (int)bar)
			continue;
		off[i] = vdev->msix_off[i];
		size[i] = vdev->msix_len[i];
	}
	return vcn_barseg_split(len, PAGE_SIZE, off, size, 2, seg);
}

static void vcn_barmap_unmap(struct pci_dev *pdev, struct vcn_barmap *bm)
{
	unsigned int i;

	for (i = 0; i < bm->nseg; i++)
		pci_iounmap(pdev, bm->io[i]);
	bm->nseg = 0;
}

/* map @bar's segments with their types into @bm; all or nothing */
static int vcn_barmap_map(struct vcn_device *vdev, unsigned int bar, bool wc,
			  struct vcn_barmap *bm)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vcn_barseg seg[VCN_BARSEG_MAX];
	unsigned int i, n = vcn_bar_split(vdev, bar, wc, seg);

	bm->nseg = 0;
	for (i = 0; i < n; i++) {
		unsigned long off = seg[i].start, len = seg[i].end - seg[i].start;

		bm->io[i] = seg[i].wc ? pci_iomap_wc_range(pdev, bar, off, len) :
					pci_iomap_range(pdev, bar, off, len);
		if (!bm->io[i]) {
			vcn_barmap_unmap(pdev, bm);
			return -ENOMEM;
		}
		bm->seg[i] = seg[i];
		bm->nseg = i + 1;
	}
	bm->wc = wc;
	return 0;
}

static void vcn_barmap_log(struct pci_dev *pdev, unsigned int bar,
			   const struct vcn_barmap *bm)
{
	if (!bm->wc)
		return;
	pci_info(pdev, "BAR %u (prefetchable) mapped write-combining%s\n", bar,
		 bm->nseg > 1 ? "; its MSI-X pages uncached" : "");
}

static int vcn_bar_claim_locked(struct vcn_device *vdev, unsigned int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vcn_barmap *bm = &vdev->barmap[bar];
	struct vcn_barmap new = {};
	int ret;

	lockdep_assert_held(&vdev->barmap_lock);
	if (bm->nseg)
		return 0;
	ret = pci_request_selected_regions(pdev, 1 << bar, VCN_DRV_NAME);
	if (ret) {
		pci_warn(pdev, "BAR %u is claimed by someone else (%d)\n", bar, ret);
		return ret;
	}
	ret = vcn_barmap_map(vdev, bar, vcn_bar_wants_wc(vdev, bar), &new);
	if (ret) {
		pci_release_selected_regions(pdev, 1 << bar);
		return ret;
	}
	down_write(&vdev->memory_lock);
	*bm = new;
	up_write(&vdev->memory_lock);
	vcn_barmap_log(pdev, bar, bm);
	return 0;
}

int vcn_bar_claim(struct vcn_device *vdev, unsigned int bar)
{
	int ret;

	mutex_lock(&vdev->barmap_lock);
	ret = vcn_bar_claim_locked(vdev, bar);
	mutex_unlock(&vdev->barmap_lock);
	return ret;
}

/*
 * Claim @bar for a new user mapping, counted as live. A BAR nobody maps
 * takes the type the parameter asks for now; the kernel's mapping is
 * swapped with memory_lock held for writing, so no access uses the old one.
 */
int vcn_bar_claim_mmap(struct vcn_device *vdev, unsigned int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vcn_barmap *bm = &vdev->barmap[bar];
	bool wc = vcn_bar_wants_wc(vdev, bar);
	int ret;

	mutex_lock(&vdev->barmap_lock);
	ret = vcn_bar_claim_locked(vdev, bar);
	if (ret || bm->wc == wc)
		goto out;
	if (bm->mmaps) {
		pci_info_ratelimited(pdev, "BAR %u stays %s while it is mapped: one memory type per range\n",
				     bar, bm->wc ? "write-combining" : "uncached");
		goto out;
	}
	/*
	 * The old mapping goes first: while its reservation stands, PAT would
	 * quietly give the new mapping the old type. If the new one cannot be
	 * made, the BAR is left unclaimed, for the next access to claim anew.
	 */
	down_write(&vdev->memory_lock);
	vcn_barmap_unmap(pdev, bm);
	ret = vcn_barmap_map(vdev, bar, wc, bm);
	if (ret)
		memset(bm, 0, sizeof(*bm));
	up_write(&vdev->memory_lock);
	if (ret) {
		pci_release_selected_regions(pdev, 1 << bar);
		goto out;
	}
	vcn_barmap_log(pdev, bar, bm);
out:
	if (!ret)
		bm->mmaps++;
	mutex_unlock(&vdev->barmap_lock);
	return ret;
}

/* a user mapping of @bar came (a split, a fork) or went */
void vcn_bar_mmap_count(struct vcn_device *vdev, unsigned int bar, int delta)
{
	if (bar >= PCI_STD_NUM_BARS)
		return;
	mutex_lock(&vdev->barmap_lock);
	/* a mapping counted before close released the BAR is not counted again */
	if (vdev->barmap[bar].nseg && (delta > 0 || vdev->barmap[bar].mmaps))
		vdev->barmap[bar].mmaps += delta;
	mutex_unlock(&vdev->barmap_lock);
}

void vcn_bars_unmap(struct vcn_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int bar;

	mutex_lock(&vdev->barmap_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		struct vcn_barmap *bm = &vdev->barmap[bar];

		if (!bm->nseg)
			continue;
		vcn_barmap_unmap(pdev, bm);
		pci_release_selected_regions(pdev, 1 << bar);
		memset(bm, 0, sizeof(*bm));
	}
	mutex_unlock(&vdev->barmap_lock);
}

/*
 * The segment of claimed @bar holding byte @off (memory_lock held), or
 * NULL past its end.
 */
const struct vcn_barseg *vcn_bar_seg(struct vcn_device *vdev,
				     unsigned int bar, u64 off,
				     void __iomem **io)
{
	const struct vcn_barmap *bm = vdev->barmap + bar;
	unsigned int i;

	lockdep_assert_held(&vdev->memory_lock);
	if (bar >= PCI_STD_NUM_BARS)
		return NULL;
	for (i = 0; i < bm->nseg; i++) {
		if (off >= bm->seg[i].start && off < bm->seg[i].end) {
			if (io)
				*io = bm->io[i];
			return &bm->seg[i];
		}
	}
	return NULL;
}
