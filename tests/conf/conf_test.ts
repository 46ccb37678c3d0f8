// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ROOTLESSKIT_ARGS } from "../_helpers/callers.ts";
import type { Conf, Mode } from "../../src/context.ts";
import {
  ConfError,
  type ConfOptions,
  formatConfSummary,
  parseConf,
  usage,
  version,
} from "../../src/conf/conf.ts";
import type { HostInfo, HostRequest } from "../../src/conf/host_info.ts";
import { formatRule } from "../../src/fwd/fwd_rule.ts";
import { OPTIONS } from "../../src/conf/options.ts";
import { formatIp4, formatIp6, formatMac } from "../../src/ip.ts";
import { ip6IsZero } from "../../src/wire/inany.ts";
import { testHost as host } from "../_helpers/host.ts";

const SYS: ConfOptions = {
  resolvText: "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.com\n",
  passwd: "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n" +
    "alice:x:1000:1000::/home/alice:/bin/sh\n",
  group: "root:x:0:\nusers:x:100:\nnogroup:x:65534:\n",
  euid: 1000,
  egid: 1000,
  uidMap: "         0       1000          1\n",
  portRange: "32768\t60999\n",
};

function conf(mode: Mode, args: string[], h: HostInfo = host(), o: ConfOptions = SYS): Conf {
  const r = parseConf(mode, args, h, o);
  assert.equal(r.kind, "conf");
  return (r as { conf: Conf }).conf;
}

function warnings(
  mode: Mode,
  args: string[],
  h: HostInfo = host(),
  o: ConfOptions = SYS,
): string[] {
  const r = parseConf(mode, args, h, o);
  assert.equal(r.kind, "conf");
  return (r as { warnings: string[] }).warnings;
}

function fails(
  mode: Mode,
  args: string[],
  message: string,
  h: HostInfo = host(),
  o: ConfOptions = SYS,
): void {
  assert.throws(() => parseConf(mode, args, h, o), (e: unknown) => {
    assert.ok(e instanceof ConfError, String(e));
    assert.equal(e.message, message);
    return true;
  }, args.join(" "));
}

/** The rules of a table, as upstream prints them. */
function rules(c: Conf, pif: "host" | "splice"): string[] {
  return c.fwd[pif].map(formatRule);
}

Deno.test("passt defaults", () => {
  const c = conf("passt", []);
  assert.equal(c.mtu, 65520);
  assert.deepEqual(rules(c, "host"), []);
  assert.deepEqual(rules(c, "splice"), []);
  assert.equal(c.dhcpDns, true);
  assert.equal(c.dhcpSearch, true);
  assert.equal(formatIp4(c.ip4.addr), "192.168.1.10");
  assert.equal(c.ip4.prefixLen, 24);
  assert.equal(formatIp6(c.ip6.addr), "2001:db8::10");
  assert.equal(formatIp6(c.ip6.gw), "fe80::1");
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["192.0.2.53"]);
  assert.deepEqual(c.ip6.dns.map(formatIp6), ["2001:db8::53"]);
  assert.equal(formatIp4(c.ip4.dnsHost), "192.0.2.53");
  assert.deepEqual(c.dnsSearch, ["example.com"]);
  assert.equal(formatMac(c.mac), "9a:55:9a:55:9a:55");
  assert.equal(c.socketPath, "");
  assert.equal(c.fd, -1);
  assert.equal(c.logSize, 1048576);
  assert.deepEqual([c.uid, c.gid], [1000, 1000]);
  assert.ok(c.v4 && c.v6);
});

Deno.test("pasta defaults: auto forwarding, DNS not advertised, shell spawned in foreground", () => {
  const c = conf("pasta", []);
  // auto: every non-ephemeral port, scanned (SYS: ephemeral 32768-60999).
  assert.deepEqual(rules(c, "host"), [
    "TCP [*]:1-32767  =>  1-32767  (best effort) (auto-scan)",
    "TCP [*]:61000-65535  =>  61000-65535  (best effort) (auto-scan)",
    "UDP [*]:1-32767  =>  1-32767  (best effort) (auto-scan)",
    "UDP [*]:61000-65535  =>  61000-65535  (best effort) (auto-scan)",
  ]);
  assert.deepEqual(rules(c, "splice"), [
    "TCP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)",
    "TCP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)",
    "UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)",
    "UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)",
  ]);
  assert.equal(c.dhcpDns, false);
  assert.equal(c.dhcpSearch, false);
  assert.equal(formatIp4(c.ip4.dnsHost), "192.0.2.53");
  assert.deepEqual(c.command, []);
  assert.equal(c.targetPid, 0);
  assert.equal(c.netns, null);
  assert.equal(c.foreground, true);
  assert.equal(c.quiet, true);
  assert.equal(c.nsIfname, "eth0");
});

