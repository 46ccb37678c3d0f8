// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as log from "../src/log.ts";
import { openSyslog } from "../src/syslog.ts";
import { lib } from "../ffi/lib.ts";
import { sockaddrUn } from "../src/passt/tap_passt.ts";

Deno.test("log file: header line, then messages with level prefixes", () => {
  const path = Deno.makeTempFileSync();
  try {
    log.setLevel(log.Level.DEBUG);
    log.openLogFile(path, 1 << 20, "/usr/bin/passt", "0.1.0");
    log.err("an error");
    log.warn("a warning");
    log.info("some info");
    log.debug("a debug line");
    log.closeLogFile();
    const lines = Deno.readTextFileSync(path).trimEnd().split("\n");
    assert.match(lines[0]!, /^passt 0\.1\.0: \/usr\/bin\/passt \(\d+\)$/);
    assert.match(lines[1]!, /^\d+\.\d{4}: ERROR: an error$/);
    assert.match(lines[2]!, /^\d+\.\d{4}: WARNING: a warning$/);
    assert.match(lines[3]!, /^\d+\.\d{4}: info: some info$/);
    assert.match(lines[4]!, /^\d+\.\d{4}: {8}a debug line$/);
  } finally {
    log.setLevel(log.Level.INFO);
    Deno.removeSync(path);
  }
});

Deno.test("log file: --log-size caps the file, cutting about 30% of old lines", () => {
  const path = Deno.makeTempFileSync();
  const size = log.LOG_SIZE_MIN;
  try {
    log.setLevel(log.Level.INFO);
    log.openLogFile(path, size, "/usr/bin/pasta", "0.1.0");
    for (let i = 0; i < 5000; i++) log.info(`message number ${i} ${"x".repeat(40)}`);
    log.closeLogFile();
    const text = Deno.readTextFileSync(path);
    assert.ok(text.length < size, `file size ${text.length} stays below ${size}`);
    assert.ok(text.length > size * 0.5, `file keeps recent messages (${text.length} bytes)`);
    const lines = text.trimEnd().split("\n");
    assert.match(lines[0]!, /log truncated at/);
    assert.match(lines.at(-1)!, /message number 4999 /, "the newest message is kept");
    for (const l of lines.slice(1)) assert.match(l, /^\d+\.\d{4}: info: message number \d+ x+$/);
    const nums = lines.slice(1).map((l) => Number(/number (\d+)/.exec(l)![1]));
    for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1]! + 1, "no line lost");
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("levels: debug is off by default, trace needs --trace", () => {
  log.setLevel(log.Level.INFO);
  assert.equal(log.debugEnabled(), false);
  assert.equal(log.traceEnabled(), false);
  log.setLevel(log.Level.DEBUG, true);
  assert.equal(log.debugEnabled(), true);
  assert.equal(log.traceEnabled(), true);
  log.setLevel(log.Level.INFO);
});

Deno.test("rate limit: a burst per interval, then suppressed, builds nothing when suppressed", () => {
  log.setLevel(log.Level.DEBUG);
  const rl = new log.RateLimit(5, 1000);
  let built = 0;
  const make = (): string => {
    built++;
    return "rate-limited message";
  };
  const path = Deno.makeTempFileSync();
  try {
    log.openLogFile(path, 1 << 20, "x", "0");
    for (let i = 0; i < 100; i++) log.debugRatelimit(rl, 10, make);
    assert.equal(built, 5);
    log.debugRatelimit(rl, 1011, make);
    assert.equal(built, 6);
    log.closeLogFile();
    const text = Deno.readTextFileSync(path);
    assert.match(text, /suppressed 95 similar messages/);
  } finally {
    log.setLevel(log.Level.INFO);
    Deno.removeSync(path);
  }
  log.setLevel(log.Level.INFO);
  let off = 0;
  log.debugRatelimit(new log.RateLimit(), 0, () => String(off++));
  assert.equal(off, 0, "nothing is built when debug is off");
});

Deno.test("limited message: its own burst per interval at its level, then the suppressed count", () => {
  const debugMsg = new log.LimitedMessage("limited debug line", 2, 1000);
  const warnMsg = new log.LimitedMessage("limited warning line", 1, 1000);
  const path = Deno.makeTempFileSync();
  try {
    log.setLevel(log.Level.INFO);
    log.openLogFile(path, 1 << 20, "x", "0");
    for (let i = 0; i < 10; i++) debugMsg.debug(10);
    for (let i = 0; i < 10; i++) warnMsg.warn(10);
    log.setLevel(log.Level.DEBUG);
    for (let i = 0; i < 10; i++) debugMsg.debug(20);
    warnMsg.warn(1011);
    log.closeLogFile();
    const text = Deno.readTextFileSync(path);
    assert.equal(text.match(/limited debug line/g)?.length, 2, "debug: a burst of 2, once enabled");
    assert.equal(text.match(/limited warning line/g)?.length, 2, "warning: one per interval, two");
    assert.match(text, /suppressed 9 similar messages/);
  } finally {
    log.setLevel(log.Level.INFO);
    Deno.removeSync(path);
  }
});

Deno.test("syslog sink sends <priority>ident: message datagrams to the log socket", () => {
  const ffi = lib();
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/log`;
  const fd = ffi.pf_socket(1, 2, 0);
  const sa = sockaddrUn(path);
  assert.equal(ffi.pf_bind(fd, sa, sa.length), 0);
  try {
    assert.equal(openSyslog(`${dir}/missing`), null, "no log daemon: no sink");
    const sink = openSyslog(path)!;
    log.setIdent("pasta");
    log.setLogTargets({ stderr: false, syslog: sink });
    log.warn("to syslog");
    log.setLogTargets({ stderr: true, syslog: null });
    const buf = new Uint8Array(512);
    const n = ffi.pf_recv(fd, buf, 0, buf.length, 0x40);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n)), "<28>pasta: to syslog");
  } finally {
    ffi.pf_close(fd);
    Deno.removeSync(dir, { recursive: true });
  }
});
