// SPDX-License-Identifier: GPL-2.0
/*
 * Generic failover infrastructure, with the slave_rename_ok parameter.
 *
 * A drop-in replacement for net/core/failover.c, packaged by the
 * virtnet.failover collection. It exports the same three functions with the
 * same prototypes, and takes struct failover and struct failover_ops from
 * the target kernel's own <net/failover.h>, so that the distribution's
 * net_failover.ko and virtio_net.ko bind to it unchanged (their symbol CRCs
 * match under CONFIG_MODVERSIONS).
 *
 * What it adds is the parameter of the RFC "failover: allow name change on
 * IFF_UP slave interfaces" (Si-Wei Liu, 2019): slave_rename_ok, default 1.
 * With 0, an UP failover slave cannot be renamed (-EBUSY), which keeps a
 * hot-plugged primary at its kernel name; with 1 it can. Unlike the RFC, a
 * write at run time also applies to the slaves enslaved already.
 *
 * How the parameter is enforced depends on the kernel; probe.sh picks one
 * mechanism from the target headers (vnf_config.h), and the read-only
 * parameter live_rename names it:
 *
 *  flag        (5.1 - 6.1) dev_change_name() refuses to rename an UP device
 *              unless it has IFF_LIVE_RENAME_OK, which the stock module sets
 *              on every slave. Here it is set only while slave_rename_ok=1.
 *  notifier    (6.2 and later) dev_change_name() renames any UP device, so
 *              a NETDEV_CHANGENAME veto makes the kernel roll the rename back.
 *  unsupported (older kernels without the flag) every UP device is refused
 *              by dev.c; slave_rename_ok=1 cannot be honoured, it reads N.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/etherdevice.h>
#include <uapi/linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/if_vlan.h>
#include <net/failover.h>

#define VNF_MECH_FLAG		1
#define VNF_MECH_NOTIFIER	2
#define VNF_MECH_UNSUPPORTED	3

#include "vnf_config.h"

#ifdef VNF_HAVE_NETDEV_LOCK_H
#include <net/netdev_lock.h>
#endif
#if defined(VNF_EXISTING_SLAVE_OPS_LOCK) && !defined(VNF_HAVE_NETDEV_LOCK_OPS)
#error "VNF_EXISTING_SLAVE_OPS_LOCK needs netdev_lock_ops(), which these headers lack"
#endif

#if VNF_MECH == VNF_MECH_FLAG && !defined(VNF_HAVE_IFF_LIVE_RENAME_OK)
#error "the flag mechanism needs IFF_LIVE_RENAME_OK"
#endif

/*
 * Priv flags a slave carries while enslaved: what the target kernel's own
 * failover.c sets (IFF_NO_ADDRCONF came with 6.2), plus, where the kernel
 * still has IFF_LIVE_RENAME_OK but the flag is not the mechanism (a forced
 * build), that flag as the stock module sets it, so dev.c lets renames
 * reach the notifier.
 */
#ifdef VNF_HAVE_IFF_NO_ADDRCONF
#define VNF_SLAVE_BASE_FLAGS	(IFF_FAILOVER_SLAVE | IFF_NO_ADDRCONF)
#else
#define VNF_SLAVE_BASE_FLAGS	IFF_FAILOVER_SLAVE
#endif

#if defined(VNF_HAVE_IFF_LIVE_RENAME_OK) && VNF_MECH == VNF_MECH_NOTIFIER
#define VNF_SLAVE_FLAGS		(VNF_SLAVE_BASE_FLAGS | IFF_LIVE_RENAME_OK)
#else
#define VNF_SLAVE_FLAGS		VNF_SLAVE_BASE_FLAGS
#endif

/* Everything this module may have set on a slave, cleared on release. */
#ifdef VNF_HAVE_IFF_LIVE_RENAME_OK
#define VNF_SLAVE_CLEAR_FLAGS	(VNF_SLAVE_FLAGS | IFF_LIVE_RENAME_OK)
#else
#define VNF_SLAVE_CLEAR_FLAGS	VNF_SLAVE_FLAGS
#endif