Deno.test("Podman's argument lists parse", () => {
  const base = ["--config-net", "--dns-forward", "169.254.1.1", "-t", "none", "-u", "none"];
  const tail = ["-T", "none", "-U", "none", "--no-map-gw", "--quiet", "--netns", "netns123"];
  let c = conf("pasta", [...base, ...tail]);
  assert.equal(c.configNet, true);
  assert.equal(c.noRa, true);
  assert.equal(formatIp4(c.ip4.dnsMatch), "169.254.1.1");
  assert.deepEqual([...rules(c, "host"), ...rules(c, "splice")], []);
  assert.equal(c.ip4.mapHostLoopback, 0);
  assert.ok(ip6IsZero(c.ip6.mapHostLoopback));
  assert.equal(c.quiet, true);
  assert.equal(c.netns, "/run/netns/netns123");
  assert.equal(c.netnsOnly, true);
  assert.equal(c.userns, null);

  c = conf("pasta", [
    "--config-net",
    "-t",
    "80-80:80-80",
    "--dns-forward",
    "169.254.1.1",
    "-u",
    "none",
    ...tail,
  ]);
  assert.deepEqual(rules(c, "host"), ["TCP [*]:80  =>  80 "]);

  c = conf("pasta", ["--config-net", "-t", "127.0.0.1/8080-8080:80-80", ...tail]);
  assert.deepEqual(rules(c, "host")[0], "TCP [127.0.0.1]:8080  =>  80 ");

  c = conf("pasta", ["--config-net", "--netns", "/run/user/1000/netns/netns-abc", "--pid", "/p"]);
  assert.equal(c.netns, "/run/user/1000/netns/netns-abc");

  // Newer Podman appends --map-guest-addr (and retries without it if refused).
  c = conf("pasta", [...base, ...tail, "--map-guest-addr", "169.254.1.2"]);
  assert.equal(formatIp4(c.ip4.mapGuestAddr), "169.254.1.2");
});

Deno.test("RootlessKit's argument list parses", () => {
  const c = conf("pasta", [
    ...ROOTLESSKIT_ARGS,
    "--tcp-ports=auto",
    "--udp-ports=auto",
    "12345",
  ]);
  assert.equal(c.nsIfname, "tap0");
  assert.equal(c.mtu, 65520);
  assert.equal(formatIp4(c.ip4.addr), "10.0.2.100");
  assert.equal(c.ip4.prefixLen, 24);
  assert.equal(formatIp4(c.ip4.gw), "10.0.2.2");
  assert.equal(formatIp4(c.ip4.dnsMatch), "10.0.2.3");
  assert.equal(c.v4, true);
  assert.equal(c.v6, false);
  assert.equal(c.noNdp && c.noDhcpv6, true);
  assert.deepEqual(rules(c, "host").slice(0, 1), [
    "TCP [0.0.0.0]:1-32767  =>  1-32767  (best effort) (auto-scan)",
  ]);
  assert.equal(c.targetPid, 12345);
  assert.equal(c.netns, "/proc/12345/ns/net");
  assert.equal(c.userns, "/proc/12345/ns/user");
  assert.equal(c.foreground, false);

  assert.deepEqual(
    warnings("pasta", ["--stderr", "--config-net", "-6", "1"]),
    ["--stderr will be dropped soon"],
  );

  const d = conf("pasta", ["--userns=/proc/7/ns/user", "--netns=/proc/7/ns/net"]);
  assert.equal(d.userns, "/proc/7/ns/user");
  assert.equal(d.netnsOnly, false);
});

Deno.test("libvirt's and QEMU 10.1's passt command lines parse", () => {
  let c = conf("passt", [
    "--one-off",
    "--socket",
    "/x.socket",
    "--mac-addr",
    "52:54:00:f8:03:a6",
    "--pid",
    "/p",
    "--interface",
    "eth0",
    "--log-file",
    "/l",
    "--tcp-ports",
    "443",
  ]);
  assert.equal(c.oneOff, true);
  assert.equal(c.socketPath, "/x.socket");
  assert.equal(formatMac(c.mac), "52:54:00:f8:03:a6");
  assert.equal(c.pidFile, "/p");
  assert.equal(c.logFile, "/l");
  assert.deepEqual(rules(c, "host"), ["TCP [*]:443  =>  443 "]);

  c = conf("passt", ["--quiet", "--pid", "/p", "--fd", "3"]);
  assert.equal(c.fd, 3);
  assert.equal(c.oneOff, true);
  assert.equal(c.quiet, true);
});

Deno.test("host discovery is asked for the template interfaces and families given", () => {
  const asked: HostRequest[] = [];
  const discover = (req: HostRequest): HostInfo => {
    asked.push(req);
    return host();
  };
  parseConf("passt", ["-i", "wlan0"], discover, SYS);
  parseConf("passt", ["--outbound-if4", "eth1", "-6"], discover, SYS);
  assert.deepEqual(asked, [
    { v4: true, v6: true, ifname4: "wlan0", ifname6: "wlan0" },
    { v4: false, v6: true, ifname4: "eth1" },
  ]);
});

