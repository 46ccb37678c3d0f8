// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { compactDenoCache } from "../src/deno_cache.ts";

Deno.test("deno cache: the logs of the cache's databases are folded in and emptied", async () => {
  const dir = Deno.makeTempDirSync();
  // A database whose log holds its rows, as Deno leaves them: still open here
  const db = new DatabaseSync(`${dir}/v8_code_cache_v2`);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0");
  db.exec("CREATE TABLE codecache (specifier TEXT PRIMARY KEY, data BLOB)");
  const insert = db.prepare("INSERT INTO codecache VALUES (?, ?)");
  for (let i = 0; i < 50; i++) insert.run(`file:///m${i}.js`, new Uint8Array(8192).fill(i));
  const wal = `${dir}/v8_code_cache_v2-wal`;
  // Not databases, or without one: left alone, and nothing created
  Deno.writeTextFileSync(`${dir}/notes`, "text");
  Deno.writeTextFileSync(`${dir}/notes-wal`, "text");
  Deno.writeTextFileSync(`${dir}/orphan-wal`, "");
  try {
    assert.ok(Deno.statSync(wal).size > 50 * 8192, "the rows are in the log");
    assert.equal(await compactDenoCache(dir), 1);
    assert.equal(Deno.statSync(wal).size, 0, "the log is empty");
    const n = db.prepare("SELECT count(*) AS n, sum(length(data)) AS b FROM codecache").get();
    assert.deepEqual({ ...n }, { n: 50, b: 50 * 8192 }, "every row is in the database");
    assert.equal(Deno.readTextFileSync(`${dir}/notes`), "text");
    assert.equal(Deno.readTextFileSync(`${dir}/notes-wal`), "text");
    assert.throws(() => Deno.statSync(`${dir}/orphan`), Deno.errors.NotFound);
    assert.equal(await compactDenoCache(`${dir}/none`), 0, "no directory: nothing done");
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
