// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `conf_error.ts` - the error thrown for a bad command line or configuration
 *
 * @module
 */

/** A configuration error; the message is exactly the one line to print. */
export class ConfError extends Error {
  /** Warnings met before the error, printed before it, as upstream prints them as they come. */
  warnings: string[] = [];

  /** Build an error with the line to print, such as `Invalid MTU: 10`. */
  constructor(message: string) {
    super(message);
    this.name = "ConfError";
  }
}