Deno.test("local mode: a family without a template interface uses link-local addresses", () => {
  const notes = (args: string[], h: HostInfo): string[] => {
    const r = parseConf("passt", args, h, SYS);
    assert.equal(r.kind, "conf");
    return (r as { notes: string[] }).notes;
  };
  const h = host();
  h.v6 = null;
  let c = conf("passt", [], h);
  assert.deepEqual([c.v6, c.local6, c.local4], [true, true, false]);
  assert.equal(formatIp6(c.ip6.gw), "fe80::1");
  assert.equal(formatIp6(c.ip6.addrLl), "fe80::1");
  assert.equal(formatIp6(c.ip6.addr), "::");
  assert.deepEqual([c.noNdp, c.noDhcpv6], [false, true], "NDP yes, DHCPv6 has nothing to give");
  assert.deepEqual(notes([], h), ["IPv6: no external interface as template, use local mode"]);

  const none: HostInfo = { v4: null, v6: null, notes: ["No interfaces with usable IPv4 routes"] };
  c = conf("pasta", ["--config-net", "--netns", "x"], none);
  assert.deepEqual([c.v4, c.local4, c.v6, c.local6], [true, true, true, true]);
  assert.equal(formatIp4(c.ip4.addr), "169.254.2.1");
  assert.equal(formatIp4(c.ip4.gw), "169.254.2.2");
  assert.equal(c.ip4.prefixLen, 16);
  assert.equal(c.noDhcp, false);
  assert.equal(c.nsIfname, "tap0");
  assert.equal(formatMac(c.mac), "9a:55:9a:55:9a:55");
  assert.deepEqual(notes([], none), [
    "No interfaces with usable IPv4 routes",
    "IPv4: no external interface as template, use local mode",
    "IPv6: no external interface as template, use local mode",
  ]);
  // the gateway is mapped to the host's loopback: a loopback resolver is advertised as it
  c = conf("passt", [], none, { ...SYS, resolvText: "nameserver 127.0.0.53\n" });
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["169.254.2.2"]);
  // what was asked for is kept
  c = conf("passt", ["-a", "10.0.2.100/24", "-g", "10.0.2.2", "-4"], none);
  assert.deepEqual([formatIp4(c.ip4.addr), formatIp4(c.ip4.gw), c.ip4.prefixLen], [
    "10.0.2.100",
    "10.0.2.2",
    24,
  ]);
  assert.equal(c.v6, false);

  fails("passt", [], 'Loopback interface is down, local mode needs it: try "ip link set lo up"', {
    ...none,
    loopbackUp: false,
  });
  assert.equal(conf("passt", ["--no-map-gw"], { ...none, loopbackUp: false }).local4, true);
  assert.equal(conf("passt", [], { ...host(), loopbackUp: false }).local4, false);
  fails("passt", ["--outbound-if4", "eth9"], "External interface not usable", {
    ...host(),
    v4: null,
  });
  fails("passt", ["-i", "eth9"], "Invalid interface name eth9: No such device", {
    ...none,
    noSuchIf: "eth9",
  });
});

Deno.test("addresses, netmask widening, gateway, MAC, outbound", () => {
  let c = conf("passt", ["-a", "10.1.2.3", "-g", "10.1.9.1"]);
  assert.equal(c.ip4.prefixLen, 8);
  c = conf("passt", ["-a", "192.168.5.5", "-n", "255.255.255.0", "-g", "192.168.4.1"]);
  assert.equal(c.ip4.prefixLen, 23);
  c = conf("passt", ["-a", "2001:db8::99", "-a", "192.0.2.9", "-g", "2001:db8::1"]);
  assert.equal(formatIp6(c.ip6.addr), "2001:db8::99");
  assert.equal(formatIp4(c.ip4.addr), "192.0.2.9");
  assert.equal(formatIp6(c.ip6.gw), "2001:db8::1");
  c = conf("passt", ["-o", "192.0.2.7", "-o", "2001:db8::7", "--outbound-if4", "eth1"]);
  assert.equal(formatIp4(c.ip4.addrOut), "192.0.2.7");
  assert.equal(formatIp6(c.ip6.addrOut), "2001:db8::7");
  assert.equal(c.ip4.ifnameOut, "eth1");
  c = conf("passt", ["-M", "02:00:00:00:00:01", "-m", "0"]);
  assert.equal(formatMac(c.mac), "02:00:00:00:00:01");
  assert.equal(c.mtu, 0);
  assert.equal(conf("passt", ["-m", "0x5dc"]).mtu, 1500);
});

