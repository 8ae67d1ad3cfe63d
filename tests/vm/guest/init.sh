#!/bin/sh
# The VM test image's init, second half (the first is /sbin/ccbox-test-init in the base
# image): mounts, DAHDI modules, then the guest scenarios; powers off at the end.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o size=64m tmpfs /dev/shm   # dahdi_cfg's mutex lives there
mount -t tmpfs tmpfs /tmp; mount -t tmpfs tmpfs /run
mount -t tmpfs -o size=256m tmpfs /data
mount -t devpts devpts /dev/pts
hostname ccbox-vm
ip link set lo up 2>/dev/null || busybox ip link set lo up
echo "CCBOX-BOOT kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"
fail() { echo "CCBOX-FATAL $*"; dmesg | tail -30; sync; echo o >/proc/sysrq-trigger; sleep 5; }
modprobe dahdi auto_assign_spans=1 || fail "modprobe dahdi"
# dahdi_dummy (the timing source) is loaded by the guest after dahdi_cfg has created
# the dynamic spans: registered first, its channel-less span makes DAHDI 2.11 number
# the next span's channels from 0 and take span 1 (seen here)
modprobe dahdi_dynamic || fail "modprobe dahdi_dynamic"
modprobe dahdi_dynamic_loc || fail "modprobe dahdi_dynamic_loc"
echo "CCBOX-MODULES $(lsmod | grep -c dahdi) dahdi modules, up $(cut -d' ' -f1 /proc/uptime) s"
export PYTHONPATH=/opt/ccbox/src:/opt/ccbox/site PYTHONDONTWRITEBYTECODE=1
scenarios=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^ccbox.scenarios=//p')
r2trace=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^ccbox.r2trace=//p')
[ -n "$r2trace" ] && export CCBOX_R2_TRACE=1
cd /tmp && python3 -m tests.vm.guest.main ${scenarios:+--only "$scenarios"}
echo "CCBOX-DONE exit $?, up $(cut -d' ' -f1 /proc/uptime) s"
sync
echo o >/proc/sysrq-trigger
sleep 10
