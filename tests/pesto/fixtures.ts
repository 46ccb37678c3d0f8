// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fixtures.ts` - byte streams captured with strace from upstream 2026's pesto
 * talking to upstream 2026's pasta (started as
 * `pasta -c SOCK --config-net -t 18080,18090:19090 -t 127.0.0.1/18100
 * -t 0.0.0.0/18200:127.0.0.1/18300 -t %lo/18400 -t [::1]/18500-18502
 * -u 15353 -T 17000`), one session after the other: what the server sent,
 * what pesto sent back, and what pesto printed. SOCK stands for the socket path.
 *
 * Every stream is a run of the same few 56-byte rule records, so the records
 * are written once, named after the rule they carry, and the streams are put
 * together from them exactly as the wire format lays them out (see
 * `src/pesto/wire.ts`): the server's hello and its tables, pesto's update.
 *
 * @module
 */

/** One pesto session against upstream's pasta. */
export interface PestoSession {
  name: string;
  /** pesto's arguments, SOCK for the socket path. */
  args: string[];
  /** Server to client, hex. */
  s2c: string;
  /** Client to server, hex. */
  c2s: string;
  stdout: string;
  stderr: string;
  status: number;
}

/** The server's hello: magic "basil:s", version 2, pif name size 128, IFNAMSIZ 16. */
const HELLO = "626173696c3a7300000000020000008000000010";
/** Capabilities of both tables: IPv4, IPv6, TCP, UDP, auto-scan, interface names. */
const CAPS = "0000003f";
/** The PIF_NONE byte that ends both streams. */
const END = "00";

/** A pif id byte and a big-endian 32-bit count, as hex. */
function pifCount(pif: number, count: number): string {
  return pif.toString(16).padStart(2, "0") + count.toString(16).padStart(8, "0");
}

/** A table as the server sends it: pif id, NUL-padded 128-byte name, caps, count, rules. */
function table(pif: number, name: string, rules: readonly string[]): string {
  const hexName = [...name].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  const count = pifCount(pif, rules.length);
  return count.slice(0, 2) + hexName.padEnd(256, "0") + CAPS + count.slice(2) + rules.join("");
}

/** What the server sends when it holds these HOST and SPLICE rules. */
function server(host: readonly string[], splice: readonly string[]): string {
  return HELLO + table(1, "HOST", host) + table(3, "SPLICE", splice) + END;
}

/** The update pesto sends back: the new HOST and SPLICE rules. */
function client(host: readonly string[], splice: readonly string[]): string {
  return pifCount(1, host.length) + host.join("") + pifCount(3, splice.length) + splice.join("") +
    END;
}

// Rules, 56 bytes each: address and target address (16 bytes each, IPv4 as
// ::ffff:a.b.c.d), then interface name (16), first, last and target port,
// protocol and flags.

/** TCP [*]:18080 */
const TCP_18080 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "0000000000000000000000000000000046a046a046a00601";
/** TCP [*]:18090  =>  19090 */
const TCP_18090_TO_19090 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "0000000000000000000000000000000046aa46aa4a920601";
/** TCP [127.0.0.1]:18100 */
const TCP_LO4_18100 = "00000000000000000000ffff7f00000100000000000000000000000000000000" +
  "0000000000000000000000000000000046b446b446b40600";
/** TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 */
const TCP_ANY4_18200_TO_LO4_18300 =
  "00000000000000000000ffff0000000000000000000000000000ffff7f000001" +
  "0000000000000000000000000000000047184718477c0600";
/** TCP [*]%lo:18400 */
const TCP_ATLO_18400 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "6c6f000000000000000000000000000047e047e047e00601";
/** TCP [::1]:18500-18502 */
const TCP_LO6_18500_18502 = "0000000000000000000000000000000100000000000000000000000000000000" +
  "000000000000000000000000000000004844484648440600";
/** UDP [*]:15353 */
const UDP_15353 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "000000000000000000000000000000003bf93bf93bf91101";
/** TCP [*]%lo:17000 (SPLICE) */
const SPLICE_TCP_17000 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "6c6f00000000000000000000000000004268426842680601";
/** UDP [*]%lo:1-32767, best effort, auto-scan (SPLICE) */
const SPLICE_UDP_1_32767 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "6c6f000000000000000000000000000000017fff00011107";
/** UDP [*]%lo:61000-65535, best effort, auto-scan (SPLICE) */
const SPLICE_UDP_61000_65535 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "6c6f0000000000000000000000000000ee48ffffee481107";
/** TCP [127.0.0.1]:18600-18602  =>  28600-28602 */
const TCP_LO4_18600_18602_TO_28600 =
  "00000000000000000000ffff7f00000100000000000000000000000000000000" +
  "0000000000000000000000000000000048a848aa6fb80600";
/** UDP [*]:18603 */
const UDP_18603 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "0000000000000000000000000000000048ab48ab48ab1101";
/** TCP [*]:18700 */
const TCP_18700 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "00000000000000000000000000000000490c490c490c0601";
/** UDP [*]:18701 */
const UDP_18701 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "00000000000000000000000000000000490d490d490d1101";
/** TCP [*]%lo:17001 (SPLICE) */
const SPLICE_TCP_17001 = "0000000000000000000000000000000000000000000000000000000000000000" +
  "6c6f00000000000000000000000000004269426942690601";

