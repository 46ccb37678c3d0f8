// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `deno_cache.ts` - keeps the user's Deno cache quick to open
 *
 * Deno keeps compiled code and module analyses in SQLite databases of its
 * cache directory (`DENO_DIR`), in write-ahead-log mode, and ends without
 * folding the log into the database. The next process to open a database
 * alone (every start of ours) then reads the whole log again to rebuild its
 * index before our bundle's compiled code can be looked up: up to 1 000
 * pages, read one by one, 2–3 ms of each start here with a few MB of log.
 *
 * The launcher's warm-up (once per build of the bundle and of Deno, after
 * filling the cache) therefore folds the logs in and empties them, once
 * Deno's own writes of that start (the compiled bundle, new databases' tables,
 * from threads of its own) are done. Starts themselves write nothing there,
 * so the logs stay empty until something else writes to the cache.
 *
 * @module
 */

/**
 * Folds the write-ahead log of each SQLite database in `dir` into it and
 * empties the log; a database in use or not one is left as it is. Returns
 * how many logs were emptied.
 */
export async function compactDenoCache(dir: string): Promise<number> {
  const { DatabaseSync } = await import("node:sqlite");
  let emptied = 0;
  for (const { path } of databaseLogs(dir)) {
    try {
      const db = new DatabaseSync(path);
      try {
        const r = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy?: number };
        if (r?.busy === 0) emptied++;
      } finally {
        db.close();
      }
    } catch {
      // busy, locked, not a database, gone: the next warm-up tries again
    }
  }
  return emptied;
}

/**
 * {@linkcode compactDenoCache} of `dir` after `delayMs`, then again while a
 * log there still holds something, at most `tries` times in all: Deno writes
 * from threads of its own, after our module's evaluation has ended.
 */
export function compactDenoCacheLater(dir: string, delayMs = 100, tries = 5): void {
  setTimeout(async () => {
    await compactDenoCache(dir).catch(() => 0);
    if (tries > 1 && logsLeft(dir)) compactDenoCacheLater(dir, delayMs, tries - 1);
  }, delayMs);
}

/** Whether a database's log in `dir` is not empty. */
function logsLeft(dir: string): boolean {
  return databaseLogs(dir).some(({ log }) => {
    try {
      return Deno.statSync(log).size > 0;
    } catch {
      return false; // gone: nothing left there
    }
  });
}

/**
 * The SQLite databases of `dir` that have a write-ahead log, with that log's
 * path: only existing databases (never one to create, nor another file).
 */
function databaseLogs(dir: string): { path: string; log: string }[] {
  const out: { path: string; log: string }[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isFile || !e.name.endsWith("-wal")) continue;
      const path = `${dir}/${e.name.slice(0, -"-wal".length)}`;
      if (isDatabase(path)) out.push({ path, log: `${dir}/${e.name}` });
    }
  } catch {
    // no directory (any more): no logs
  }
  return out;
}

/** The first bytes of every SQLite 3 database file. */
const SQLITE_MAGIC = "SQLite format 3\0";

/** Whether `path` is a SQLite database file. */
function isDatabase(path: string): boolean {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path);
  } catch {
    return false;
  }
  try {
    const head = new Uint8Array(SQLITE_MAGIC.length);
    return f.readSync(head) === head.length &&
      new TextDecoder().decode(head) === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    f.close();
  }
}
