// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { OPTIONS } from "../src/conf/options.ts";

const PAGE = new URL("../man/passt.1", import.meta.url);

/** The text of the OPTIONS section: from `.SH OPTIONS` to the next `.SH`. */
function optionsSection(page: string): string {
  const start = page.indexOf("\n.SH OPTIONS\n");
  assert.ok(start >= 0, "no OPTIONS section");
  const end = page.indexOf("\n.SH ", start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

/** Long options documented as tagged paragraphs (the line after `.TP`). */
function documented(section: string): Set<string> {
  const out = new Set<string>();
  const lines = section.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i] !== ".TP") continue;
    for (const m of lines[i + 1]!.matchAll(/\\-\\-([a-z0-9]+(?:\\-[a-z0-9]+)*)/g)) {
      out.add(m[1]!.replaceAll("\\-", "-"));
    }
  }
  return out;
}

Deno.test("man page: every option in the table is documented in OPTIONS", () => {
  const doc = documented(optionsSection(Deno.readTextFileSync(PAGE)));
  for (const o of OPTIONS) assert.ok(doc.has(o.name), `--${o.name} is not documented`);
});

Deno.test("man page: every option documented in OPTIONS exists in the table", () => {
  const names = new Set(OPTIONS.map((o) => o.name));
  for (const d of documented(optionsSection(Deno.readTextFileSync(PAGE)))) {
    assert.ok(names.has(d), `--${d} is documented but not in the option table`);
  }
});

Deno.test("man page: short options are documented with their long forms", () => {
  const section = optionsSection(Deno.readTextFileSync(PAGE));
  const seen = new Set<string>();
  for (const o of OPTIONS) {
    // an alias (same letter as an earlier option) is documented on its first name's line
    if (o.short === undefined || seen.has(o.short)) continue;
    seen.add(o.short);
    const escaped = o.name.replaceAll("-", "\\-");
    assert.ok(
      section.includes(`.BR \\-${o.short} ", " \\-\\-${escaped}`),
      `-${o.short}, --${o.name}`,
    );
  }
});

Deno.test("man page: pasta.1 sources passt.1, which names both programs", () => {
  const pasta = Deno.readTextFileSync(new URL("../man/pasta.1", import.meta.url));
  assert.match(pasta, /^\.so man1\/passt\.1$/m);
  const page = Deno.readTextFileSync(PAGE);
  assert.match(page, /^passt, pasta \\- /m);
  for (const s of ["PORT SPECIFICATIONS", "EXIT STATUS", "DENO PERMISSIONS"]) {
    assert.ok(page.includes(`\n.SH ${s}\n`), s);
  }
});
