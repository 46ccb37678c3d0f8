// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import { cstr, O_CLOEXEC, O_NONBLOCK, O_RDONLY } from "../../ffi/sys.ts";
import { EAGAIN } from "../../ffi/errno.ts";
import { importOf, runTs } from "../_helpers/subprocess.ts";

/** Reads one byte of non-blocking `fd`: 0 at end of file, -EAGAIN while a writer is left. */
function probe(fd: number): number {
  return lib().pf_read(fd, new Uint8Array(1), 0, 1);
}

/** F_DUPFD_CLOEXEC: a copy of a descriptor at or above a number. */
const F_DUPFD_CLOEXEC = 1030;

for (const high of [false, true]) {
  const where = high ? "above the pidfd's number" : "below the pidfd's number";
  Deno.test(`pf_exit(): status, sockets closed by the exit, the kept descriptor (${where}) after it`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "pf-exit-" });
    const fifos = [`${dir}/kept`, `${dir}/dropped`];
    const readers: number[] = [];
    try {
      for (const path of fifos) {
        const mk = await new Deno.Command("mkfifo", { args: [path] }).output();
        assert.ok(mk.success, "mkfifo");
        const fd = lib().pf_open(cstr(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
        assert.ok(fd >= 0, `open ${path}: ${fd}`);
        readers.push(fd);
      }
      // The exiting process: a listening socket, a writer of each FIFO, then
      // pf_exit() keeping the first writer (moved to a high number, or not)
      const code = `import { lib } from ${importOf("../../ffi/lib.ts", import.meta.url)};
import { cstr, O_WRONLY } from ${importOf("../../ffi/sys.ts", import.meta.url)};
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
let kept = lib().pf_open(cstr(${JSON.stringify(fifos[0])}), O_WRONLY, 0);
const dropped = lib().pf_open(cstr(${JSON.stringify(fifos[1])}), O_WRONLY, 0);
if (kept < 0 || dropped < 0) Deno.exit(2);
if (${high}) {
  const moved = lib().pf_fcntl(kept, ${F_DUPFD_CLOEXEC}, 200);
  if (moved < 0) Deno.exit(4);
  lib().pf_close(kept);
  kept = moved;
}
console.log(listener.addr.port);
lib().pf_exit(7, kept);
Deno.exit(3);`;
      const out = await runTs(code);
      assert.equal(out.code, 7, out.stderr);
      // Seen exited: what it didn't keep is closed already
      assert.equal(probe(readers[1]!), 0, "a descriptor not kept is closed by the exit itself");
      const port = Number(out.stdout.trim());
      await assert.rejects(
        Deno.connect({ hostname: "127.0.0.1", port }),
        Deno.errors.ConnectionRefused,
        "its listening socket is gone when its exit is seen",
      );
      // The kept one closes too, once the copy that held it has ended: it
      // waits for our exit, whatever the kept descriptor's number
      let r = probe(readers[0]!);
      for (let i = 0; i < 200 && r === -EAGAIN; i++) {
        await new Promise((done) => setTimeout(done, 10));
        r = probe(readers[0]!);
      }
      assert.equal(r, 0, "the kept descriptor is closed soon after the exit, not held on");
    } finally {
      for (const fd of readers) lib().pf_close(fd);
      Deno.removeSync(dir, { recursive: true });
    }
  });
}
