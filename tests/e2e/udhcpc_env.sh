#!/bin/sh
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# udhcpc script for tests: print what the DHCP server gave, one KEY=VALUE a line.
[ "$1" = "bound" ] || exit 0
echo "ip=$ip"
echo "mask=$mask"
echo "router=$router"
echo "dns=$dns"
echo "search=$search"
echo "mtu=$mtu"
echo "lease=$lease"
echo "hostname=$hostname"
