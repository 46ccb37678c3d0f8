// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { csumFold, sum16 } from "../../src/wire/checksum.ts";
import { sumWords } from "../../src/proto/udp_csum.ts";
import { rng } from "../_helpers/frames.ts";

Deno.test("udp_csum: word sums fold to the same checksum as byte-pair sums", () => {
  const buf = new ArrayBuffer(70000);
  const u8 = new Uint8Array(buf);
  const u32 = new Uint32Array(buf);
  const r = rng(7);
  for (let i = 0; i < u8.length; i++) u8[i] = r() & 0xff;
  for (const len of [0, 1, 2, 3, 4, 5, 7, 8, 9, 1399, 1400, 8000, 65507]) {
    for (const off of [0, 4, 72, 1024]) {
      assert.equal(
        csumFold(sumWords(u8, u32, off, len)),
        csumFold(sum16(u8, off, len, 0)),
        `len ${len} at ${off}`,
      );
    }
  }
});

Deno.test("udp_csum: all-ones data (carry-heavy) matches", () => {
  const u8 = new Uint8Array(65536).fill(0xff);
  const u32 = new Uint32Array(u8.buffer);
  assert.equal(csumFold(sumWords(u8, u32, 0, 65535)), csumFold(sum16(u8, 0, 65535, 0)));
  // Adding a pseudo-header partial sum after the word sum gives the same result too.
  assert.equal(
    csumFold(sumWords(u8, u32, 8, 999) + 0x1234 + 0xffff),
    csumFold(sum16(u8, 8, 999, 0x1234 + 0xffff)),
  );
});
