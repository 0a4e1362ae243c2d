#!/bin/sh
# Install the Debian packages the faellesdrift lab needs. Idempotent: does
# nothing (and needs no network) when everything is already installed.
# Used by the CI entry and by newcomers: sudo scripts/lab-prereqs.sh
set -eu

PACKAGES="debootstrap debian-archive-keyring systemd-container zstd tar iproute2 util-linux openssh-client apt-utils"

if [ "$(id -u)" -ne 0 ]; then
    echo "lab-prereqs: must run as root (the lab needs root for namespaces and mounts)" >&2
    exit 1
fi

# Every lab server runs systemd, which takes ~7 inotify instances; all containers count
# against root's limit (default 128, i.e. ~15 servers). Raise the limits, persistently.
ensure_sysctl() {
    key=$1 want=$2
    have=$(sysctl -n "$key")
    if [ "$have" -lt "$want" ]; then
        sysctl -q -w "$key=$want"
        echo "lab-prereqs: $key $have -> $want"
    fi
}
ensure_sysctl fs.inotify.max_user_instances 8192
ensure_sysctl fs.inotify.max_user_watches 524288
# The lab's emulated devices (42000-42999 by default) and the tests' own gear listen on
# fixed ports inside the kernel's ephemeral range (32768-60999). Reserve 42000-47999 so the
# kernel never hands one out as a client's source port: otherwise a device's bind fails
# now and then with "Address already in use". Explicit binds still work.
RESERVED=42000-47999
have=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
case ",$have," in
    *",$RESERVED,"*) ;;
    *) echo "${have:+$have,}$RESERVED" > /proc/sys/net/ipv4/ip_local_reserved_ports
       echo "lab-prereqs: reserved ports $RESERVED for the lab (not used as ephemeral ports)" ;;
esac
conf=/etc/sysctl.d/60-faellesdrift-lab.conf
if ! grep -q ip_local_reserved_ports "$conf" 2>/dev/null; then
    printf '%s\n' "# faellesdrift lab: one systemd per lab server (scripts/lab-prereqs.sh)" \
        "fs.inotify.max_user_instances = 8192" "fs.inotify.max_user_watches = 524288" \
        "net.ipv4.ip_local_reserved_ports = $RESERVED" > "$conf"
fi

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $pkg" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "lab-prereqs: all present ($PACKAGES)"
    exit 0
fi

echo "lab-prereqs: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
echo "lab-prereqs: done"
