// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `getopt.ts` - a getopt_long() work-alike with glibc's messages
 *
 * Theory of operation: {@linkcode Getopt} walks the arguments the way glibc's
 * `getopt_long()` does with a `+` option string (POSIX order): options are
 * returned one at a time by {@linkcode Getopt.next}, scanning stops at the
 * first non-option argument or after `--`, and {@linkcode Getopt.optind} then
 * indexes the first operand. Callers handle each option as it comes, so errors
 * surface in command-line order, as they do upstream.
 *
 * Short options come from the option string (`"dqfel:h"`; `:` marks a
 * required argument, `::` an optional one); they may be grouped (`-fq`), and a
 * required argument may be attached (`-t22`) or be the next word (`-t 22`).
 * Long options come from the table; `--name=value` and `--name value` both
 * work for a required argument, only `--name=value` for an optional one. An
 * unambiguous prefix of a long name is accepted (`--foregr`). A long option
 * that shares its short letter with an earlier one is an alias: it is
 * reported under the earlier name (`--socket-path` as `socket`).
 *
 * Errors throw {@linkcode GetoptError}, whose message is exactly what glibc
 * prints, prefixed with the program name, e.g. `pasta: unrecognized option
 * '--foo'`.
 *
 * @module
 */

/** Whether an option takes an argument. */
export type ArgKind = "none" | "required" | "optional";

/** One long option: its name, the short letter it shares, and its argument kind. */
export interface LongOption {
  name: string;
  short?: string;
  arg: ArgKind;
}

/** One option found on the command line. */
export interface GetoptItem {
  /** Long name of the option (the first one with its letter, for aliases), or the short letter. */
  key: string;
  /** Argument, or null if none was given. */
  arg: string | null;
  /** Whether it was given in long form. */
  long: boolean;
}

/** A command-line syntax error, with glibc's exact wording. */
export class GetoptError extends Error {
  /** Build an error with the message to print. */
  constructor(message: string) {
    super(message);
    this.name = "GetoptError";
  }
}

/** Parse a getopt() option string into letter → argument kind. */
export function parseShortSpec(spec: string): Map<string, ArgKind> {
  const out = new Map<string, ArgKind>();
  let i = spec.startsWith("+") ? 1 : 0;
  while (i < spec.length) {
    const c = spec[i++]!;
    let kind: ArgKind = "none";
    if (spec[i] === ":") {
      i++;
      kind = "required";
      if (spec[i] === ":") {
        i++;
        kind = "optional";
      }
    }
    out.set(c, kind);
  }
  return out;
}

/** Stateful scanner over an argument vector (program name excluded). */
export class Getopt {
  /** Index in the argument vector of the next word to look at. */
  optind = 0;
  #prog: string;
  #args: readonly string[];
  #short: Map<string, ArgKind>;
  #long: readonly LongOption[];
  #byShort = new Map<string, string>();
  /** Position inside a group of short options, 0 when not in one. */
  #charAt = 0;
  #done = false;

  /** Start scanning `args` for program `prog` with the given option string and table. */
  constructor(
    prog: string,
    args: readonly string[],
    shortSpec: string,
    long: readonly LongOption[],
  ) {
    this.#prog = prog;
    this.#args = args;
    this.#short = parseShortSpec(shortSpec);
    this.#long = long;
    for (const o of long) {
      if (o.short !== undefined && !this.#byShort.has(o.short)) this.#byShort.set(o.short, o.name);
    }
  }

  /** Return the next option, or null once options end (see {@linkcode optind}). */
  next(): GetoptItem | null {
    if (this.#done) return null;
    if (this.#charAt === 0) {
      const a = this.#args[this.optind];
      if (a === undefined || a === "-" || !a.startsWith("-")) {
        this.#done = true;
        return null;
      }
      if (a === "--") {
        this.optind++;
        this.#done = true;
        return null;
      }
      if (a.startsWith("--")) return this.#longOption(a.slice(2));
      this.#charAt = 1;
    }
    return this.#shortOption();
  }

  #longOption(body: string): GetoptItem {
    this.optind++;
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? null : body.slice(eq + 1);

    let found = name === "" ? undefined : this.#long.find((o) => o.name === name);
    if (found === undefined && name !== "") {
      const matches = this.#long.filter((o) => o.name.startsWith(name));
      // As glibc: candidates that all stand for the same option are no ambiguity.
      const first = matches[0];
      const same = first !== undefined && first.short !== undefined &&
        matches.every((o) => o.short === first.short && o.arg === first.arg);
      if (matches.length > 1 && !same) {
        const list = matches.map((o) => ` '--${o.name}'`).join("");
        throw new GetoptError(
          `${this.#prog}: option '--${body}' is ambiguous; possibilities:${list}`,
        );
      }
      found = matches[0];
    }
    if (found === undefined) {
      throw new GetoptError(`${this.#prog}: unrecognized option '--${body}'`);
    }

    let arg: string | null = null;
    if (found.arg === "none") {
      if (inline !== null) {
        throw new GetoptError(
          `${this.#prog}: option '--${found.name}' doesn't allow an argument`,
        );
      }
    } else if (inline !== null) {
      arg = inline;
    } else if (found.arg === "required") {
      const nextWord = this.#args[this.optind];
      if (nextWord === undefined) {
        throw new GetoptError(`${this.#prog}: option '--${found.name}' requires an argument`);
      }
      arg = nextWord;
      this.optind++;
    }
    const key = found.short === undefined ? found.name : this.#byShort.get(found.short)!;
    return { key, arg, long: true };
  }

  #shortOption(): GetoptItem {
    const word = this.#args[this.optind]!;
    const c = word[this.#charAt++]!;
    const atEnd = this.#charAt >= word.length;
    const kind = c === ":" ? undefined : this.#short.get(c);
    const key = this.#byShort.get(c) ?? c;

    if (kind === undefined) {
      this.#endGroup(atEnd);
      throw new GetoptError(`${this.#prog}: invalid option -- '${c}'`);
    }
    if (kind === "none") {
      this.#endGroup(atEnd);
      return { key, arg: null, long: false };
    }
    if (!atEnd) {
      const arg = word.slice(this.#charAt);
      this.#endGroup(true);
      return { key, arg, long: false };
    }
    this.#endGroup(true);
    if (kind === "optional") return { key, arg: null, long: false };
    const nextWord = this.#args[this.optind];
    if (nextWord === undefined) {
      throw new GetoptError(`${this.#prog}: option requires an argument -- '${c}'`);
    }
    this.optind++;
    return { key, arg: nextWord, long: false };
  }

  #endGroup(atEnd: boolean): void {
    if (!atEnd) return;
    this.#charAt = 0;
    this.optind++;
  }
}

/** Scan a whole argument vector: every option in order, and the operands after them. */
export function getoptAll(
  prog: string,
  args: readonly string[],
  shortSpec: string,
  long: readonly LongOption[],
): { options: GetoptItem[]; operands: string[] } {
  const g = new Getopt(prog, args, shortSpec, long);
  const options: GetoptItem[] = [];
  for (let item = g.next(); item !== null; item = g.next()) options.push(item);
  return { options, operands: args.slice(g.optind) };
}
