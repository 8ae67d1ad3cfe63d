#!/usr/bin/env bash
# Builds the VM test image's base: a Debian bookworm root filesystem with a Debian
# kernel, the DAHDI modules compiled for that kernel, DAHDI tools, python3 and the
# native libraries the box loads. Our own code is NOT in it (image/testvm.py puts the
# project on a second disk at every boot), so the base only changes with this file and
# the package lists, which is what image/testvm.py keys its cache on.
#
# usage: build.sh OUT_DIR     (as root; OUT_DIR gets vmlinuz, initrd.img, rootfs.ext4)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build.sh OUT_DIR}
MIRROR=${CCBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${CCBOX_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
ROOT="$OUT/rootfs"
t0=$(date +%s)
step() { echo "[build.sh +$(( $(date +%s) - t0 ))s] $*"; }
pkgs() { grep -v '^\s*#' "$1" | grep -v '^\s*$' | tr '\n' ' '; }

[ "$(id -u)" -eq 0 ] || { echo "build.sh: must run as root (debootstrap, chroot)" >&2; exit 2; }
rm -rf "$ROOT"; mkdir -p "$ROOT"
cleanup() {
  for m in dev/pts proc sys; do mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"; done
  return 0
}
trap cleanup EXIT

step "debootstrap minbase bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
  || { tail -30 "$OUT/debootstrap.log" >&2; exit 1; }
cat >"$ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
SRC
mount -t proc proc "$ROOT/proc"; mount -t sysfs sys "$ROOT/sys"
mkdir -p "$ROOT/dev/pts"; mount -t devpts devpts "$ROOT/dev/pts"
# no services start in a chroot
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod +x "$ROOT/usr/sbin/policy-rc.d"
# a small initrd that only has to find a virtio disk
mkdir -p "$ROOT/etc/initramfs-tools/conf.d"
echo "MODULES=list" >"$ROOT/etc/initramfs-tools/conf.d/ccbox.conf"
echo "COMPRESS=gzip" >>"$ROOT/etc/initramfs-tools/conf.d/ccbox.conf"
mkdir -p "$ROOT/etc/initramfs-tools"
printf 'virtio_pci\nvirtio_blk\next4\n' >"$ROOT/etc/initramfs-tools/modules"

export DEBIAN_FRONTEND=noninteractive
in_root() { chroot "$ROOT" env LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
step "apt-get install (image packages)"
in_root apt-get update -qq
# shellcheck disable=SC2046
in_root apt-get install -y -qq --no-install-recommends $(pkgs "$HERE/packages.txt") \
  >"$OUT/apt.log" 2>&1 || { tail -30 "$OUT/apt.log" >&2; exit 1; }
# dahdi-dkms came with dahdi: without this hook, installing the headers would make dkms
# build every card driver (minutes); the image needs only the core, dynamic spans, the
# loopback and the dummy timer, built below from the same source with the same compiler
rm -f "$ROOT/etc/kernel/header_postinst.d/dkms"
step "apt-get install (build packages)"
# shellcheck disable=SC2046
in_root apt-get install -y -qq --no-install-recommends $(pkgs "$HERE/build-packages.txt") \
  >>"$OUT/apt.log" 2>&1 || { tail -30 "$OUT/apt.log" >&2; exit 1; }

KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*-amd64 | sort -V | tail -1)")
SRC=$(cd "$ROOT" && ls -d usr/src/dahdi-* | head -1); SRC="/$SRC"
step "kernel $KVER; DAHDI modules from $SRC (Debian's dahdi-dkms)"
in_root make -s -j"$(nproc)" -C "/usr/src/linux-headers-$KVER" \
  KBUILD_EXTMOD="$SRC/drivers/dahdi" DAHDI_INCLUDE="$SRC/include" \
  DAHDI_BUILD_ALL= CONFIG_DAHDI=m CONFIG_DAHDI_DYNAMIC=m CONFIG_DAHDI_DYNAMIC_LOC=m \
  DAHDI_MODULES_EXTRA="dahdi_dummy.o" modules >"$OUT/dahdi-build.log" 2>&1 \
  || { tail -40 "$OUT/dahdi-build.log" >&2; exit 1; }
dest="$ROOT/lib/modules/$KVER/updates/dahdi"; mkdir -p "$dest"
for m in dahdi dahdi_dynamic dahdi_dynamic_loc dahdi_dummy; do
  cp "$ROOT$SRC/drivers/dahdi/$m.ko" "$dest/"
done
in_root depmod "$KVER"

step "purge build packages"
# only the headers: gcc and make are dependencies of dahdi-dkms (hence of dahdi)
in_root apt-get purge -y -qq "linux-headers-*" >>"$OUT/apt.log" 2>&1
in_root sh -c 'command -v dahdi_cfg >/dev/null' || { echo "build.sh: dahdi_cfg missing" >&2; exit 1; }
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/src/dahdi-*/drivers/dahdi/*/ \
  "$ROOT/usr/sbin/policy-rc.d"
cleanup

# PID 1 of the test VM: mount the project disk (the second virtio disk, built at
# every boot by image/testvm.py) and hand over to its init.sh.
cat >"$ROOT/sbin/ccbox-test-init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /opt/ccbox; mount -o ro /dev/vdb /opt/ccbox || { echo "CCBOX-FATAL no project disk"; echo o >/proc/sysrq-trigger; }
exec /bin/sh /opt/ccbox/init.sh
INIT
chmod +x "$ROOT/sbin/ccbox-test-init"

step "kernel, initrd, ext4"
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"; cp "$ROOT/boot/initrd.img-$KVER" "$OUT/initrd.img"
echo "$KVER" >"$OUT/kernel-version"
mkdir -p "$ROOT/opt/ccbox" "$ROOT/data"
size_mb=$(( $(du -sm "$ROOT" | cut -f1) + 256 ))
rm -f "$OUT/rootfs.ext4"
mkfs.ext4 -q -L ccbox-root -d "$ROOT" "$OUT/rootfs.ext4" "${size_mb}M"
touch "$OUT/complete"
rm -rf "$ROOT"
step "done: $(du -sh "$OUT/rootfs.ext4" | cut -f1) rootfs, kernel $KVER"
