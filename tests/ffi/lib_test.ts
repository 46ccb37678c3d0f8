// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib, libPath } from "../../ffi/lib.ts";
import { importOf, runTs } from "../_helpers/subprocess.ts";

Deno.test("lib() loads the library once and returns the same symbols", () => {
  assert.equal(lib(), lib());
  assert.equal(typeof lib().pf_close, "function");
});

Deno.test("libPath() defaults to native/build next to ffi/", () => {
  if (Deno.env.get("PASST_FFI_LIB")) return;
  assert.ok(libPath().endsWith("/native/build/libpasst_ffi.so"), libPath());
});

Deno.test("a missing library gives one message that says how to build it", async () => {
  const code = `import { lib } from ${
    JSON.stringify(new URL("../../ffi/lib.ts", import.meta.url).href)
  };
try { lib(); } catch (e) { console.log((e as Error).message); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    env: { PASST_FFI_LIB: "/nonexistent/libpasst_ffi.so" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /^Cannot load native library \/nonexistent\/libpasst_ffi\.so: .+/);
  assert.match(text, /; build it with "deno task build"\n$/);
});

Deno.test("lib() binds symbols on first use, and bindSome() the others in place", async () => {
  // In a process of its own: the binding state is per process
  const code = `import { bindSome, lib, SET_UP_SYMBOLS } from ${
    JSON.stringify(new URL("../../ffi/lib.ts", import.meta.url).href)
  };
const kind = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k)!.get ? "accessor" : "value";
const lazy = lib();
const setUp = SET_UP_SYMBOLS.filter((k) => kind(lazy, k) !== "value");
const before = kind(lazy, "pf_kill") + " " + kind(lazy, "pf_eventfd");
const fd = lazy.pf_eventfd(0, 0); // binds pf_eventfd only
const after = kind(lazy, "pf_kill") + " " + kind(lazy, "pf_eventfd");
const unbound = Object.keys(lazy).filter((k) => kind(lazy, k) !== "value").length;
bindSome(Infinity);
const all = Object.keys(lazy).filter((k) => kind(lazy, k) !== "value");
const p = new Int32Array(2);
const rc = lazy.pf_pipe2(new Uint8Array(p.buffer), 0);
console.log(JSON.stringify({ setUp, before, after, fd, unbound, same: lib() === lazy, all, rc,
  closed: [lazy.pf_close(fd), lazy.pf_close(p[0]), lazy.pf_close(p[1])],
  n: Object.keys(lazy).length, nSetUp: SET_UP_SYMBOLS.length }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(r.setUp, [], "set-up's symbols are bound with the library");
  assert.equal(r.before, "accessor accessor", "nothing else is bound before use");
  assert.equal(r.after, "accessor value", "the symbol used, and only it, is bound");
  assert.ok(r.fd >= 0, `the lazily bound function works: ${r.fd}`);
  assert.equal(r.unbound, r.n - r.nSetUp - 1, "the others wait for their first use");
  assert.equal(r.same, true, "one table for the life of the process");
  assert.deepEqual(r.all, [], "bindSome(Infinity) leaves no accessor behind");
  assert.ok(r.n > 70, `every symbol is in the table: ${r.n}`);
  assert.equal(r.rc, 0, "a symbol bound by bindSome() works");
  assert.deepEqual(r.closed, [0, 0, 0]);
});

Deno.test("bindSome() binds a few symbols at a time, also once the library's file is gone", async () => {
  // As the loop does after the sandbox has taken the library's path away
  const dir = Deno.makeTempDirSync();
  const copy = `${dir}/libpasst_ffi.so`;
  Deno.copyFileSync(libPath(), copy);
  const code = `import { bindSome, lib } from ${
    JSON.stringify(new URL("../../ffi/lib.ts", import.meta.url).href)
  };
const unbound = (o: object) => Object.keys(o).filter((k) => {
  const d = Object.getOwnPropertyDescriptor(o, k)!;
  return d.get || d.configurable;
}).length;
const table = lib();
const total = unbound(table);
Deno.removeSync(Deno.env.get("PASST_FFI_LIB")!);
const more = bindSome(8);
const afterSlice = unbound(table);
let slices = 1;
for (let left = more; left; slices++) left = bindSome(8);
const p = new Int32Array(2);
const rc = table.pf_pipe2(new Uint8Array(p.buffer), 0);
console.log(JSON.stringify({ total, more, afterSlice, slices, left: unbound(table), rc,
  closed: [table.pf_close(p[0]), table.pf_close(p[1])], last: bindSome(8) }));`;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      env: { PASST_FFI_LIB: copy },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(text);
    assert.ok(r.total > 70, `every symbol unbound, or bound for set-up, at first: ${r.total}`);
    assert.equal(r.more, true, "more are left after one slice");
    assert.equal(r.afterSlice, r.total - 8, "one slice binds eight");
    assert.equal(r.slices, Math.ceil(r.total / 8), "the slices bind all of them");
    assert.equal(r.left, 0);
    assert.equal(r.rc, 0, "a symbol bound after the file went away works");
    assert.deepEqual(r.closed, [0, 0]);
    assert.equal(r.last, false, "nothing left to bind");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("symbols used before the loop run without a trampoline, then get one", async () => {
  // In a process of its own: the binding state is per process
  const code = `import { bindSome, lib } from ${importOf("../../ffi/lib.ts", import.meta.url)};
const configurable = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k)!.configurable;
const t = lib();
// Set-up: results come back through the 4-byte struct, negative ones too
const ebadf = t.pf_close(-1);
const p = new Int32Array(2);
const rc = t.pf_pipe2(new Uint8Array(p.buffer), 0);
const written = t.pf_write(p[1], new Uint8Array([1, 2, 3]), 0, 3);
const setUp = [configurable(t, "pf_close"), configurable(t, "pf_write")];
bindSome(2);
// Once the loop binds: what set-up bound is bound again, with a trampoline
while (bindSome(8));
const loop = [configurable(t, "pf_close"), configurable(t, "pf_write")];
const fresh = Object.keys(t).filter((k) => configurable(t, k));
const read = t.pf_read(p[0], new Uint8Array(8), 0, 8);
console.log(JSON.stringify({ ebadf, rc, written, setUp, loop, fresh, read,
  closed: [t.pf_close(p[0]), t.pf_close(p[1])], again: t.pf_close(-1) }));`;
  const out = await runTs(code);
  const r = JSON.parse(out.stdout);
  assert.equal(r.ebadf, -9, "-EBADF through the set-up binding");
  assert.equal(r.rc, 0);
  assert.equal(r.written, 3);
  assert.deepEqual(r.setUp, [true, true], "set-up bindings are replaced later");
  assert.deepEqual(r.loop, [false, false], "replaced by bindings with a trampoline");
  assert.deepEqual(r.fresh, [], "no set-up binding left");
  assert.equal(r.read, 3, "the pipe works across both bindings");
  assert.deepEqual(r.closed, [0, 0]);
  assert.equal(r.again, -9);
});
