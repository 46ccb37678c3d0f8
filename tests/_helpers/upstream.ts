// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `upstream.ts` - where upstream's own passt and pasta are, for side-by-side tests
 *
 * Tests that run a caller's command line against upstream 2026 next to ours
 * look for its programs in `$UPSTREAM_PASST_DIR` (default
 * /tmp/passt-upstream/upstream, where a build of the 2026_07 release
 * puts them), passt at `$UPSTREAM_PASST` if set; without them, those cases
 * are skipped.
 *
 * @module
 */

/** Directory of upstream's build. */
export const UPSTREAM_DIR = Deno.env.get("UPSTREAM_PASST_DIR") ?? "/tmp/passt-upstream/upstream";
/** Upstream's pasta (a link to its passt). */
export const UPSTREAM_PASTA = `${UPSTREAM_DIR}/pasta`;
/** Upstream's passt. */
export const UPSTREAM_PASST = Deno.env.get("UPSTREAM_PASST") ?? `${UPSTREAM_DIR}/passt`;

/** Whether upstream's programs are there to run. */
export function haveUpstream(): boolean {
  try {
    return Deno.statSync(UPSTREAM_PASST).isFile && Deno.statSync(UPSTREAM_PASTA).isFile;
  } catch {
    return false;
  }
}

/**
 * Output lines that come from upstream's build rather than its behaviour: a
 * build without its AVX2 variant says so on every start.
 */
export function withoutBuildNoise(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("Can't run AVX2 build")).join("\n");
}
