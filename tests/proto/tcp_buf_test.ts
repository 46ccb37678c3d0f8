// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { csumFast } from "../../src/proto/tcp_buf.ts";
import { csumFold, sum16 } from "../../src/wire/checksum.ts";

Deno.test("tcp_buf: the 32-bit checksum loop agrees with the byte-wise sum", () => {
  const u8 = new Uint8Array(70000);
  crypto.getRandomValues(u8.subarray(0, 65536));
  crypto.getRandomValues(u8.subarray(65536));
  const u32 = new Uint32Array(u8.buffer);
  for (const [off, len] of [[0, 65480], [64, 1], [128, 63], [256, 64], [4, 1001], [6, 4099]]) {
    const ref = csumFold(sum16(u8, off!, len!, 0x1234));
    assert.equal(csumFold(csumFast(u8, u32, off!, len!, 0x1234)), ref, `off ${off} len ${len}`);
  }
  u8.fill(0xff, 0, 65536);
  assert.equal(csumFold(csumFast(u8, u32, 0, 65536, 0)), csumFold(sum16(u8, 0, 65536, 0)));
});