Deno.test("DNS: -D, none, loopback resolvers, --no-map-gw, search", () => {
  let c = conf("passt", ["-D", "192.0.2.1", "-D", "2001:db8::1", "-S", "a.example", "-S", "b"]);
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["192.0.2.1"]);
  assert.deepEqual(c.ip6.dns.map(formatIp6), ["2001:db8::1"]);
  assert.deepEqual(c.dnsSearch, ["a.example", "b"]);

  c = conf("passt", ["-D", "none", "-S", "none"]);
  assert.deepEqual(c.ip4.dns, []);
  assert.deepEqual(c.dnsSearch, []);
  assert.equal(c.ip4.dnsHost, 0);

  const stub: ConfOptions = { ...SYS, resolvText: "nameserver 127.0.0.53\nnameserver ::1\n" };
  c = conf("passt", [], host(), stub);
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["192.168.1.1"]);
  assert.equal(formatIp4(c.ip4.dnsMatch), "192.168.1.1");
  assert.equal(formatIp4(c.ip4.dnsHost), "127.0.0.53");
  assert.deepEqual(c.ip6.dns.map(formatIp6), ["fe80::1"]);
  assert.equal(formatIp6(c.ip6.dnsHost), "::1");

  c = conf("passt", ["--no-map-gw"], host(), stub);
  assert.deepEqual(c.ip4.dns, []);
  assert.equal(c.ip4.dnsMatch, 0);
  assert.equal(formatIp4(c.ip4.dnsHost), "127.0.0.53");

  c = conf("passt", ["--dns-forward", "10.0.2.3"], host(), stub);
  assert.equal(formatIp4(c.ip4.dnsMatch), "10.0.2.3");

  assert.deepEqual(warnings("passt", [], host(), { ...SYS, resolvText: "" }), [
    "Couldn't get any nameserver address",
  ]);
  assert.equal(conf("pasta", ["--dhcp-dns", "--dhcp-search"]).dhcpDns, true);
  assert.equal(conf("passt", ["--no-dhcp-dns", "--no-dhcp-search"]).dhcpSearch, false);
});

Deno.test("--runas and the default identity", () => {
  const ids = (args: string[], o: ConfOptions = SYS): [number, number] => {
    const c = conf("passt", args, host(), o);
    return [c.uid, c.gid];
  };
  assert.deepEqual(ids(["--runas", "1234"]), [1234, 1234]);
  assert.deepEqual(ids(["--runas", "1234:99"]), [1234, 99]);
  assert.deepEqual(ids(["--runas", "alice"]), [1000, 1000]);
  assert.deepEqual(ids(["--runas", "alice:users"]), [1000, 100]);
  assert.deepEqual(ids(["--runas", "0"]), [0, 0]);
  fails("passt", ["--runas", "root"], "Invalid --runas option: root");
  fails("passt", ["--runas", "bob"], "Invalid --runas option: bob");
  fails("passt", ["--runas", "alice:nosuch"], "Invalid --runas option: alice:nosuch");

  const root: ConfOptions = { ...SYS, euid: 0, egid: 0, uidMap: "0 0 4294967295\n" };
  assert.deepEqual(ids([], root), [65534, 65534]);
  assert.deepEqual(warnings("passt", [], host(), root), [
    "Started as root, will change to nobody.",
  ]);
  assert.deepEqual(ids([], { ...root, passwd: "" }), [65534, 65534]);
  assert.deepEqual(ids([], { ...root, uidMap: "0 1000 1\n" }), [0, 0]);
});

Deno.test("pasta targets: PID, command, --netns, --userns", () => {
  let c = conf("pasta", ["--", "sh", "-c", "true"]);
  assert.deepEqual(c.command, ["sh", "-c", "true"]);
  c = conf("pasta", ["ip", "link"]);
  assert.deepEqual(c.command, ["ip", "link"]);
  c = conf("pasta", ["--", "1234"]);
  assert.equal(c.targetPid, 1234);
  c = conf("pasta", ["--netns-only", "99"]);
  assert.equal(c.userns, null);
  c = conf("pasta", ["--netns", "foo"]);
  assert.equal(c.netns, "/run/netns/foo");
  fails("pasta", ["--nsrun-dir", "/tmp/ns"], "pasta: unrecognized option '--nsrun-dir'");
  // --userns and --netns-only: the last one wins, as upstream
  c = conf("pasta", ["--userns", "/u", "--netns-only", "--netns", "x"]);
  assert.deepEqual([c.userns, c.netnsOnly], [null, true]);
  c = conf("pasta", ["--netns-only", "--userns", "/u", "--netns", "x"]);
  assert.deepEqual([c.userns, c.netnsOnly], ["/u", false]);
  c = conf("pasta", ["-d", "sh"]);
  assert.equal(c.quiet, false);
  assert.equal(c.foreground, true);

  fails("pasta", ["--netns", "x", "sh"], "Both --netns and PID or command given");
  fails("pasta", ["--netns", "x", "12"], "Both --netns and PID or command given");
  fails("pasta", ["--userns", "/u"], "--userns requires --netns or PID");
  fails("pasta", ["--userns", "/u", "sh"], "--userns requires --netns or PID");
  fails("pasta", ["0"], "Invalid PID 0");
  fails("pasta", ["99999999999"], "Invalid PID 99999999999");
});

