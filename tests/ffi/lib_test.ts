// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib, libPath } from "../../ffi/lib.ts";

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

Deno.test("lib() binds symbols on first use until bindAll(), then gives the table bound at once", async () => {
  // In a process of its own: the binding mode is per process
  const code = `import { bindAll, lib } from ${
    JSON.stringify(new URL("../../ffi/lib.ts", import.meta.url).href)
  };
const kind = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k)!.get ? "accessor" : "value";
const lazy = lib();
const before = kind(lazy, "pf_close") + " " + kind(lazy, "pf_fcntl");
const fd = lazy.pf_fcntl(0, 1, 0); // F_GETFD on stdin: binds pf_fcntl only
const after = kind(lazy, "pf_close") + " " + kind(lazy, "pf_fcntl");
bindAll();
const eager = lib();
console.log(JSON.stringify({ before, after, fd, same: eager === lazy, close: typeof eager.pf_close,
  eagerKind: kind(eager, "pf_close"), again: lib() === eager }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(r.before, "accessor accessor", "nothing bound before use");
  assert.equal(r.after, "accessor value", "the symbol used, and only it, is bound");
  assert.ok(r.fd >= 0, `the lazily bound function works: ${r.fd}`);
  assert.equal(r.same, false, "bindAll() replaces the lazy table");
  assert.equal(r.close, "function");
  assert.equal(r.eagerKind, "value");
  assert.equal(r.again, true);
});
