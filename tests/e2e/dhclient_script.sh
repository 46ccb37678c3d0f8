#!/bin/sh
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dhclient script for tests: configure the leased address and print what the
# server gave, but never touch /etc/resolv.conf (the namespace shares the
# host's files).
case "$reason" in
BOUND6|RENEW6|REBIND6|REBOOT6)
	ip -6 addr add "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
	echo "dhcp6_address=$new_ip6_address"
	echo "dhcp6_dns=$new_dhcp6_name_servers"
	echo "dhcp6_search=$new_dhcp6_domain_search"
	;;
BOUND|RENEW|REBIND|REBOOT)
	echo "dhcp4_address=$new_ip_address"
	;;
esac
exit 0