Deno.test("options of the other mode are refused with upstream's messages", () => {
  fails("passt", ["--netns", "x"], "--netns is for pasta mode only");
  fails("passt", ["--userns", "x"], "--userns is for pasta mode only");
  fails("passt", ["--config-net"], "--config-net is for pasta mode only");
  fails("passt", ["--dhcp-dns"], "--dhcp-dns is for pasta mode only");
  fails("passt", ["--no-copy-routes"], "--no-copy-routes is for pasta mode only");
  fails("passt", ["--tcp-ns", "22"], "-T is for pasta mode only");
  fails("passt", ["-T", "22"], "-T is for pasta mode only");
  fails("passt", ["-U", "22"], "-U is for pasta mode only");
  fails("passt", ["-I", "tap0"], "-I is for pasta mode only");
  fails("pasta", ["--socket", "/x"], "-s is for passt / vhost-user mode only");
  fails("pasta", ["--socket-path", "/x"], "-s is for passt / vhost-user mode only");
  fails("pasta", ["-s", "/x"], "-s is for passt / vhost-user mode only");
  fails("pasta", ["--one-off"], "--one-off is for passt mode only");
  fails("pasta", ["-1"], "--one-off is for passt mode only");
  fails("pasta", ["--no-dhcp-dns"], "--no-dhcp-dns is for passt mode only");
  fails("passt", ["extra"], "Extra non-option argument: extra");
});

Deno.test("repeated and conflicting options: the last one wins, as upstream since 2024", () => {
  let c = conf("passt", ["-d", "-q"]);
  assert.deepEqual([c.debug, c.quiet], [false, true]);
  c = conf("passt", ["-q", "-d"]);
  assert.deepEqual([c.debug, c.quiet], [true, false]);
  c = conf("passt", ["--trace", "-q"]);
  assert.deepEqual([c.debug, c.trace, c.quiet], [false, false, true]);
  c = conf("passt", ["-q", "--trace", "-d", "-d", "-f", "-f"]);
  assert.deepEqual([c.debug, c.trace, c.quiet, c.foreground], [true, true, false, true]);
  assert.equal(conf("passt", ["-m", "1500", "-m", "9000"]).mtu, 9000);
  assert.equal(conf("passt", ["-P", "/a", "-P", "/b"]).pidFile, "/b");
  assert.equal(conf("passt", ["-p", "/a", "-p", "/b"]).pcap, "/b");
  assert.equal(conf("passt", ["-l", "/a", "-l", "/b"]).logFile, "/b");
  assert.equal(conf("passt", ["--log-size", "50000", "--log-size", "60000"]).logSize, 60000);
  assert.deepEqual([conf("passt", ["--runas", "1", "--runas", "2"]).uid], [2]);
  c = conf("passt", ["-4", "-6"]);
  assert.deepEqual([c.v4, c.v6], [false, true]);
  c = conf("passt", ["-6", "-4"]);
  assert.deepEqual([c.v4, c.v6], [true, false]);
  c = conf("passt", ["-a", "10.0.0.1", "-a", "10.0.0.2", "-a", "2001:db8::1", "-a", "2001:db8::2"]);
  assert.equal(formatIp4(c.ip4.addr), "10.0.0.2");
  assert.equal(formatIp6(c.ip6.addr), "2001:db8::2");
  c = conf("passt", ["-g", "192.168.1.2", "-g", "192.168.1.3", "-M", "02:00:00:00:00:01"]);
  assert.equal(formatIp4(c.ip4.gw), "192.168.1.3");
  c = conf("passt", ["-M", "02:00:00:00:00:01", "-M", "02:00:00:00:00:02"]);
  assert.equal(formatMac(c.mac), "02:00:00:00:00:02");
  c = conf("passt", [
    "-o",
    "192.0.2.7",
    "-o",
    "192.0.2.8",
    "--outbound-if4",
    "a",
    "--outbound-if4",
    "b",
  ]);
  assert.equal(formatIp4(c.ip4.addrOut), "192.0.2.8");
  assert.equal(c.ip4.ifnameOut, "b");
  c = conf("passt", ["--dns-forward", "10.0.2.3", "--dns-forward", "10.0.2.4"]);
  assert.equal(formatIp4(c.ip4.dnsMatch), "10.0.2.4");
  c = conf("passt", ["-s", "/a", "-s", "/b"]);
  assert.equal(c.socketPath, "/b");
  c = conf("passt", ["-s", "/a", "-F", "3"]);
  assert.deepEqual([c.socketPath, c.fd, c.oneOff], ["", 3, true]);
  c = conf("passt", ["-F", "3", "-s", "/a"]);
  assert.deepEqual([c.socketPath, c.fd], ["/a", -1]);
  assert.equal(conf("passt", ["-1", "-1"]).oneOff, true);
  c = conf("pasta", ["-I", "a", "-I", "b", "--netns", "a", "--netns", "b"]);
  assert.deepEqual([c.nsIfname, c.netns], ["b", "/run/netns/b"]);
  c = conf("passt", ["-D", "1.2.3.4", "-D", "none"]);
  assert.deepEqual(c.ip4.dns, []);
  c = conf("passt", ["-D", "none", "-D", "1.2.3.4", "-D", "none", "-D", "5.6.7.8"]);
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["5.6.7.8"]);
  c = conf("passt", ["-D", "1.1.1.1", "-D", "1.1.1.2", "-D", "1.1.1.3", "-D", "1.1.1.4"]);
  assert.deepEqual(c.ip4.dns.map(formatIp4), ["1.1.1.1", "1.1.1.2", "1.1.1.3"]);
  assert.deepEqual(conf("passt", ["-S", "a", "-S", "none"]).dnsSearch, []);
  assert.deepEqual(conf("passt", ["-S", "none", "-S", "b"]).dnsSearch, ["b"]);
  // Podman: containers.conf options, then the command line's, "to allow some form of overwrite"
  assert.equal(conf("pasta", ["--config-net", "--mtu", "1500", "--mtu", "9000"]).mtu, 9000);
});