/** The HOST rules pasta started with. */
const STARTING_HOST = [
  TCP_18080,
  TCP_18090_TO_19090,
  TCP_LO4_18100,
  TCP_ANY4_18200_TO_LO4_18300,
  TCP_ATLO_18400,
  TCP_LO6_18500_18502,
  UDP_15353,
];
/** The SPLICE rules pasta started with. */
const STARTING_SPLICE = [SPLICE_TCP_17000, SPLICE_UDP_1_32767, SPLICE_UDP_61000_65535];
/** The HOST rules once "add" has run. */
const ADDED_HOST = [...STARTING_HOST, TCP_LO4_18600_18602_TO_28600, UDP_18603];
/** The HOST rules once "del" has run. */
const DELETED_HOST = ADDED_HOST.filter((r) => r !== TCP_18090_TO_19090);
/** The HOST rules once "replace" has run. */
const REPLACED_HOST = [TCP_18700, UDP_18701];
/** The SPLICE rules once "replace" has run. */
const REPLACED_SPLICE = [SPLICE_TCP_17001];

/** The sessions, in the order they ran. */
export const SESSIONS: PestoSession[] = [
  {
    name: "show",
    args: ["SOCK"],
    s2c: server(STARTING_HOST, STARTING_SPLICE),
    c2s: "",
    stdout:
      "passt/pasta configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [*]:18090  =>  19090 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\n",
    stderr: "",
    status: 0,
  },
  {
    name: "add",
    args: ["-s", "-A", "-t", "127.0.0.1/18600-18602:28600-28602", "-u", "18603", "SOCK"],
    s2c: server(STARTING_HOST, STARTING_SPLICE),
    c2s: client(ADDED_HOST, STARTING_SPLICE),
    stdout:
      "Previous configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [*]:18090  =>  19090 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\nUpdated configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [*]:18090  =>  19090 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\n",
    stderr: "",
    status: 0,
  },
  {
    name: "del",
    args: ["-s", "-D", "-t", "18090:19090", "SOCK"],
    s2c: server(ADDED_HOST, STARTING_SPLICE),
    c2s: client(DELETED_HOST, STARTING_SPLICE),
    stdout:
      "Previous configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [*]:18090  =>  19090 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\nUpdated configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\n",
    stderr: "",
    status: 0,
  },
  {
    name: "clear",
    args: ["-s", "-C", "SPLICE", "SOCK"],
    s2c: server(DELETED_HOST, STARTING_SPLICE),
    c2s: client(DELETED_HOST, []),
    stdout:
      "Previous configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\n    TCP [*]%lo:17000  =>  17000 \n    UDP [*]%lo:1-32767  =>  1-32767  (best effort) (auto-scan)\n    UDP [*]%lo:61000-65535  =>  61000-65535  (best effort) (auto-scan)\nUpdated configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\n",
    stderr: "",
    status: 0,
  },
  {
    name: "replace",
    args: ["-s", "-t", "18700", "-u", "18701", "-T", "17001", "SOCK"],
    s2c: server(DELETED_HOST, []),
    c2s: client(REPLACED_HOST, REPLACED_SPLICE),
    stdout:
      "Previous configuration (SOCK)\n  HOST\n    TCP [*]:18080  =>  18080 \n    TCP [127.0.0.1]:18100  =>  18100 \n    TCP [0.0.0.0]:18200  =>  127.0.0.1:18300 \n    TCP [*]%lo:18400  =>  18400 \n    TCP [::1]:18500-18502  =>  18500-18502 \n    UDP [*]:15353  =>  15353 \n    TCP [127.0.0.1]:18600-18602  =>  28600-28602 \n    UDP [*]:18603  =>  18603 \n  SPLICE\nUpdated configuration (SOCK)\n  HOST\n    TCP [*]:18700  =>  18700 \n    UDP [*]:18701  =>  18701 \n  SPLICE\n    TCP [*]%lo:17001  =>  17001 \n",
    stderr: "",
    status: 0,
  },
  {
    name: "show2",
    args: ["SOCK"],
    s2c: server(REPLACED_HOST, REPLACED_SPLICE),
    c2s: "",
    stdout:
      "passt/pasta configuration (SOCK)\n  HOST\n    TCP [*]:18700  =>  18700 \n    UDP [*]:18701  =>  18701 \n  SPLICE\n    TCP [*]%lo:17001  =>  17001 \n",
    stderr: "",
    status: 0,
  },
  {
    name: "conflict",
    args: ["-A", "-t", "18700", "SOCK"],
    s2c: server(REPLACED_HOST, REPLACED_SPLICE),
    c2s: "",
    stdout: "",
    stderr:
      "Forwarding configuration conflict: TCP [*]:18700  =>  18700  versus TCP [*]:18700  =>  18700 \nUnable to add rule TCP [*]:18700  =>  18700 \n",
    status: 1,
  },
  {
    name: "nodel",
    args: ["-D", "-t", "18999", "SOCK"],
    s2c: server(REPLACED_HOST, REPLACED_SPLICE),
    c2s: "",
    stdout: "",
    stderr:
      "Couldn't find forwarding rule to delete: TCP [*]:18999  =>  18999 \nUnable to delete rule TCP [*]:18999  =>  18999 \n",
    status: 1,
  },
];
