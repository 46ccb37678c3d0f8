// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  EADDRINUSE,
  EAGAIN,
  EBADF,
  ECONNREFUSED,
  EHWPOISON,
  EINVAL,
  ENOTSUP,
  EOPNOTSUPP,
  EPERM,
  ERRNO_MAX,
  errnoByName,
  errnoName,
  EWOULDBLOCK,
  strerror,
} from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";

Deno.test("errno numbers are the Linux x86_64 ones", () => {
  assert.equal(EPERM, 1);
  assert.equal(EBADF, 9);
  assert.equal(EAGAIN, 11);
  assert.equal(EINVAL, 22);
  assert.equal(EOPNOTSUPP, 95);
  assert.equal(EADDRINUSE, 98);
  assert.equal(ECONNREFUSED, 111);
  assert.equal(EHWPOISON, 133);
  assert.equal(EWOULDBLOCK, EAGAIN);
  assert.equal(ENOTSUP, EOPNOTSUPP);
});

Deno.test("strerror() gives glibc's messages", () => {
  assert.equal(strerror(EPERM), "Operation not permitted");
  assert.equal(strerror(EAGAIN), "Resource temporarily unavailable");
  assert.equal(strerror(EADDRINUSE), "Address already in use");
  assert.equal(strerror(-ECONNREFUSED), "Connection refused");
  assert.equal(strerror(4000), "Unknown error 4000");
});

Deno.test("errnoName() and errnoByName() map names both ways", () => {
  assert.equal(errnoName(-EBADF), "EBADF");
  assert.equal(errnoName(41), "errno 41");
  assert.equal(errnoByName("ECONNREFUSED"), ECONNREFUSED);
  assert.equal(errnoByName("EWOULDBLOCK"), EAGAIN);
  assert.equal(errnoByName("ENOSUCH"), undefined);
});

Deno.test("the errno table agrees with the C library for every number", () => {
  const b = new Uint8Array(256);
  const dec = new TextDecoder();
  let known = 0;
  for (let n = 1; n <= ERRNO_MAX + 2; n++) {
    const ln = lib().pf_errno_name(n, b, b.length);
    if (ln < 0) {
      assert.ok(errnoName(n).startsWith("errno "), `${n} is not in glibc but has a name`);
      continue;
    }
    known++;
    assert.equal(errnoName(n), dec.decode(b.subarray(0, ln)), `name of ${n}`);
    const lm = lib().pf_strerror(n, b, b.length);
    assert.equal(strerror(n), dec.decode(b.subarray(0, lm)), `message of ${n}`);
  }
  assert.ok(known >= 130, `${known} errno values known to glibc`);
});
