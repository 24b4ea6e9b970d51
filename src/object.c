// SPDX-License-Identifier: GPL-2.0
/*
 * object.c - a context's object table: ids, types, users, destruction.
 *
 * An id is reserved first (the slot holds a zero entry, invisible to lookups)
 * and published by vcn_obj_finalize() once the object is complete, so no
 * lookup ever sees a half-built object. Ids start at 1, as upstream's.
 *
 * obj->users: the table's own reference plus one per holder. Lookups take
 * one under RCU with refcount_inc_not_zero(), except GET_PA's (the hot
 * path), which takes none: vcn_obj_find_rcu() hands out an object that stays
 * in memory until the caller's RCU read section ends, dying or not, for
 * callers that only read state that is itself RCU-safe (io_pagetable.c's
 * tree). IOMMU_DESTROY succeeds only when the table's
 * is the last (refcount_dec_if_one() under the xa_lock), else EBUSY;
 * internal removal erases the id and drops the table's reference, and the
 * last put destroys the object. Memory is freed with kfree_rcu(), so a
 * lookup that raced with the destruction sees a zero count, never freed
 * memory.
 *
 * Locks: vcn_ctx.objs xa_lock (innermost; nothing sleeps under it).
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "vcn.h"

/* Allocate an object of @size (its struct vcn_obj first) and reserve an id. */
struct vcn_obj *__vcn_obj_alloc(struct vcn_ctx *ctx, size_t size,
				enum vcn_obj_type type)
{
	struct vcn_obj *obj;
	int ret;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	obj->ctx = ctx;
	refcount_set(&obj->users, 1);
	ret = xa_alloc(&ctx->objs, &obj->id, NULL, xa_limit_31b,
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		kfree(obj);
		return ERR_PTR(ret == -EBUSY ? -ENOSPC : ret);
	}
	return obj;
}

void vcn_obj_finalize(struct vcn_obj *obj)
{
	void *old;

	/* the slot is reserved: replacing it never allocates */
	old = xa_store(&obj->ctx->objs, obj->id, obj, GFP_KERNEL);
	WARN_ON(old);
}

/* Undo __vcn_obj_alloc() of an object that was never finalized. */
void vcn_obj_abort(struct vcn_obj *obj)
{
	xa_erase(&obj->ctx->objs, obj->id);
	kfree(obj);	/* never published: no lookup can hold it */
}

struct vcn_obj *vcn_obj_get(struct vcn_ctx *ctx, u32 id,
			    enum vcn_obj_type type)
{
	struct vcn_obj *obj;

	rcu_read_lock();
	obj = xa_load(&ctx->objs, id);
	if (!obj || (type != VCN_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->users))
		obj = ERR_PTR(-ENOENT);
	rcu_read_unlock();
	return obj;
}

/*
 * For a caller inside rcu_read_lock() that only reads: no reference, no
 * atomic. The object may be being destroyed; its memory outlives the read
 * section (kfree_rcu() below), and a finalized id's type never changes.
 */
struct vcn_obj *vcn_obj_find_rcu(struct vcn_ctx *ctx, u32 id,
				 enum vcn_obj_type type)
{
	XA_STATE(xas, &ctx->objs, id);
	struct vcn_obj *obj;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "object lookup outside RCU");
	/* xa_load() without its own RCU section: the caller's covers it */
	do {
		obj = xas_load(&xas);
		if (xa_is_zero(obj))
			obj = NULL;	/* an id reserved, not yet finalized */
	} while (xas_retry(&xas, obj));
	return obj && obj->type == type ? obj : NULL;
}

void vcn_obj_free(struct vcn_obj *obj)
{
	switch (obj->type) {
	case VCN_OBJ_IOAS:
		vcn_ioas_destroy(container_of(obj, struct vcn_ioas, obj));
		break;
	case VCN_OBJ_HWPT:
		vcn_hwpt_destroy(container_of(obj, struct vcn_hwpt, obj));
		break;
	case VCN_OBJ_DEVICE:
		break;
	default:
		WARN_ON(1);
		return;
	}
	kfree_rcu(obj, rcu);	/* obj is the first member of each type */
}

void vcn_obj_put(struct vcn_obj *obj)
{
	if (refcount_dec_and_test(&obj->users))
		vcn_obj_free(obj);
}

/* Drop the table's reference of an object that is still listed. */
void vcn_obj_remove(struct vcn_obj *obj)
{
	void *old;

	old = xa_erase(&obj->ctx->objs, obj->id);
	WARN_ON(old != obj);
	vcn_obj_put(obj);
}

/* IOMMU_DESTROY: only an object nobody else holds can go. */
int vcn_obj_destroy_user(struct vcn_ctx *ctx, u32 id)
{
	struct vcn_obj *obj;

	xa_lock(&ctx->objs);
	obj = xa_load(&ctx->objs, id);
	if (!obj) {
		xa_unlock(&ctx->objs);
		return -ENOENT;
	}
	if (!refcount_dec_if_one(&obj->users)) {
		xa_unlock(&ctx->objs);
		return -EBUSY;
	}
	__xa_erase(&ctx->objs, id);
	xa_unlock(&ctx->objs);
	vcn_obj_free(obj);
	return 0;
}

int vcn_ioctl_destroy(struct vcn_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return vcn_obj_destroy_user(ucmd->ctx, cmd->id);
}

/*
 * Context release: no device can be bound any more (a bound device holds
 * the context's file), so no hwpt is left and every object is free to go.
 * Objects still held by another would be a refcount bug: repeat until a pass
 * frees nothing, then complain about what is left rather than free it.
 */
void vcn_obj_destroy_all(struct vcn_ctx *ctx)
{
	struct vcn_obj *obj;
	unsigned long id;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ctx->objs, id, obj) {
			if (vcn_obj_destroy_user(ctx, id) == 0)
				progress = true;
		}
	} while (progress);
	WARN_ON(!xa_empty(&ctx->objs));
}
