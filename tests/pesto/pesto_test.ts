// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Our pesto against a server that replays what upstream's pasta sent in each
// captured session: what it sends back and what it prints must be upstream
// pesto's, byte for byte.

import assert from "node:assert/strict";
import { REPO } from "../_helpers/e2e.ts";
import { concat } from "../_helpers/frames.ts";
import { SESSIONS } from "./fixtures.ts";

const PESTO = `${REPO}/pesto`;

function hex(s: string): Uint8Array {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Serves one connection: sends `greeting`, collects what comes back until EOF. */
async function serveOnce(
  listener: Deno.Listener,
  greeting: Uint8Array,
  hangUp = false,
): Promise<Uint8Array> {
  const conn = await listener.accept();
  await conn.write(greeting);
  if (hangUp) await (conn as Deno.UnixConn).closeWrite();
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break;
    }
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  return concat(...chunks);
}

async function pesto(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(PESTO, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

for (const s of SESSIONS) {
  Deno.test(`pesto: session "${s.name}" as upstream's (${s.args.join(" ")})`, async () => {
    const dir = Deno.makeTempDirSync();
    const sock = `${dir}/ctl.sock`;
    const listener = Deno.listen({ transport: "unix", path: sock });
    try {
      const served = serveOnce(listener, hex(s.s2c));
      const r = await pesto(s.args.map((a) => (a === "SOCK" ? sock : a)));
      const got = await served;
      assert.equal(r.stdout, s.stdout.replaceAll("SOCK", sock));
      assert.equal(r.stderr, s.stderr.replaceAll("SOCK", sock));
      assert.equal(r.code, s.status);
      assert.equal(toHex(got), s.c2s);
    } finally {
      listener.close();
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("pesto: usage, version and connection errors as upstream's", async () => {
  let r = await pesto([]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Usage: \S*pesto \[OPTION\]\.\.\. PATH\n\n {2}-A, --add\t\t/);
  r = await pesto(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, / {2}--version\t\tShow version and exit\n$/);
  r = await pesto(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^pesto \S+\nCopyright Red Hat\n/);
  r = await pesto(["-x", "/x"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^\S*pesto: invalid option -- 'x'\nUsage: /);
  r = await pesto(["-C"]);
  assert.match(r.stderr, /^\S*pesto: option requires an argument -- 'C'\n/);
  r = await pesto(["/nonexistent/ctl.sock"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to connect to /nonexistent/ctl.sock: No such file or directory\n");
  r = await pesto(["a", "b"]);
  assert.equal(r.code, 1);
});

Deno.test("pesto: a server that closes at once, or sends garbage, is an error", async () => {
  const dir = Deno.makeTempDirSync();
  const sock = `${dir}/ctl.sock`;
  const listener = Deno.listen({ transport: "unix", path: sock });
  try {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /^Couldn't read server greeting: No data available\n$/],
      [
        new TextEncoder().encode("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"),
        /^Bad magic number from server\n$/,
      ],
      [hex(SESSIONS[0]!.s2c).subarray(0, 300), /^Error reading from control socket\n$/],
    ];
    for (const [greeting, msg] of cases) {
      const served = serveOnce(listener, greeting, true).catch(() => new Uint8Array(0));
      const p = pesto(["-A", "-t", "80", sock]);
      const r = await p;
      await served;
      assert.equal(r.code, 1);
      assert.match(r.stderr, msg);
    }
  } finally {
    listener.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
