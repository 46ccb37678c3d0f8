// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `pcap.ts` - packet capture file (`--pcap`), classic libpcap format
 *
 * The file is opened once at start-up, before any sandboxing, and starts with
 * the global header (magic 0xa1b2c3d4, version 2.4, snaplen 65535, Ethernet
 * link type), written in little-endian order: readers detect the byte order
 * from the magic. Each frame, without the 4-byte length prefix of the passt
 * stream, becomes a record header (seconds, microseconds, captured and
 * original length) followed by the frame.
 *
 * Capturing is a debugging aid, so it is best-effort: a write failure is
 * logged once and later frames are dropped silently; nothing here throws after
 * {@linkcode Pcap.open}. Record headers use one preallocated buffer; the frame
 * itself is passed to the file as a `subarray()`, an allocation accepted only
 * while capture is enabled.
 *
 * @module
 */

import { debug, warn } from "../log.ts";

/** Magic number of a classic pcap file with microsecond timestamps. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** Largest captured length. */
export const PCAP_SNAPLEN = 65535;
/** Link type of Ethernet frames. */
export const LINKTYPE_ETHERNET = 1;
/** Length of the global header. */
export const GLOBAL_HEADER_LEN = 24;
/** Length of a record header. */
export const RECORD_HEADER_LEN = 16;

/** Writes every buffer byte, retrying short writes; throws on failure. */
function writeAll(file: Deno.FsFile, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.length) {
    done += file.writeSync(done === 0 ? buf : buf.subarray(done));
  }
}

/** A capture file being written. */
export class Pcap {
  #file: Deno.FsFile | null;
  readonly #path: string;
  readonly #hdr = new Uint8Array(RECORD_HEADER_LEN);
  readonly #hdv = new DataView(this.#hdr.buffer);
  #failed = false;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Creates (or truncates) `path`, writes the global header; throws if the file cannot be written. */
  static open(path: string): Pcap {
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    const g = new Uint8Array(GLOBAL_HEADER_LEN);
    const dv = new DataView(g.buffer);
    dv.setUint32(0, PCAP_MAGIC, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); // thiszone
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, PCAP_SNAPLEN, true);
    dv.setUint32(20, LINKTYPE_ETHERNET, true);
    try {
      writeAll(file, g);
    } catch (e) {
      file.close();
      throw e;
    }
    debug(`Saving packet capture to ${path}`);
    return new Pcap(file, path);
  }

  /** Appends the Ethernet frame `u8[off, off + len)` stamped `nowMs` (ms since the epoch). */
  write(u8: Uint8Array, off: number, len: number, nowMs: number = Date.now()): void {
    const file = this.#file;
    if (file === null || this.#failed) return;
    const caplen = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len;
    const sec = Math.floor(nowMs / 1000);
    const usec = Math.floor((nowMs - sec * 1000) * 1000);
    const dv = this.#hdv;
    dv.setUint32(0, sec >>> 0, true);
    dv.setUint32(4, usec, true);
    dv.setUint32(8, caplen, true);
    dv.setUint32(12, len, true);
    try {
      writeAll(file, this.#hdr);
      writeAll(file, u8.subarray(off, off + caplen));
    } catch (e) {
      this.#failed = true;
      warn(`Cannot write to packet capture file ${this.#path}: ${(e as Error).message}`);
    }
  }

  /** Closes the file; later writes are ignored. */
  close(): void {
    const file = this.#file;
    this.#file = null;
    if (file === null) return;
    try {
      file.close();
    } catch {
      // Already closed: nothing to do.
    }
  }
}
