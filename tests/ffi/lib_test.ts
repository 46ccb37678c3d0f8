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
