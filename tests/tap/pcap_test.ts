// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { Pcap } from "../../src/tap/pcap.ts";
import { Level, setLevel, setLogTargets } from "../../src/log.ts";
import { ARP_REQUEST, TCP6_SYN, UDP4 } from "../wire/fixtures.ts";

/** Frames placed at scattered offsets of one arena-like buffer. */
function arena(): { u8: Uint8Array; at: [number, Uint8Array][] } {
  const u8 = new Uint8Array(4096).fill(0x5a);
  const at: [number, Uint8Array][] = [[0, ARP_REQUEST], [1000, UDP4], [3001, TCP6_SYN]];
  for (const [off, f] of at) u8.set(f, off);
  return { u8, at };
}

/** Parses a classic little-endian pcap file into its header fields and records. */
function parse(b: Uint8Array): {
  magic: number;
  version: [number, number];
  snaplen: number;
  linktype: number;
  records: { sec: number; usec: number; caplen: number; len: number; data: Uint8Array }[];
} {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const records = [];
  let p = 24;
  while (p < b.length) {
    const caplen = dv.getUint32(p + 8, true);
    records.push({
      sec: dv.getUint32(p, true),
      usec: dv.getUint32(p + 4, true),
      caplen,
      len: dv.getUint32(p + 12, true),
      data: b.slice(p + 16, p + 16 + caplen),
    });
    p += 16 + caplen;
  }
  return {
    magic: dv.getUint32(0, true),
    version: [dv.getUint16(4, true), dv.getUint16(6, true)],
    snaplen: dv.getUint32(16, true),
    linktype: dv.getUint32(20, true),
    records,
  };
}

/** Runs `body` with the path of a fresh temporary `.pcap` file, removed afterwards. */
async function withPcapFile(body: (path: string) => void | Promise<void>): Promise<void> {
  const path = Deno.makeTempFileSync({ suffix: ".pcap" });
  try {
    await body(path);
  } finally {
    Deno.removeSync(path);
  }
}

Deno.test("Pcap writes a classic pcap header and one record per frame", () =>
  withPcapFile((path) => {
    const pcap = Pcap.open(path);
    const { u8, at } = arena();
    at.forEach(([off, f], i) => pcap.write(u8, off, f.length, 1700000000123.456 + i * 1000));
    pcap.close();
    const got = parse(Deno.readFileSync(path));
    assert.equal(got.magic, 0xa1b2c3d4);
    assert.deepEqual(got.version, [2, 4]);
    assert.equal(got.snaplen, 65535);
    assert.equal(got.linktype, 1);
    assert.equal(got.records.length, 3);
    got.records.forEach((r, i) => {
      assert.equal(r.sec, 1700000000 + i);
      assert.equal(r.usec, 123456);
      assert.equal(r.caplen, at[i]![1].length);
      assert.equal(r.len, at[i]![1].length);
      assert.deepEqual(r.data, at[i]![1]);
    });
  }));

Deno.test("Pcap output is read back by tcpdump", () =>
  withPcapFile(async (path) => {
    const pcap = Pcap.open(path);
    const { u8, at } = arena();
    for (const [off, f] of at) pcap.write(u8, off, f.length, 1700000000000);
    pcap.close();
    const out = await new Deno.Command("tcpdump", {
      args: ["-r", path, "-nn", "-e", "-tt"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^1700000000\.000000 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, /);
    assert.match(lines[0]!, /ethertype ARP .*Request who-has 10\.0\.0\.2 tell 10\.0\.0\.1/);
    assert.match(lines[1]!, /IPv4.*10\.0\.0\.1\.40277 > 10\.0\.0\.2\.5353: /);
    assert.match(lines[2]!, /2001:db8::1\.37068 > 2001:db8::2\.80: Flags \[S\]/);
  }));

Deno.test("Pcap truncates frames longer than the snap length and keeps the original length", () =>
  withPcapFile((path) => {
    const pcap = Pcap.open(path);
    const big = new Uint8Array(70000).map((_, i) => i & 0xff);
    pcap.write(big, 0, 70000, 0);
    pcap.close();
    const r = parse(Deno.readFileSync(path)).records;
    assert.equal(r.length, 1);
    assert.equal(r[0]!.caplen, 65535);
    assert.equal(r[0]!.len, 70000);
    assert.deepEqual(r[0]!.data, big.slice(0, 65535));
  }));

Deno.test("Pcap.write() after close() is ignored", () =>
  withPcapFile((path) => {
    const pcap = Pcap.open(path);
    pcap.close();
    pcap.write(UDP4, 0, UDP4.length);
    pcap.close();
    assert.equal(Deno.statSync(path).size, 24);
  }));

Deno.test("Pcap.open() throws when the file cannot be created", () => {
  assert.throws(() => Pcap.open("/nonexistent-dir/x.pcap"), Deno.errors.NotFound);
});

Deno.test("Pcap.write() failures are logged once and never thrown", async () => {
  const dir = Deno.makeTempDirSync();
  const fifo = `${dir}/fifo`;
  const logged: string[] = [];
  try {
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(mk.code, 0);
    // A reader that takes the global header and goes away: later writes hit EPIPE.
    const reader = new Deno.Command("head", { args: ["-c", "24", fifo], stdout: "null" }).spawn();
    const pcap = Pcap.open(fifo);
    await reader.status;
    setLevel(Level.INFO);
    setLogTargets({ stderr: false, syslog: (text) => logged.push(text) });
    for (let i = 0; i < 5; i++) pcap.write(UDP4, 0, UDP4.length, 0);
    pcap.close();
  } finally {
    setLogTargets({ stderr: true, syslog: null });
    Deno.removeSync(dir, { recursive: true });
  }
  assert.equal(logged.length, 1, logged.join("\n"));
  assert.match(logged[0]!, /packet capture/);
});
