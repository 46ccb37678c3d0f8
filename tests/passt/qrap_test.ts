// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * qrap's probe against a stand-in passt (Python, on a UNIX socket of a
 * scratch directory) that closes the first `closeFirst` connections the way a
 * passt busy with another client does, then answers like passt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { probe } from "../../src/passt/qrap.ts";
import { lib } from "../../ffi/lib.ts";
import { exists, waitFor } from "../_helpers/e2e.ts";

/**
 * The stand-in: for each of the first `closeFirst` connections it reads the
 * probe (`read`: so the close is an end of stream, not a reset) or not, and
 * closes; the next one gets a length-prefixed 42-byte frame. Prints the number
 * of connections it saw when it stops.
 */
const STANDIN = `
import socket, sys, os
path, close_first, read = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "read"
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(path); l.listen(8); l.settimeout(10)
open(path + ".ready", "w").close()
seen = 0
while True:
    try:
        c, _ = l.accept()
    except socket.timeout:
        break
    seen += 1
    if seen <= close_first:
        if read:
            c.recv(4 + 42)
        c.close()
        continue
    c.recv(4 + 42)
    c.sendall((42).to_bytes(4, "big") + bytes(42))
    c.recv(1)
    break
print(seen)
`;

/** Runs `probe()` against the stand-in; returns whether it connected and what the stand-in saw. */
async function probeStandIn(closeFirst: number, read: boolean): Promise<[boolean, number]> {
  const dir = Deno.makeTempDirSync({ prefix: "qrap_" });
  const path = `${dir}/passt.socket`;
  const py = new Deno.Command("python3", {
    args: ["-c", STANDIN, path, String(closeFirst), read ? "read" : "keep"],
    stdout: "piped",
  }).spawn();
  try {
    await waitFor(() => exists(`${path}.ready`), 5000);
    const fd = probe(path);
    if (fd >= 0) lib().pf_close(fd);
    else py.kill("SIGTERM");
    const out = new TextDecoder().decode((await py.output()).stdout).trim();
    return [fd >= 0, Number(out || -1)];
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("qrap probe: retries a passt that closes it after reading the probe (end of stream)", async () => {
  const [ok, seen] = await probeStandIn(3, true);
  assert.ok(ok, "probe gave up on a passt whose previous client was going away");
  assert.equal(seen, 4);
});

Deno.test("qrap probe: retries a passt that closes it with the probe unread (reset)", async () => {
  const [ok, seen] = await probeStandIn(3, false);
  assert.ok(ok);
  assert.equal(seen, 4);
});

Deno.test("qrap probe: gives up on a passt that always closes it, after a bounded number of tries", async () => {
  const start = performance.now();
  const [ok] = await probeStandIn(1000, true);
  assert.ok(!ok);
  assert.ok(performance.now() - start < 15_000, "probe did not give up");
});