Deno.test("-a ADDR/LEN, -n, and their conflicts", () => {
  let c = conf("passt", ["-a", "10.0.2.100/24", "-g", "10.0.2.2"]);
  assert.deepEqual([formatIp4(c.ip4.addr), c.ip4.prefixLen], ["10.0.2.100", 24]);
  c = conf("passt", ["-n", "16", "-a", "10.0.2.100", "-g", "10.0.2.2"]);
  assert.equal(c.ip4.prefixLen, 16);
  c = conf("passt", ["-a", "10.0.2.100", "-n", "255.255.255.0", "-g", "10.0.2.2"]);
  assert.equal(c.ip4.prefixLen, 24);
  c = conf("passt", ["-a", "2001:db8::5/64", "-a", "::ffff:10.0.2.7"]);
  assert.equal(formatIp6(c.ip6.addr), "2001:db8::5");
  assert.equal(formatIp4(c.ip4.addr), "10.0.2.7");
  fails("passt", ["-a", "10.0.2.100/24", "-n", "24"], "Redundant prefix length specification");
  fails("passt", ["-n", "24", "-a", "10.0.2.100/24"], "Redundant prefix length specification");
  fails("passt", ["-a", "10.0.2.100/33"], "Invalid prefix length: 10.0.2.100/33");
  fails("passt", ["-a", "2001:db8::1/129"], "Invalid prefix length: 2001:db8::1/129");
  fails("passt", ["-a", "10.0.2.100/x"], "Invalid guest address: 10.0.2.100/x");
});

Deno.test("--mtu: too large fails, too small warns, as upstream", () => {
  assert.equal(conf("passt", ["-m", "65521"]).mtu, 65521);
  fails("passt", ["-m", "65522"], "MTU 65522 too large (max 65521)");
  fails("passt", ["-m", "x"], "Invalid MTU: x");
  fails("passt", ["-m", "-1"], "Invalid MTU: -1");
  assert.deepEqual(warnings("passt", ["-m", "60"]), [
    "MTU 60 is too small for IPv4 (minimum 68)",
    "MTU 60 is too small for IPv6 (minimum 1280)",
  ]);
  assert.deepEqual(warnings("passt", ["-m", "1000", "-4"]), []);
  assert.deepEqual(warnings("passt", ["-m", "1000", "-6"]), [
    "MTU 1000 is too small for IPv6 (minimum 1280)",
  ]);
});

Deno.test("--hostname, --fqdn, --stats, --chroot-fallback, deprecated options", () => {
  let c = conf("passt", ["-H", "box", "--fqdn", "box.example.com", "--chroot-fallback"]);
  assert.deepEqual([c.hostname, c.fqdn, c.chrootFallback], ["box", "box.example.com", true]);
  c = conf("passt", ["--hostname=a", "--hostname", "b"]);
  assert.equal(c.hostname, "b");
  fails("passt", ["-H", "x".repeat(254)], `Invalid hostname: ${"x".repeat(254)}`);
  fails("passt", ["--fqdn", "x".repeat(254)], `Invalid FQDN: ${"x".repeat(254)}`);
  assert.equal(conf("passt", ["-f", "--stats", "5"]).stats, 5);
  assert.equal(conf("passt", ["-f", "--stats", "junk"]).stats, 0);
  fails("passt", ["--stats", "5", "-f"], "Can't display statistics if not running in foreground");
  assert.deepEqual(
    warnings("pasta", ["--config-net", "--no-copy-routes", "--no-copy-addrs", "--netns", "x"]),
    ["--no-copy-routes will be dropped soon", "--no-copy-addrs will be dropped soon"],
  );
  fails("pasta", ["--no-copy-routes"], "--no-copy-routes needs --config-net");
  fails("pasta", ["--no-copy-addrs", "--netns", "x"], "--no-copy-addrs needs --config-net");
});

