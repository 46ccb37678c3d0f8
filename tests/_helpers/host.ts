// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `host.ts` - the host a configuration test pretends to run on: eth0 with
 * 192.168.1.10/24 via 192.168.1.1 and, unless left out, 2001:db8::10/64 via
 * fe80::1.
 *
 * @module
 */

import type { HostInfo } from "../../src/conf/host_info.ts";
import { parseIp4, parseIp6 } from "../../src/ip.ts";

/** The test host with both families. */
export function testHost(): HostInfo {
  return { v4: testHostV4Only().v4, v6: testHostV6() };
}

/** The test host without IPv6. */
export function testHostV4Only(): HostInfo {
  return {
    v4: {
      ifname: "eth0",
      ifindex: 2,
      addr: parseIp4("192.168.1.10")!,
      prefixLen: 24,
      gw: parseIp4("192.168.1.1")!,
      mac: Uint8Array.from([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
      mtu: 1500,
    },
    v6: null,
  };
}

function testHostV6(): HostInfo["v6"] {
  return {
    ifname: "eth0",
    ifindex: 2,
    addr: parseIp6("2001:db8::10")!,
    prefixLen: 64,
    addrLl: parseIp6("fe80::5054:ff:fe12:3456")!,
    gw: parseIp6("fe80::1")!,
    mtu: 1500,
  };
}
