// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `version.ts` - the version of this implementation
 *
 * @module
 */

/** Version printed by `--version` and in log-file headers. */
export const VERSION = "0.1.0";
