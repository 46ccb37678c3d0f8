// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `runas.ts` - the user and group to run as (--runas), as upstream's conf_ugid()
 *
 * `--runas` takes a numeric UID or a login name, optionally followed by
 * `:GID` or `:GROUP`; a login name gives its primary group unless a group is
 * given. Without it, a process that is root in the initial user namespace
 * (UID map `0 0 4294967295`) runs as "nobody" and says so; anything else
 * keeps its effective IDs.
 *
 * @module
 */

import { ConfError } from "./conf_error.ts";

/** UID and GID of "nobody" when /etc/passwd has no such user. */
export const NOBODY = 65534;

/** Where the identity facts come from; each can be replaced for tests. */
export interface IdSources {
  /** /etc/passwd and /etc/group text, instead of reading the files. */
  passwd?: string;
  group?: string;
  /** Effective UID and GID, instead of /proc/self/status. */
  euid?: number;
  egid?: number;
  /** /proc/self/uid_map text, instead of reading the file. */
  uidMap?: string;
}

/** The text of a file, or "" if it can't be read. */
export function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Look a name up in passwd or group text: [id, gid-or-id], or null. */
function lookup(text: string, name: string): [number, number] | null {
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || f[0] !== name) continue;
    const id = Number(f[2]);
    const gid = f.length > 3 ? Number(f[3]) : id;
    if (!Number.isInteger(id)) return null;
    return [id, Number.isInteger(gid) ? gid : id];
  }
  return null;
}

function effectiveIds(src: IdSources): [number, number] {
  let euid = src.euid;
  let egid = src.egid;
  if (euid === undefined || egid === undefined) {
    const status = readText("/proc/self/status");
    const field = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+\\d+\\s+(\\d+)`, "m").exec(status);
      return m === null ? 0 : Number(m[1]);
    };
    euid ??= field("Uid");
    egid ??= field("Gid");
  }
  return [euid, egid];
}

/** The [UID, GID] to run as for `--runas` (null: not given); pushes the "nobody" warning. */
export function runasIds(
  runas: string | null,
  src: IdSources,
  warnings: string[],
): [number, number] {
  const passwd = (): string => src.passwd ?? readText("/etc/passwd");
  if (runas !== null) {
    const bad = (): ConfError => new ConfError(`Invalid --runas option: ${runas}`);
    const colon = runas.indexOf(":");
    const u = colon < 0 ? runas : runas.slice(0, colon);
    const g = colon < 0 ? null : runas.slice(colon + 1);
    let uid: number;
    let gid: number;
    const n = /^\d+$/.test(u) ? Number(u) : null;
    if (n !== null) {
      uid = gid = n;
    } else {
      const pw = u === "" ? null : lookup(passwd(), u);
      if (pw === null || pw[0] === 0) throw bad();
      [uid, gid] = pw;
    }
    if (g !== null) {
      if (/^\d+$/.test(g)) {
        gid = Number(g);
      } else {
        const gr = g === "" ? null : lookup(src.group ?? readText("/etc/group"), g);
        if (gr === null) throw bad();
        gid = gr[0];
      }
    }
    if (uid > 0xffffffff || gid > 0xffffffff) throw bad();
    return [uid, gid];
  }

  const [euid, egid] = effectiveIds(src);
  if (euid !== 0) return [euid, egid];
  const map = (src.uidMap ?? readText("/proc/self/uid_map")).trim().split(/\s+/);
  if (map.length !== 3 || map[0] !== "0" || map[1] !== "0" || map[2] !== "4294967295") {
    return [euid, egid];
  }
  warnings.push("Started as root, will change to nobody.");
  const pw = lookup(passwd(), "nobody");
  return pw ?? [NOBODY, NOBODY];
}
