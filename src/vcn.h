/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcn.h - internal interfaces of vfio_cdev_noiommu.
 *
 * Lock order (outermost first); every file that takes one of these says so:
 *
 *   vcn_reset_lock         (mutex, global: one hot reset at a time; pci_reset.c)
 *   vcn_device.lock        (mutex, per PCI device: bind/attach/open state)
 *     vcn_device.igate     (mutex: interrupt configuration; pci_intrs.c)
 *       vcn_device.irqlock (spinlock, irq-safe: INTx mask state and the
 *                           device's INTx-disable bit)
 *       vcn_device.memory_lock (taken under igate to program the MSI-X table)
 *       vcn_device.trigger_lock (spinlock, leaf: the ERR and REQ eventfds;
 *                           also taken alone by error_detected, which the
 *                           AER core calls holding pci_bus_sem, and by
 *                           unbind: neither may wait for igate)
 *     vcn_device.memory_lock (rwsem: BAR access and mmap faults vs. anything
 *                           that turns memory decode off; pci_mmap.c)
 *     vcn_device.barmap_lock (mutex: claiming BARs; pci_barmap.c; also
 *                           taken under mmap_lock by mmap() and by a vma's
 *                           open (split, fork) and close)
 *       vcn_device.memory_lock (write: a claimed BAR's kernel mapping
 *                           changes, e.g. to write-combining)
 *     vcn_ctx.lock         (mutex, per context: the object graph, attach counts)
 *       vcn_ctx.objs xa_lock (spinlock: id table and object users counts)
 *   vcn_ioas.iova_rwsem    (rwsem, per IOAS: its area tree; io_pagetable.c;
 *                           never held while pinning, unpinning or copying
 *                           to or from user memory)
 *     vcn_ioas.iova_seq    (seqcount, written under iova_rwsem around each
 *                           tree change, preemption off; GET_PA reads the
 *                           tree under RCU and this alone, no lock)
 *
 * mmap_lock is taken *outside* memory_lock (page faults) and barmap_lock
 * (mmap), so nothing may touch user memory while holding either: copy first,
 * then lock. vcn_device.lock is taken outside mmap_lock (bind copies its
 * answer out under it), so mmap() and faults must never take it.
 * The device table (devtable.c) has its own internal xarray lock, taken only
 * around a lookup and never while waiting for any of the above.
 */
#ifndef VCN_H
#define VCN_H

#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "compat.h"
#include "barmap_split.h"
#include "vfio_cdev_noiommu.h"

#define VCN_DRV_NAME	"vfio-cdev-noiommu"

/* vfio-pci's region addressing: region index in the top bits of the offset */
#define VCN_OFFSET_SHIFT	40
#define VCN_OFFSET_TO_INDEX(off)	((u64)(off) >> VCN_OFFSET_SHIFT)
#define VCN_INDEX_TO_OFFSET(index)	((u64)(index) << VCN_OFFSET_SHIFT)
#define VCN_OFFSET_MASK		((1ULL << VCN_OFFSET_SHIFT) - 1)

/* main.c */
extern bool vcn_enable_unsafe_noiommu_mode;

/* ---- context node and its objects (ictx.c, object.c, ioas.c, hwpt.c) ---- */

enum vcn_obj_type {
	VCN_OBJ_ANY,
	VCN_OBJ_DEVICE,
	VCN_OBJ_IOAS,
	VCN_OBJ_HWPT,
};

/*
 * An object of a context, named by an id in ctx->objs. @users counts the
 * table's own reference plus every holder, short- or long-term; the object is
 * destroyed when it reaches zero, and its memory freed an RCU grace period
 * later. Lookups run under RCU and take a user only if the count is not
 * already zero, so a dying object is never revived; GET_PA's takes none and
 * uses the object only inside its RCU read section (object.c).
 */
struct vcn_obj {
	enum vcn_obj_type type;
	u32 id;
	refcount_t users;
	struct vcn_ctx *ctx;
	struct rcu_head rcu;	/* lookups run under RCU: free after a grace period */
};

struct vcn_ctx {
	struct xarray objs;
	struct mutex lock;	/* the object graph: attach, detach, auto hwpt */
	struct file *file;
};

/* pages.c: the pinned pages of one mapping and their physical runs */
struct vcn_seg {
	u64 *runs;	/* every run, or (flat) the long runs */
	u32 *pfns;	/* flat: the frame of each page; else NULL */
	u32 nruns;	/* entries in @runs */
	u32 cap;	/* runs allocated */
};

struct vcn_pages {
#ifdef VCN_HAVE_EXPORT_FREE_UID
	struct user_struct *user;	/* charged RLIMIT_MEMLOCK, or NULL */
#else
	struct mm_struct *charged_mm;	/* the same, where v5.10 charges it */
#endif
	struct mm_struct *mm;		/* VmPin shows them; mmgrab'ed */
	unsigned long npages;
	bool writable;
	unsigned int nsegs;
	struct vcn_seg segs[];
};

struct vcn_ioas {
	struct vcn_obj obj;
	/* devices attached through hwpts; written under ctx->lock */
	unsigned int ndevs;
	struct rw_semaphore iova_rwsem;	/* the area tree and counters */
	seqcount_t iova_seq;	/* bumped around every tree change */
	struct rb_root areas;
	u64 mapped_bytes;
	unsigned long pinned_pages;
	size_t table_bytes;
};

/* The per-attach page-table object upstream creates for a no-IOMMU device. */
struct vcn_hwpt {
	struct vcn_obj obj;
	struct vcn_ioas *ioas;	/* holds a user of the IOAS */
	unsigned int ndevs;	/* ctx->lock; at zero the hwpt is removed */
};

struct vcn_idev {
	struct vcn_obj obj;
	struct vcn_device *vdev;
};

int vcn_ictx_init(void);
void vcn_ictx_exit(void);
struct vcn_ctx *vcn_ctx_from_file(struct file *file);
const char *vcn_ictx_path(void);

struct vcn_obj *__vcn_obj_alloc(struct vcn_ctx *ctx, size_t size,
				enum vcn_obj_type type);
/* allocates a zeroed *@ptr, whose first member is "struct vcn_obj obj" */
#define vcn_obj_alloc(ctx, ptr, type)					\
	((typeof(ptr))__vcn_obj_alloc(ctx, sizeof(*(ptr)) +		\
		BUILD_BUG_ON_ZERO(offsetof(typeof(*(ptr)), obj)), type))
void vcn_obj_finalize(struct vcn_obj *obj);
void vcn_obj_abort(struct vcn_obj *obj);
struct vcn_obj *vcn_obj_get(struct vcn_ctx *ctx, u32 id,
			    enum vcn_obj_type type);
void vcn_obj_put(struct vcn_obj *obj);
struct vcn_obj *vcn_obj_find_rcu(struct vcn_ctx *ctx, u32 id,
				 enum vcn_obj_type type);
int vcn_obj_destroy_user(struct vcn_ctx *ctx, u32 id);
void vcn_obj_remove(struct vcn_obj *obj);
void vcn_obj_destroy_all(struct vcn_ctx *ctx);
void vcn_obj_free(struct vcn_obj *obj);

struct vcn_ioas *vcn_ioas_alloc(struct vcn_ctx *ctx);
void vcn_ioas_destroy(struct vcn_ioas *ioas);

struct vcn_pages *vcn_pages_pin(unsigned long uaddr, unsigned long npages,
				bool writable);
void vcn_pages_unpin(struct vcn_pages *p);
void vcn_pages_free(struct vcn_pages *p);
size_t vcn_pages_table_bytes(struct vcn_pages *p);
void vcn_pages_phys(struct vcn_pages *p, u64 off, u64 max, phys_addr_t *pa,
		    u64 *len);

/* io_pagetable.c */
void vcn_iopt_init(struct vcn_ioas *ioas);
int vcn_iopt_map(struct vcn_ioas *ioas, unsigned long uaddr, u64 length,
		 u64 *iova, bool fixed, bool writable);
int vcn_iopt_unmap(struct vcn_ioas *ioas, u64 iova, u64 length, u64 *unmapped);
int vcn_iopt_unmap_all(struct vcn_ioas *ioas, u64 *unmapped);
int vcn_iopt_get_phys(struct vcn_ioas *ioas, u64 iova, u64 *pa, u64 *length);

/* stats.c: what is mapped, pinned and spent on tables, module-wide */
int vcn_stats_init(void);
void vcn_stats_exit(void);
void vcn_stats_pinned(struct vcn_pages *p, bool add);
void vcn_stats_area(size_t table_bytes, u64 mapped_bytes, bool add);
void vcn_ictx_show_fdinfo(struct seq_file *m, struct file *file);

int vcn_hwpt_attach(struct vcn_ctx *ctx, u32 *pt_id, struct vcn_hwpt **out);
void vcn_hwpt_detach(struct vcn_hwpt *hwpt);
void vcn_hwpt_destroy(struct vcn_hwpt *hwpt);

/* dispatch entries (ictx.c) */
struct vcn_ucmd {
	struct vcn_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int vcn_ucmd_respond(struct vcn_ucmd *ucmd, size_t len);
int vcn_ioctl_destroy(struct vcn_ucmd *ucmd);
int vcn_ioctl_ioas_alloc(struct vcn_ucmd *ucmd);
int vcn_ioctl_ioas_iova_ranges(struct vcn_ucmd *ucmd);
int vcn_ioctl_ioas_map(struct vcn_ucmd *ucmd);
int vcn_ioctl_ioas_unmap(struct vcn_ucmd *ucmd);
int vcn_ioctl_ioas_get_pa(struct vcn_ucmd *ucmd);
int vcn_ioas_get_pa(struct vcn_ctx *ctx, struct iommu_ioas_noiommu_get_pa *cmd);

/* ---- PCI devices (pci_driver.c, device.c, devtable.c, group.c) ---- */

/* one interrupt vector handed to userspace */
struct vcn_irq {
	struct eventfd_ctx *trigger;
	char *name;
};

enum vcn_irq_type {
	VCN_IRQ_NONE,
	VCN_IRQ_INTX,
	VCN_IRQ_MSI,
	VCN_IRQ_MSIX,
};

/*
 * The kernel's mapping of a claimed BAR: segments of one memory type each
 * (one, uncached, unless the BAR is write-combining). Changed under
 * barmap_lock and memory_lock (write) both; read under either.
 */
struct vcn_barmap {
	unsigned int nseg;		/* 0: not claimed */
	bool wc;			/* its type was decided write-combining */
	unsigned int mmaps;		/* live user mappings; barmap_lock */
	struct vcn_barseg seg[VCN_BARSEG_MAX];
	void __iomem *io[VCN_BARSEG_MAX];
};

struct vcn_device {
	struct pci_dev *pdev;
	unsigned int index;
	struct inode *inode;	/* its i_mapping holds every BAR mmap */
	struct kobject *dir;	/* "vfio-dev" under the PCI device */
	struct device dev;	/* noiommu-vfioN, owner of the cdev */
	struct cdev cdev;
	/* 1 while registered, +1 per open file; zero completes @comp */
	refcount_t registration;
	struct completion comp;

	struct mutex lock;	/* protects open_count, ctx, hwpt, open state */
	unsigned int open_count;	/* bound files: 0 or 1 for a cdev */
	struct vcn_ctx *ctx;		/* context of the bound file */
	u32 devid;			/* our device object's id in @ctx */
	struct vcn_hwpt *hwpt;		/* attached page table, or NULL */
	bool reset_works;
	struct pci_saved_state *saved_state;

	/* config space as the user sees it (pci_config.c); under lock */
	u32 vbar[PCI_STD_NUM_BARS];
	u32 vrom;
	u16 vmps;			/* the user's Max_Payload_Size field */
	bool vmem_enabled;		/* the user's memory enable, for a VF */
	bool virq_disabled;		/* the user's PCI_COMMAND_INTX_DISABLE */
	/* per config byte: the policy rule covering it (index + 1), or 0 */
	u8 cfg_map[PCI_CFG_SPACE_EXP_SIZE];
	/*
	 * BARs claimed and mapped on first use (pci_barmap.c). Own lock: mmap()
	 * claims a BAR with mmap_lock held, and vcn_device.lock is held around
	 * user copies.
	 */
	struct mutex barmap_lock;
	struct vcn_barmap barmap[PCI_STD_NUM_BARS];
	/* the MSI-X table [0] and PBA [1]: BAR (-1: none), offset, bytes; at open */
	int msix_bir[2];
	u64 msix_off[2], msix_len[2];
	bool msix_known;		/* no MSI-X, or its layout was readable */
	/* the rest of the page of a sub-page BAR, while open (pci_mmap.c) */
	struct resource subpage[PCI_STD_NUM_BARS];

	struct rw_semaphore memory_lock;
	bool mem_enabled;		/* decode on, in D0..D2, not in reset; memory_lock */
	bool needs_pm_restore;		/* no No_Soft_Reset: D3hot loses config */
	struct pci_saved_state *pm_save;	/* taken entering D3hot; memory_lock */

	struct mutex igate;		/* interrupt configuration */
	enum vcn_irq_type irq_type;	/* igate */
	unsigned int num_irqs;		/* vectors in @irqs; igate */
	struct vcn_irq *irqs;
	spinlock_t irqlock;		/* INTx mask state, vs. its handler */
	bool pci_2_3;			/* INTx masking through PCI_COMMAND */
	bool intx_masked;		/* irqlock */
	spinlock_t trigger_lock;		/* the two below; a leaf */
	struct eventfd_ctx *err_trigger;	/* set under igate too */
	struct eventfd_ctx *req_trigger;	/* set under igate too */
};

struct vcn_dfile {
	struct vcn_device *vdev;
	struct file *ictx_file;		/* bound context; holds a file ref */
	struct vcn_idev *idev;		/* our device object in that context */
	bool access_granted;		/* smp_store_release after bind */
};

int vcn_device_register(struct pci_dev *pdev, struct vcn_device **out);
void vcn_device_unregister(struct vcn_device *vdev);
bool vcn_device_try_get_registration(struct vcn_device *vdev);
void vcn_device_put_registration(struct vcn_device *vdev);
int vcn_device_chrdev_init(void);
void vcn_device_chrdev_exit(void);

int vcn_devtable_add(struct vcn_device *vdev);
void vcn_devtable_remove(struct vcn_device *vdev);

int vcn_pci_driver_init(const char *ids);
int vcn_lockdown_refuses(struct vcn_device *vdev);
void vcn_pci_driver_exit(void);

/* group.c: the group-facing lifecycle steps, NULL-group behaviour */
int vcn_group_set(struct vcn_device *vdev);
void vcn_group_remove(struct vcn_device *vdev);
void vcn_group_register(struct vcn_device *vdev);
void vcn_group_unregister(struct vcn_device *vdev);
int vcn_group_block(struct vcn_device *vdev);
void vcn_group_unblock(struct vcn_device *vdev);

/* pseudofs.c: an inode per device, so all its mmaps share one mapping */
struct inode *vcn_pseudofs_inode(void);
void vcn_pseudofs_put_inode(struct inode *inode);

/* pci_core.c */
int vcn_pci_open(struct vcn_device *vdev);
void vcn_pci_close(struct vcn_device *vdev);
long vcn_pci_ioctl(struct vcn_device *vdev, unsigned int cmd,
		   void __user *arg);

/* pci_config.c */
void vcn_config_init(struct vcn_device *vdev);
ssize_t vcn_config_rw(struct vcn_device *vdev, char __user *buf,
		      size_t count, loff_t pos, bool write);

/* pci_power.c */
/* D3hot or deeper: BARs need not decode (pci_power_t is sparse-bitwise) */
static inline bool vcn_pm_asleep(pci_power_t state)
{
	return (__force int)state >= (__force int)PCI_D3hot;
}

void vcn_power_init(struct vcn_device *vdev);
void __vcn_power_set(struct vcn_device *vdev, pci_power_t state);
void vcn_power_user_set(struct vcn_device *vdev, u8 field);
void vcn_power_release(struct vcn_device *vdev);

/* pci_rdwr.c */
ssize_t vcn_region_rw(struct vcn_device *vdev, char __user *buf,
		      size_t count, loff_t *ppos, bool write);

/* pci_barmap.c */
extern bool vcn_write_combine;
void vcn_barmap_init(struct vcn_device *vdev);
int vcn_bar_claim(struct vcn_device *vdev, unsigned int bar);
int vcn_bar_claim_mmap(struct vcn_device *vdev, unsigned int bar);
void vcn_bar_mmap_count(struct vcn_device *vdev, unsigned int bar, int delta);
void vcn_bars_unmap(struct vcn_device *vdev);
const struct vcn_barseg *vcn_bar_seg(struct vcn_device *vdev,
				     unsigned int bar, u64 off,
				     void __iomem **io);

/* pci_mmap.c */
int vcn_msix_bar(struct pci_dev *pdev);
bool vcn_bar_mmappable(struct vcn_device *vdev, unsigned int bar);
void vcn_mmap_reserve(struct vcn_device *vdev);
void vcn_mmap_unreserve(struct vcn_device *vdev);
int vcn_mmap(struct vcn_device *vdev, struct vm_area_struct *vma);
void vcn_zap_and_down_write_memory_lock(struct vcn_device *vdev);
void vcn_memory_update_and_up_write(struct vcn_device *vdev);
bool vcn_decodes(struct vcn_device *vdev, u16 cmd);
u16 vcn_memory_lock_and_enable(struct vcn_device *vdev);
void vcn_memory_unlock_and_restore(struct vcn_device *vdev, u16 cmd);

/* pci_intrs.c */
long vcn_ioctl_get_irq_info(struct vcn_device *vdev, void __user *arg);
long vcn_ioctl_set_irqs(struct vcn_device *vdev, void __user *arg);
void vcn_irqs_release(struct vcn_device *vdev);
bool vcn_request_user(struct vcn_device *vdev);
void vcn_error_notify(struct vcn_device *vdev);
void vcn_intx_user_disable(struct vcn_device *vdev, bool disable);
u16 vcn_intx_hw_bit(struct vcn_device *vdev, u16 cmd, bool user_disable);

/* pci_reset.c */
long vcn_ioctl_reset(struct vcn_device *vdev);
int vcn_reset_function_locked(struct vcn_device *vdev);
long vcn_ioctl_hot_reset_info(struct vcn_device *vdev, void __user *arg);
long vcn_ioctl_hot_reset(struct vcn_device *vdev, void __user *arg);
struct vcn_device *vcn_devtable_get_by_pdev(struct pci_dev *pdev);

/* cdev.c, device_iommufd.c */
extern const struct file_operations vcn_device_fops;
long vcn_df_bind(struct vcn_dfile *df, void __user *arg);
long vcn_df_attach(struct vcn_dfile *df, void __user *arg);
long vcn_df_detach(struct vcn_dfile *df, void __user *arg);
void vcn_df_unbind(struct vcn_dfile *df);

#endif /* VCN_H */
