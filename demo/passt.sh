#!/bin/sh
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo/passt.sh - start passt and a QEMU guest the way a user would
#
# Usage: demo/passt.sh [KERNEL INITRD]
#
# 1. starts ./passt (a daemon: it returns once the socket is listening) on a
#    socket of its own, forwarding host port 8022 to port 22 of the guest;
# 2. boots QEMU (KVM when /dev/kvm is usable, TCG otherwise) with a
#    virtio-net device on "-netdev stream" connected to that socket, the
#    serial console on this terminal;
# 3. stops passt when QEMU exits.
#
# KERNEL and INITRD default to Debian's kernel in /boot and the busybox
# initramfs the end-to-end test builds (deno test -A tests/e2e/passt_test.ts
# caches it under $XDG_CACHE_HOME/passt-deno or /tmp/passt-deno-cache); that
# guest configures itself with DHCP, runs its checks, and powers off. Any
# other kernel and initramfs (or, with small changes, a disk image) work the
# same way. Needs qemu-system-x86_64 (Debian: qemu-system-x86).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$(ls /boot/vmlinuz-* 2>/dev/null | sort | tail -n 1)}
initrd=${2:-$(ls -t "${XDG_CACHE_HOME:-/tmp}"/passt-deno*/initrd-*.cpio.gz \
	/tmp/passt-deno-cache/initrd-*.cpio.gz 2>/dev/null | head -n 1)}
[ -n "$kernel" ] && [ -n "$initrd" ] || {
	echo "usage: $0 KERNEL INITRD (no kernel in /boot or no cached initramfs)" >&2
	exit 1
}

dir=$(mktemp -d)
chmod 755 "$dir"
sock="$dir/passt.socket"
"$here/passt" --socket "$sock" --pid "$dir/passt.pid" -t 8022:22
trap 'kill "$(cat "$dir/passt.pid")" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
echo "passt is running (PID $(cat "$dir/passt.pid")), socket $sock"

accel=tcg
[ -w /dev/kvm ] && accel=kvm
qemu-system-x86_64 -accel "$accel" -m 256 -display none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 checks=short" \
	-device virtio-net-pci,netdev=s \
	-netdev stream,id=s,server=off,addr.type=unix,addr.path="$sock"