static LIST_HEAD(failover_list);
static DEFINE_SPINLOCK(failover_lock);

/* Set once the netdevice notifier is registered; see vnf_set_rename_ok(). */
static bool vnf_live;

static bool slave_rename_ok = VNF_MECH != VNF_MECH_UNSUPPORTED;

/*
 * Apply slave_rename_ok to one enslaved slave. Only the flag mechanism keeps
 * state on the slave; the notifier reads the parameter at rename time.
 * Called under RTNL.
 */
static void vnf_slave_apply(struct net_device *slave_dev, bool ok)
{
#if VNF_MECH == VNF_MECH_FLAG
	if (ok)
		slave_dev->priv_flags |= IFF_LIVE_RENAME_OK;
	else
		slave_dev->priv_flags &= ~IFF_LIVE_RENAME_OK;
#endif
}

#if VNF_MECH == VNF_MECH_NOTIFIER
/*
 * The NETDEV_CHANGENAME veto and the kernel's rollback.
 *
 * dev_change_name() (net/core/dev.c, all of 5.10 - 6.12) first installs the
 * new name (dev->name, sysfs, the name hash), then calls the
 * NETDEV_CHANGENAME chain. If a notifier returns an error it copies the old
 * name back and calls the whole chain a second time, with the old name, to
 * undo what the earlier notifiers did. That second call must not be refused:
 * a second error leaves the kernel logging "name change rollback failed".
 *
 * The veto is a notifier block of its own, registered at the highest
 * priority, so it runs before every other NETDEV_CHANGENAME notifier:
 *  - when it vetoes, no other notifier (rtnetlink's broadcast, addrconf,
 *    net_failover's own handler) has seen the refused name;
 *  - when a later notifier fails the rename (addrconf on ENOMEM, a
 *    netfilter NOTIFY_BAD), this one has already let the rename pass, and
 *    with the same slave_rename_ok and IFF_UP (both only change under
 *    RTNL, which dev_change_name() holds throughout) it lets the rollback
 *    pass too. It never sees a rollback that it did not cause.
 *
 * The notifier only sees the device, not the old name, so each veto is
 * remembered as (device, refused name). The next CHANGENAME of that device
 * whose name differs from the refused one is the rollback and passes.
 *
 * Why this cannot be confused by another rename: both calls run inside one
 * dev_change_name() invocation, under RTNL, which every rename of the
 * device holds (do_setlink, dev_ioctl, the netns move). So no other
 * rename of the same device can come in between. Devices in other
 * namespaces have their own records, keyed by the net_device pointer, so
 * this still holds if a later kernel splits RTNL per namespace; the
 * records' own spinlock protects the list then.
 *
 * A record can only outlive its rollback if device_rename() fails during
 * the rollback, in which case dev.c stops without a second notifier call
 * (and logs that). The next rename of that device then passes once, unless
 * it asks for the refused name again. Records of an unregistered device are
 * dropped at NETDEV_UNREGISTER, the rest at module exit.
 *
 * The veto comes after sysfs and the name hash were updated, so for a
 * moment userspace may see the refused name, and dev.c has already logged
 * "renamed from X (while UP)" for it; the log line of this module follows.
 */
struct vnf_veto {
	struct list_head list;
	struct net_device *dev;
	char refused[IFNAMSIZ];
};

static LIST_HEAD(vnf_veto_list);
static DEFINE_SPINLOCK(vnf_veto_lock);

static struct vnf_veto *vnf_veto_unlink(struct net_device *dev)
{
	struct vnf_veto *veto;

	spin_lock(&vnf_veto_lock);
	list_for_each_entry(veto, &vnf_veto_list, list) {
		if (veto->dev == dev) {
			list_del(&veto->list);
			spin_unlock(&vnf_veto_lock);
			return veto;
		}
	}
	spin_unlock(&vnf_veto_lock);
	return NULL;
}

