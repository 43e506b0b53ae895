#!/bin/sh
# Runs inside the new root file system (chroot, native or under qemu-user-static) before it is imported.
# Turns a Debian root file system into a container image that boots systemd as PID 1.
# Arguments: the apt source lines to use, one per line, in $APT_SOURCES; packages (comma-separated) in $PACKAGES.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

printf '%s\n' "$APT_SOURCES" > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/debian.sources

# A pulled image has no systemd or python3 yet; a debootstrapped one already has them (no-op then).
missing=""
for pkg in $(echo "$PACKAGES" | tr ',' ' '); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

# Trust the certificate authorities the build machine trusts locally (copied in by testbed.sh).
update-ca-certificates --fresh >/dev/null

# Units that need real hardware, a console or kernel privileges a container does not have.
for unit in getty.target console-getty.service systemd-remount-fs.service dev-hugepages.mount \
    sys-fs-fuse-connections.mount systemd-firstboot.service systemd-udevd.service \
    systemd-modules-load.service sys-kernel-debug.mount sys-kernel-tracing.mount \
    apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "/etc/systemd/system/$unit"
done

# Credentials need a mount that qemu-user cannot set up (status=243/CREDENTIALS under emulation, for
# every unit that loads or imports one: journald, sysusers, tmpfiles... on Debian 13); containers pass
# none, so these units run without them, on every architecture alike.
for file in $(grep -l -E '^(Load|Import|Set)Credential(Encrypted)?=' /lib/systemd/system/*.service); do
    unit=$(basename "$file")
    mkdir -p "/etc/systemd/system/$unit.d"
    printf '[Service]\nLoadCredential=\nImportCredential=\nSetCredential=\n' > "/etc/systemd/system/$unit.d/container.conf"
done

# Under emulation ($EMULATED=yes) qemu-user cannot set up the private mount namespace systemd 257 gives
# logind ("Failed to set up mount namespacing: Invalid argument"); nothing in the test bed logs in on
# an emulated host, so logind stays off there.
if [ "${EMULATED:-no}" = yes ]; then
    ln -sf /dev/null /etc/systemd/system/systemd-logind.service
fi

# Each container gets its own machine id at first boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# Small images; roles refresh the package lists themselves.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /tmp/* /var/tmp/*
# Empty lists must look stale, or apt's cache_valid_time would skip the first update.
rm -f /var/lib/apt/periodic/update-success-stamp
touch -d @0 /var/lib/apt/lists
