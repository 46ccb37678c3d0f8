// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Runs TypeScript `code` in a Deno process of its own (for what changes a
 * process's state for good: symbol binding, capabilities, the exit), with
 * extra runtime `flags`; its status and output as text.
 */
export async function runTs(
  code: string,
  flags: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", ...flags, code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The `file:` URL of `path`, relative to the module `base`, as a quoted import specifier. */
export function importOf(path: string, base: string): string {
  return JSON.stringify(new URL(path, base).href);
}