static void vnf_veto_forget(struct net_device *dev)
{
	kfree(vnf_veto_unlink(dev));
}

static void vnf_veto_forget_all(void)
{
	struct vnf_veto *veto, *tmp;

	spin_lock(&vnf_veto_lock);
	list_for_each_entry_safe(veto, tmp, &vnf_veto_list, list) {
		list_del(&veto->list);
		kfree(veto);
	}
	spin_unlock(&vnf_veto_lock);
}

/* Return true if this CHANGENAME is the rollback of a rename vetoed here. */
static bool vnf_is_rollback(struct net_device *dev)
{
	struct vnf_veto *veto = vnf_veto_unlink(dev);
	bool rollback;

	if (!veto)
		return false;
	rollback = strncmp(veto->refused, dev->name, IFNAMSIZ) != 0;
	kfree(veto);
	return rollback;
}

static int vnf_slave_name_check(struct net_device *dev)
{
	struct vnf_veto *veto;

	if (!netif_is_failover_slave(dev))
		return NOTIFY_DONE;

	ASSERT_RTNL();

	if (vnf_is_rollback(dev))
		return NOTIFY_DONE;

	if (READ_ONCE(slave_rename_ok) || !(dev->flags & IFF_UP))
		return NOTIFY_DONE;

	/*
	 * Without a record the rollback would be refused too, so if the
	 * record cannot be allocated the rename is let through.
	 */
	veto = kzalloc(sizeof(*veto), GFP_KERNEL);
	if (!veto) {
		pr_warn_ratelimited("out of memory, not refusing the rename of UP slave %s\n",
				    dev->name);
		return NOTIFY_DONE;
	}
	veto->dev = dev;
	strscpy(veto->refused, dev->name, IFNAMSIZ);
	spin_lock(&vnf_veto_lock);
	list_add(&veto->list, &vnf_veto_list);
	spin_unlock(&vnf_veto_lock);

	pr_info_ratelimited("refused renaming UP failover slave (ifindex %d) to %s: slave_rename_ok=0\n",
			    dev->ifindex, dev->name);
	return notifier_from_errno(-EBUSY);
}

