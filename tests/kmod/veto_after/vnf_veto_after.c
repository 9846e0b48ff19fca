// SPDX-License-Identifier: GPL-2.0
/*
 * vnf_veto_after: a test-only module for the VM lab, never shipped.
 *
 * It registers a NETDEV_CHANGENAME notifier at a chosen priority that
 * refuses one chosen name with -EXDEV, the way addrconf (ENOMEM) or a
 * netfilter NOTIFY_BAD can fail a rename after the failover module's veto
 * has let it pass. The lab uses it to show that the failover module's veto
 * runs first (a refused rename of an UP slave is EBUSY, never EXDEV), and that
 * the kernel's rollback of a rename this module refused is let through
 * ("name change rollback failed" never appears).
 *
 *   insmod vnf_veto_after.ko name=vnfveto0 priority=100
 *   cat /sys/module/vnf_veto_after/parameters/vetoes
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/string.h>

static char *name = "vnfveto0";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "The interface name to refuse");

static int priority = 100;
module_param(priority, int, 0444);
MODULE_PARM_DESC(priority, "Notifier priority (the failover module's own notifier is 0)");

/* Written under RTNL only. */
static int vetoes;
module_param(vetoes, int, 0444);
MODULE_PARM_DESC(vetoes, "How many renames were refused");

static int vnf_veto_after_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event != NETDEV_CHANGENAME || strcmp(dev->name, name))
		return NOTIFY_DONE;

	vetoes++;
	pr_info("refusing the name %s (ifindex %d)\n", dev->name, dev->ifindex);
	return notifier_from_errno(-EXDEV);
}

static struct notifier_block vnf_veto_after_notifier = {
	.notifier_call = vnf_veto_after_event,
};

static int __init vnf_veto_after_init(void)
{
	vnf_veto_after_notifier.priority = priority;
	return register_netdevice_notifier(&vnf_veto_after_notifier);
}
module_init(vnf_veto_after_init);

static void __exit vnf_veto_after_exit(void)
{
	unregister_netdevice_notifier(&vnf_veto_after_notifier);
}
module_exit(vnf_veto_after_exit);

MODULE_DESCRIPTION("virtnet.failover lab: refuse one interface name after the failover veto (test only)");
MODULE_LICENSE("GPL v2");
