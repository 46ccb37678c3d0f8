// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `passt_guest.ts` - a scripted guest on passt's stream socket: the test
 * writes raw Ethernet frames (4-byte big-endian length, then the frame) and
 * reads what passt sends back, so that it can leave a handshake half done,
 * stop reading, or vanish mid-transfer, which no real guest does on request.
 *
 * @module
 */

import { l4Checksum4 } from "../../src/wire/checksum.ts";
import { concat, ether, GUEST_MAC, ipv4Packet, tcpSegment } from "./frames.ts";
import { parseTapSeg, type TapSeg } from "./tcp_frames.ts";

/** The guest's view of passt's addresses, given on passt's command line. */
export const GUEST4 = "10.200.0.2";
/** Gateway: passt maps it to the host's loopback. */
export const GW4 = "10.200.0.1";
/** Options that give passt these addresses. */
export const GUEST_ARGS = ["-a", GUEST4, "-n", "24", "-g", GW4, "--no-dhcp", "--no-ndp"];

/** Host-order IPv4 address from dotted quad. */
export function ip4(s: string): number {
  return s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
}

/** A TCP segment from the guest, Ethernet framed, checksums filled in. */
export function tcp4Frame(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array = new Uint8Array(0),
  wnd = 65535,
): Uint8Array {
  const opts = flags & 2 ? Uint8Array.of(2, 4, 0x05, 0xb4) : new Uint8Array(0);
  const t = tcpSegment({ sport, dport, seq, ack, flags, wnd }, opts, payload);
  new DataView(t.buffer).setUint16(16, l4Checksum4(t, 0, t.length, ip4(src), ip4(dst), 6));
  const ip = ipv4Packet(ip4(src), ip4(dst), 6, t);
  return ether(Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55), GUEST_MAC, 0x0800, ip);
}

/** A guest connected to passt's UNIX domain socket. */
export class PasstGuest {
  #conn: Deno.UnixConn;
  #buf: Uint8Array = new Uint8Array(0);
  #pending: Promise<Uint8Array | null> | null = null;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /** Connects to `path`, retrying while passt starts (up to `ms`). */
  static async connect(path: string, ms = 10_000): Promise<PasstGuest> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        return new PasstGuest(await Deno.connect({ transport: "unix", path }));
      } catch (e) {
        if (Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Sends frames, each with its length prefix. */
  async send(...frames: Uint8Array[]): Promise<void> {
    const parts: Uint8Array[] = [];
    for (const f of frames) {
      const h = new Uint8Array(4);
      new DataView(h.buffer).setUint32(0, f.length);
      parts.push(h, f);
    }
    const out = concat(...parts);
    for (let off = 0; off < out.length;) off += await this.#conn.write(out.subarray(off));
  }

  async #readChunk(): Promise<Uint8Array | null> {
    const chunk = new Uint8Array(65536 + 4);
    const n = await this.#conn.read(chunk).catch(() => null);
    return n === null ? null : chunk.subarray(0, n);
  }

  /** Next frame from passt, or null after `ms` without one (or at end of stream). */
  async recv(ms = 5000): Promise<Uint8Array | null> {
    const end = Date.now() + ms;
    for (;;) {
      if (this.#buf.length >= 4) {
        const len = new DataView(this.#buf.buffer, this.#buf.byteOffset).getUint32(0);
        if (this.#buf.length >= 4 + len) {
          const f = this.#buf.slice(4, 4 + len);
          this.#buf = this.#buf.slice(4 + len);
          return f;
        }
      }
      const left = end - Date.now();
      if (left <= 0) return null;
      // A read that loses the race stays pending for the next call: its data isn't lost
      this.#pending ??= this.#readChunk();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        this.#pending,
        new Promise<"t">((r) => timer = setTimeout(() => r("t"), left)),
      ]);
      clearTimeout(timer);
      if (got === "t") return null;
      this.#pending = null;
      if (got === null) return null;
      this.#buf = concat(this.#buf, got);
    }
  }

  /** Next TCP segment for which `pred` holds, skipping other frames; null on timeout. */
  async recvTcp(pred: (s: TapSeg) => boolean, ms = 5000): Promise<TapSeg | null> {
    const end = Date.now() + ms;
    for (;;) {
      const f = await this.recv(Math.max(1, end - Date.now()));
      if (!f) return null;
      if (f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 6) continue;
      const s = parseTapSeg(f);
      if (pred(s)) return s;
    }
  }

  /** Closes the connection: the guest is gone. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** CPU time (user plus system, clock ticks of 10 ms) that process `pid` used so far. */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}