static int vnf_veto_event(struct notifier_block *this, unsigned long event,
			  void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	switch (event) {
	case NETDEV_CHANGENAME:
		return vnf_slave_name_check(dev);
	case NETDEV_UNREGISTER:
		vnf_veto_forget(dev);
		return NOTIFY_DONE;
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block vnf_veto_notifier = {
	.notifier_call	= vnf_veto_event,
	.priority	= INT_MAX,
};

static int vnf_veto_register(void)
{
	return register_netdevice_notifier(&vnf_veto_notifier);
}

static void vnf_veto_unregister(void)
{
	unregister_netdevice_notifier(&vnf_veto_notifier);
	vnf_veto_forget_all();
}
#else
static inline int vnf_veto_register(void)
{
	return 0;
}

static inline void vnf_veto_unregister(void)
{
}
#endif /* VNF_MECH == VNF_MECH_NOTIFIER */

/* Apply slave_rename_ok to every enslaved slave; returns how many. */
static unsigned int vnf_apply_all(bool ok)
{
	struct net_device *failover_dev, *slave_dev;
	struct failover *failover;
	struct list_head *iter;
	unsigned int count = 0;

	ASSERT_RTNL();

	spin_lock(&failover_lock);
	list_for_each_entry(failover, &failover_list, list) {
		failover_dev = rtnl_dereference(failover->failover_dev);
		netdev_for_each_lower_dev(failover_dev, slave_dev, iter) {
			if (!netif_is_failover_slave(slave_dev))
				continue;
			vnf_slave_apply(slave_dev, ok);
			count++;
		}
	}
	spin_unlock(&failover_lock);
	return count;
}

/*
 * Setter of slave_rename_ok. Writes through sysfs are serialised by the
 * module's parameter lock; the value is stored and the enslaved slaves are
 * updated under RTNL, so a slave registering at the same time either reads
 * the new value or is already in the lower list the walk visits.
 *
 * Before module_init() has run (modprobe options, the kernel command line)
 * there are no failover instances yet and RTNL is not taken.
 */
static int vnf_set_rename_ok(const char *val, const struct kernel_param *kp)
{
	unsigned int count;
	bool ok;
	int err;

	/* "failover.slave_rename_ok" without a value means 1, as for bool. */
	err = kstrtobool(val ? val : "1", &ok);
	if (err) {
		/*
		 * A write through sysfs gets the error and changes nothing. At
		 * load time an error would fail the whole load, and with it
		 * net_failover and virtio_net, which need this module's
		 * symbols: the host would boot without its network. So a bad
		 * value from modprobe.d or the kernel command line is logged
		 * and the current value is kept.
		 */
		if (READ_ONCE(vnf_live))
			return err;
		pr_err("ignoring slave_rename_ok='%s' (not a boolean: use 1/0, y/n, on/off or true/false); keeping slave_rename_ok=%d\n",
		       val, *(bool *)kp->arg);
		return 0;
	}

#if VNF_MECH == VNF_MECH_UNSUPPORTED
	if (ok) {
		if (READ_ONCE(vnf_live)) {
			pr_err("slave_rename_ok=1 is not possible on this kernel: it refuses to rename any UP interface and has no IFF_LIVE_RENAME_OK\n");
			return -EINVAL;
		}
		/* Refusing here would fail the load and take the NIC with it. */
		pr_warn("slave_rename_ok=1 ignored: this kernel cannot rename UP failover slaves (live_rename=unsupported)\n");
		ok = false;
	}
#endif

	if (!READ_ONCE(vnf_live)) {
		*(bool *)kp->arg = ok;
		return 0;
	}

	rtnl_lock();
	WRITE_ONCE(*(bool *)kp->arg, ok);
	count = vnf_apply_all(ok);
	rtnl_unlock();

	pr_info("slave_rename_ok=%d, applied to %u enslaved slave(s) (live_rename=%s)\n",
		ok, count, VNF_MECH_NAME);
	return 0;
}

static const struct kernel_param_ops vnf_rename_ok_ops = {
	.flags	= KERNEL_PARAM_OPS_FL_NOARG,
	.set	= vnf_set_rename_ok,
	.get	= param_get_bool,
};

module_param_cb(slave_rename_ok, &vnf_rename_ok_ops, &slave_rename_ok, 0644);
__MODULE_PARM_TYPE(slave_rename_ok, "bool");
MODULE_PARM_DESC(slave_rename_ok,
		 "Allow renaming a failover slave while it is up (default 1); a write applies to enslaved slaves at once");

/* live_rename: read-only; a value given at load time is ignored. */
static int vnf_set_live_rename(const char *val, const struct kernel_param *kp)
{
	pr_warn("live_rename is read-only (it reports '%s'); ignoring '%s'\n",
		VNF_MECH_NAME, val ? val : "");
	return 0;
}

static int vnf_get_live_rename(char *buffer, const struct kernel_param *kp)
{
	return scnprintf(buffer, PAGE_SIZE, "%s\n", VNF_MECH_NAME);
}

/*
 * NOARG: a bare "live_rename" (no "=value") reaches the setter with val NULL
 * instead of failing the load with -EINVAL in parse_args().
 */
static const struct kernel_param_ops vnf_live_rename_ops = {
	.flags	= KERNEL_PARAM_OPS_FL_NOARG,
	.set	= vnf_set_live_rename,
	.get	= vnf_get_live_rename,
};

module_param_cb(live_rename, &vnf_live_rename_ops, NULL, 0444);
__MODULE_PARM_TYPE(live_rename, "charp");
MODULE_PARM_DESC(live_rename,
		 "How slave_rename_ok is enforced on this kernel: flag, notifier or unsupported (read-only)");

static struct net_device *failover_get_bymac(u8 *mac, struct failover_ops **ops)
{
	struct net_device *failover_dev;
	struct failover *failover;

	spin_lock(&failover_lock);
	list_for_each_entry(failover, &failover_list, list) {
		failover_dev = rtnl_dereference(failover->failover_dev);
		if (ether_addr_equal(failover_dev->perm_addr, mac)) {
			*ops = rtnl_dereference(failover->ops);
			spin_unlock(&failover_lock);
			return failover_dev;
		}
	}
	spin_unlock(&failover_lock);
	return NULL;
}

/**
 * failover_slave_register - Register a slave netdev
 *
 * @slave_dev: slave netdev that is being registered
 *
 * Registers a slave device to a failover instance. Only ethernet devices
 * are supported.
 */
static int failover_slave_register(struct net_device *slave_dev)
{
	struct netdev_lag_upper_info lag_upper_info;
	struct net_device *failover_dev;
	struct failover_ops *fops;
	int err;

	if (slave_dev->type != ARPHRD_ETHER)
		goto done;

	ASSERT_RTNL();

	failover_dev = failover_get_bymac(slave_dev->perm_addr, &fops);
	if (!failover_dev || !fops)
		goto done;

	if (fops->slave_pre_register &&
	    fops->slave_pre_register(slave_dev, failover_dev))
		goto done;

	err = netdev_rx_handler_register(slave_dev, fops->slave_handle_frame,
					 failover_dev);
	if (err) {
		netdev_err(slave_dev, "can not register failover rx handler (err = %d)\n",
			   err);
		goto done;
	}

	lag_upper_info.tx_type = NETDEV_LAG_TX_TYPE_ACTIVEBACKUP;
	err = netdev_master_upper_dev_link(slave_dev, failover_dev, NULL,
					   &lag_upper_info, NULL);
	if (err) {
		netdev_err(slave_dev, "can not set failover device %s (err = %d)\n",
			   failover_dev->name, err);
		goto err_upper_link;
	}

	slave_dev->priv_flags |= VNF_SLAVE_FLAGS;
	vnf_slave_apply(slave_dev, READ_ONCE(slave_rename_ok));

	if (fops->slave_register &&
	    !fops->slave_register(slave_dev, failover_dev))
		return NOTIFY_OK;

	netdev_upper_dev_unlink(slave_dev, failover_dev);
	slave_dev->priv_flags &= ~VNF_SLAVE_CLEAR_FLAGS;
err_upper_link:
	netdev_rx_handler_unregister(slave_dev);
done:
	return NOTIFY_DONE;
}

/**
 * failover_slave_unregister - Unregister a slave netdev
 *
 * @slave_dev: slave netdev that is being unregistered
 *
 * Unregisters a slave device from a failover instance.
 */
int failover_slave_unregister(struct net_device *slave_dev)
{
	struct net_device *failover_dev;
	struct failover_ops *fops;

	if (!netif_is_failover_slave(slave_dev))
		goto done;

	ASSERT_RTNL();

	failover_dev = failover_get_bymac(slave_dev->perm_addr, &fops);
	if (!failover_dev || !fops)
		goto done;

	if (fops->slave_pre_unregister &&
	    fops->slave_pre_unregister(slave_dev, failover_dev))
		goto done;

	netdev_rx_handler_unregister(slave_dev);
	netdev_upper_dev_unlink(slave_dev, failover_dev);
	slave_dev->priv_flags &= ~VNF_SLAVE_CLEAR_FLAGS;

	if (fops->slave_unregister &&
	    !fops->slave_unregister(slave_dev, failover_dev))
		return NOTIFY_OK;

done:
	return NOTIFY_DONE;
}
EXPORT_SYMBOL_GPL(failover_slave_unregister);

static int failover_slave_link_change(struct net_device *slave_dev)
{
	struct net_device *failover_dev;
	struct failover_ops *fops;

	if (!netif_is_failover_slave(slave_dev))
		goto done;

	ASSERT_RTNL();

	failover_dev = failover_get_bymac(slave_dev->perm_addr, &fops);
	if (!failover_dev || !fops)
		goto done;

	if (!netif_running(failover_dev))
		goto done;

	if (fops->slave_link_change &&
	    !fops->slave_link_change(slave_dev, failover_dev))
		return NOTIFY_OK;

done:
	return NOTIFY_DONE;
}

static int failover_slave_name_change(struct net_device *slave_dev)
{
	struct net_device *failover_dev;
	struct failover_ops *fops;

	if (!netif_is_failover_slave(slave_dev))
		goto done;

	ASSERT_RTNL();

	failover_dev = failover_get_bymac(slave_dev->perm_addr, &fops);
	if (!failover_dev || !fops)
		goto done;

	if (!netif_running(failover_dev))
		goto done;

	if (fops->slave_name_change &&
	    !fops->slave_name_change(slave_dev, failover_dev))
		return NOTIFY_OK;

done:
	return NOTIFY_DONE;
}

static int
failover_event(struct notifier_block *this, unsigned long event, void *ptr)
{
	struct net_device *event_dev = netdev_notifier_info_to_dev(ptr);

	/* Skip parent events */
	if (netif_is_failover(event_dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_REGISTER:
		return failover_slave_register(event_dev);
	case NETDEV_UNREGISTER:
		return failover_slave_unregister(event_dev);
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		return failover_slave_link_change(event_dev);
	case NETDEV_CHANGENAME:
		return failover_slave_name_change(event_dev);
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block failover_notifier = {
	.notifier_call = failover_event,
};

/*
 * A slave that exists before its master registers (a VF present at boot, or
 * virtio_net reloaded while the VF is up) is enslaved here, not from the
 * NETDEV_REGISTER event. Since 6.15 the kernel sends that event with the
 * slave's ops lock held (for drivers that use it: mlx5, bnxt, gve, fbnic),
 * and kernels with b84c5632c7b3 have net_failover open the slave and set its
 * MTU with the non-locking netif_open()/netif_set_mtu(), which expect that
 * lock. So this path takes it too, as upstream does. On 6.15+ kernels
 * without that commit net_failover still calls the locking dev_open(), and
 * taking the lock here would deadlock: probe.sh decides from the target
 * kernel's own net_failover.ko (VNF_EXISTING_SLAVE_OPS_LOCK).
 */
static void vnf_existing_slave_register_one(struct net_device *dev)
{
#ifdef VNF_EXISTING_SLAVE_OPS_LOCK
	netdev_lock_ops(dev);
	failover_slave_register(dev);
	netdev_unlock_ops(dev);
#else
	failover_slave_register(dev);
#endif
}

static void
failover_existing_slave_register(struct net_device *failover_dev)
{
	struct net *net = dev_net(failover_dev);
	struct net_device *dev;

	rtnl_lock();
	for_each_netdev(net, dev) {
		if (netif_is_failover(dev))
			continue;
		if (ether_addr_equal(failover_dev->perm_addr, dev->perm_addr))
			vnf_existing_slave_register_one(dev);
	}
	rtnl_unlock();
}

static void vnf_hold(struct failover *failover, struct net_device *dev)
{
#if defined(VNF_HAVE_FAILOVER_DEV_TRACKER) && defined(VNF_HAVE_NETDEV_HOLD)
	netdev_hold(dev, &failover->dev_tracker, GFP_KERNEL);
#elif defined(VNF_HAVE_FAILOVER_DEV_TRACKER) && defined(VNF_HAVE_DEV_HOLD_TRACK)
	dev_hold_track(dev, &failover->dev_tracker, GFP_KERNEL);
#else
	dev_hold(dev);
#endif
}

static void vnf_put(struct failover *failover, struct net_device *dev)
{
#if defined(VNF_HAVE_FAILOVER_DEV_TRACKER) && defined(VNF_HAVE_NETDEV_HOLD)
	netdev_put(dev, &failover->dev_tracker);
#elif defined(VNF_HAVE_FAILOVER_DEV_TRACKER) && defined(VNF_HAVE_DEV_HOLD_TRACK)
	dev_put_track(dev, &failover->dev_tracker);
#else
	dev_put(dev);
#endif
}

/**
 * failover_register - Register a failover instance
 *
 * @dev: failover netdev
 * @ops: failover ops
 *
 * Allocate and register a failover instance for a failover netdev. ops
 * provides handlers for slave device register/unregister/link change/
 * name change events.
 *
 * Return: pointer to failover instance
 */
struct failover *failover_register(struct net_device *dev,
				   struct failover_ops *ops)
{
	struct failover *failover;

	if (dev->type != ARPHRD_ETHER)
		return ERR_PTR(-EINVAL);

	failover = kzalloc(sizeof(*failover), GFP_KERNEL);
	if (!failover)
		return ERR_PTR(-ENOMEM);

	rcu_assign_pointer(failover->ops, ops);
	vnf_hold(failover, dev);
	dev->priv_flags |= IFF_FAILOVER;
	rcu_assign_pointer(failover->failover_dev, dev);

	spin_lock(&failover_lock);
	list_add_tail(&failover->list, &failover_list);
	spin_unlock(&failover_lock);

	netdev_info(dev, "failover master:%s registered\n", dev->name);

	failover_existing_slave_register(dev);

	return failover;
}
EXPORT_SYMBOL_GPL(failover_register);

/**
 * failover_unregister - Unregister a failover instance
 *
 * @failover: pointer to failover instance
 *
 * Unregisters and frees a failover instance.
 */
void failover_unregister(struct failover *failover)
{
	struct net_device *failover_dev;

	failover_dev = rcu_dereference(failover->failover_dev);

	netdev_info(failover_dev, "failover master:%s unregistered\n",
		    failover_dev->name);

	failover_dev->priv_flags &= ~IFF_FAILOVER;
	vnf_put(failover, failover_dev);

	spin_lock(&failover_lock);
	list_del(&failover->list);
	spin_unlock(&failover_lock);

	kfree(failover);
}
EXPORT_SYMBOL_GPL(failover_unregister);

static __init int
failover_init(void)
{
	int err;

	/* The veto first: see vnf_veto_notifier. */
	err = vnf_veto_register();
	if (err)
		return err;
	err = register_netdevice_notifier(&failover_notifier);
	if (err) {
		vnf_veto_unregister();
		return err;
	}

	WRITE_ONCE(vnf_live, true);

#if VNF_MECH == VNF_MECH_UNSUPPORTED
	pr_warn("virtnet.failover %s: this kernel refuses to rename any UP interface (no IFF_LIVE_RENAME_OK), so slave_rename_ok=1 cannot be honoured; slave_rename_ok=N\n",
		VNF_VERSION);
#else
	pr_info("virtnet.failover %s loaded: live_rename=%s, slave_rename_ok=%d\n",
		VNF_VERSION, VNF_MECH_NAME, READ_ONCE(slave_rename_ok));
#endif
	return 0;
}
module_init(failover_init);

static __exit
void failover_exit(void)
{
	unregister_netdevice_notifier(&failover_notifier);
	vnf_veto_unregister();
	WRITE_ONCE(vnf_live, false);
}
module_exit(failover_exit);

MODULE_DESCRIPTION("Generic failover infrastructure (virtnet.failover: slave_rename_ok)");
MODULE_LICENSE("GPL v2");
MODULE_VERSION(VNF_VERSION);