Deno.test("every error path of the general options", () => {
  const cases: [Mode, string[], string][] = [
    ["pasta", ["--foo"], "pasta: unrecognized option '--foo'"],
    ["pasta", ["-z"], "pasta: invalid option -- 'z'"],
    ["pasta", ["-t"], "pasta: option requires an argument -- 't'"],
    ["pasta", ["--pcap"], "pasta: option '--pcap' requires an argument"],
    ["pasta", ["--foreground=1"], "pasta: option '--foreground' doesn't allow an argument"],
    ["passt", ["--log-size", "100"], "Invalid --log-size: 100"],
    ["passt", ["--log-size", "1M"], "Invalid --log-size: 1M"],
    ["passt", ["-F", "x"], "Invalid --fd: x"],
    ["passt", ["-F", "-1"], "Invalid --fd: -1"],
    ["passt", ["-F", "2147483648"], "Invalid --fd: 2147483648"],
    ["passt", ["-a", "0.0.0.0"], "Invalid guest address: 0.0.0.0"],
    ["passt", ["-a", "127.0.0.1"], "Invalid guest address: 127.0.0.1"],
    ["passt", ["-a", "224.0.0.1"], "Invalid guest address: 224.0.0.1"],
    ["passt", ["-a", "255.255.255.255"], "Invalid guest address: 255.255.255.255"],
    ["passt", ["-a", "::"], "Invalid guest address: ::"],
    ["passt", ["-a", "::1"], "Invalid guest address: ::1"],
    ["passt", ["-a", "ff02::1"], "Invalid guest address: ff02::1"],
    ["passt", ["-a", "bogus"], "Invalid guest address: bogus"],
    ["passt", ["-n", "33"], "Invalid prefix length: 33"],
    ["passt", ["-n", "255.0.255.0"], "Invalid prefix length: 255.0.255.0"],
    ["passt", ["-M", "52:54:00:f8:03"], "Invalid MAC address: 52:54:00:f8:03"],
    ["pasta", ["--ns-mac-addr", "x"], "Invalid MAC address: x"],
    ["passt", ["-g", "127.0.0.1"], "Invalid gateway address: 127.0.0.1"],
    ["passt", ["-g", "::1"], "Invalid gateway address: ::1"],
    ["passt", ["-i", "averyveryverylongname"], "Invalid interface name: averyveryverylongname"],
    ["passt", ["-o", "0.0.0.0"], "Invalid or redundant outbound address: 0.0.0.0"],
    ["passt", ["-o", "::1"], "Invalid or redundant outbound address: ::1"],
    ["passt", ["-D", "x"], "Cannot use DNS address x"],
    [
      "passt",
      ["-S", "1", "-S", "2", "-S", "3", "-S", "4", "-S", "5", "-S", "6", "-S", "7"],
      "Cannot use DNS search domain 7",
    ],
    ["passt", ["--dns-forward", "127.0.0.1"], "Invalid DNS forwarding address: 127.0.0.1"],
    ["passt", ["--dns-forward", "::"], "Invalid DNS forwarding address: ::"],
    [
      "passt",
      ["--dns-forward", "255.255.255.255"],
      "Invalid DNS forwarding address: 255.255.255.255",
    ],
    ["passt", ["-t", "auto"], "'auto' port forwarding is only allowed for pasta"],
    ["passt", ["-t", "70000"], "Invalid port specifier '70000'"],
    [
      "pasta",
      ["-t", "22", "-t", "22"],
      "Unable to add rule TCP [*]:22  =>  22: Forwarding configuration conflict: " +
      "TCP [*]:22  =>  22  versus TCP [*]:22  =>  22 ",
    ],
    ["pasta", ["-t", "22", "-t", "none"], "-t none conflicts with previous options"],
    ["pasta", ["-T", "127.0.0.1/80"], "Listening address not allowed for -T 127.0.0.1/80"],
  ];
  for (const [mode, args, msg] of cases) fails(mode, args, msg);
});

Deno.test("errors are reported in command-line order", () => {
  fails("passt", ["-m", "x", "--foo"], "Invalid MTU: x");
  fails("passt", ["--foo", "-m", "x"], "passt: unrecognized option '--foo'");
});

