// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { SYMBOLS } from "../../ffi/symbols.ts";

const HEADER = new URL("../../native/passt_ffi.h", import.meta.url);

/** Map C parameter declarations to the FFI types they must have. */
function ffiType(decl: string): string {
  if (/^uint8_t \*\w+$/.test(decl)) return "buffer";
  if (/^int32_t \w+$/.test(decl)) return "i32";
  if (/^uint32_t \w+$/.test(decl)) return "u32";
  return `unsupported C declaration "${decl}"`;
}

/** Parse every pf_ prototype of the header into result and parameter types. */
function prototypes(): Map<string, { result: string; parameters: string[] }> {
  const text = Deno.readTextFileSync(HEADER).replace(/\s+/g, " ");
  const out = new Map<string, { result: string; parameters: string[] }>();
  for (const m of text.matchAll(/(int32_t|void \*)\s*(pf_\w+)\(([^)]*)\);/g)) {
    const [, ret, name, params] = m as unknown as [string, string, string, string];
    const list = params.trim() === "void" ? [] : params.split(",").map((p) => p.trim());
    out.set(name, {
      result: ret === "int32_t" ? "i32" : "pointer",
      parameters: list.map(ffiType),
    });
  }
  return out;
}

Deno.test("every SYMBOLS entry has a matching prototype in passt_ffi.h", () => {
  const protos = prototypes();
  for (const [name, def] of Object.entries(SYMBOLS)) {
    const p = protos.get(name);
    assert.ok(p, `${name} is missing from passt_ffi.h`);
    assert.deepEqual([...def.parameters], p.parameters, `parameters of ${name}`);
    assert.equal(def.result, p.result, `result of ${name}`);
  }
});

Deno.test("every pf_ prototype in passt_ffi.h is in SYMBOLS", () => {
  const names = new Set(Object.keys(SYMBOLS));
  const protos = prototypes();
  assert.ok(protos.size > 50, "header parsing found the prototypes");
  for (const name of protos.keys()) assert.ok(names.has(name), `${name} is missing from SYMBOLS`);
});

Deno.test("the built library exports every symbol in SYMBOLS", () => {
  const lib = new URL("../../native/build/libpasst_ffi.so", import.meta.url).pathname;
  const dl = Deno.dlopen(lib, SYMBOLS);
  for (const name of Object.keys(SYMBOLS)) {
    assert.equal(typeof (dl.symbols as Record<string, unknown>)[name], "function", name);
  }
  dl.close();
});