Deno.test("--help and --version", () => {
  const h = parseConf("pasta", ["-h"], host(), SYS);
  assert.equal(h.kind, "help");
  assert.equal((h as { text: string }).text, usage("pasta"));
  const v = parseConf("pasta", ["--version"], host(), SYS);
  assert.equal(v.kind, "version");
  assert.equal(
    (v as { text: string }).text,
    "pasta 0.1.0\nCopyright Red Hat\nGNU General Public License, version 2 or later\n" +
      "  <https://www.gnu.org/licenses/old-licenses/gpl-2.0.html>\n" +
      "This is free software: you are free to change and redistribute it.\n" +
      "There is NO WARRANTY, to the extent permitted by law.\n",
  );
  assert.ok(version("passt").startsWith("passt 0.1.0\n"));
  // RootlessKit probes flags this way: a supported flag before --version exits 0.
  assert.equal(parseConf("pasta", ["--stderr", "--version"], host(), SYS).kind, "version");
  // -h stops parsing: what follows is not looked at
  assert.equal(parseConf("passt", ["--help", "--bogus"], host(), SYS).kind, "help");
  const caps = parseConf("passt", ["-q", "--print-capabilities", "-m", "x"], host(), SYS);
  assert.deepEqual(caps, {
    kind: "capabilities",
    text: '{\n  "type": "net"\n}\n',
    warnings: [],
  });
  // a warning met before --version is still given (RootlessKit probes this way)
  const v2 = parseConf("pasta", ["-e", "--version"], host(), SYS);
  assert.deepEqual((v2 as { warnings: string[] }).warnings, ["--stderr will be dropped soon"]);
  assert.equal(
    parseConf("pasta", ["--host-lo-to-ns-lo", "--version"], host(), SYS).kind,
    "version",
  );
});

Deno.test("usage() lists every option of its mode", () => {
  for (const mode of ["passt", "pasta"] as const) {
    const text = usage(mode);
    for (const o of OPTIONS) {
      const listed = [" ", "\t", "\n", ","].some((end) => text.includes(`--${o.name}${end}`));
      // passt accepts --no-splice (it never splices) without listing it, as upstream.
      const quiet = mode === "passt" && o.name === "no-splice";
      assert.equal(listed, !quiet && (o.mode === "both" || o.mode === mode), `${mode} --${o.name}`);
    }
  }
});

Deno.test("formatConfSummary() follows upstream's conf_print()", () => {
  const c = conf("pasta", ["-D", "192.0.2.53", "-S", "example.com", "--netns", "x"]);
  assert.deepEqual(formatConfSummary(c), [
    "Template interface: eth0 (IPv4), eth0 (IPv6)",
    "Namespace interface: eth0",
    "MAC:",
    "    host: 9a:55:9a:55:9a:55",
    "DHCP:",
    "    assign: 192.168.1.10",
    "    mask: 255.255.255.0",
    "    router: 192.168.1.1",
    "DNS:",
    "    192.0.2.53",
    "DNS search list:",
    "    example.com",
    "NDP/DHCPv6:",
    "    assign: 2001:db8::10",
    "    router: fe80::1",
    "    our link-local: fe80::5054:ff:fe12:3456",
    "DNS search list:",
    "    example.com",
  ]);
  const p = conf("passt", [
    "--no-dhcp",
    "--no-ndp",
    "-D",
    "none",
    "-S",
    "none",
    "--outbound-if4",
    "eth1",
  ]);
  assert.deepEqual(formatConfSummary(p), [
    "Template interface: eth0 (IPv4), eth0 (IPv6)",
    "Outbound interface: eth1 (IPv4)",
    "MAC:",
    "    host: 9a:55:9a:55:9a:55",
    "DHCPv6:",
    "    assign: 2001:db8::10",
    "    router: fe80::1",
    "    our link-local: fe80::5054:ff:fe12:3456",
  ]);
});

Deno.test("conf: --vhost-user and the options upstream accepts with it", () => {
  assert.equal(conf("passt", []).vhostUser, false);
  const c = conf("passt", [
    "--vhost-user",
    "--socket-path",
    "/tmp/vu.sock",
    "--repair-path",
    "none",
  ]);
  assert.equal(c.vhostUser, true);
  assert.equal(c.socketPath, "/tmp/vu.sock");
  // Upstream knows the mode before it parses the rest: order doesn't matter.
  assert.equal(
    conf("passt", ["--migrate-exit", "--migrate-no-linger", "--vhost-user"]).vhostUser,
    true,
  );
  assert.equal(conf("passt", ["--repair-path", "none"]).vhostUser, false);
  fails("passt", ["--repair-path", "/run/x.repair"], "--repair-path is for vhost-user mode only");
  fails("passt", ["--migrate-exit"], "--migrate-exit is for vhost-user mode only");
  fails("passt", ["--migrate-no-linger"], "--migrate-no-linger is for vhost-user mode only");
  const w = warnings("passt", ["--vhost-user", "--repair-path", "/run/x.repair"]);
  assert.ok(w.some((l) => l.includes("/run/x.repair")), w.join("\n"));
});
