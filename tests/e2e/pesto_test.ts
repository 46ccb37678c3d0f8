// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// pesto against our pasta's -c control socket: upstream 2026's pesto binary
// and ours add, delete, clear, replace and show rules; a connection goes
// through an added forward and is refused after its delete; an open
// connection survives a change that keeps its rule; bad clients on the
// control socket (garbage, truncated, huge counts, stalling) change nothing
// and don't stop the data path.

import assert from "node:assert/strict";
import {
  exists,
  freePort,
  have,
  isRoot,
  NO_FORWARDS,
  PASTA,
  prepareRootless,
  REPO,
  scratchDir,
  spawn,
  TESTER,
  waitFor,
} from "../_helpers/e2e.ts";
import { UPSTREAM_DIR } from "../_helpers/upstream.ts";

const UPSTREAM_PESTO = `${UPSTREAM_DIR}/pesto`;
const OUR_PESTO = `${REPO}/pesto`;

const ignore = !isRoot() || !have("socat") || !prepareRootless();

async function pestoOnce(
  bin: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command("setpriv", {
    args: [`--reuid=${TESTER}`, `--regid=${TESTER}`, "--init-groups", bin, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

/**
 * Runs pesto, then a listing: the server serves one client at a time and
 * applies an update before it greets the next one, so once the listing is
 * back the change is in effect (pesto itself doesn't wait for that).
 */
async function pesto(
  bin: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const r = await pestoOnce(bin, args);
  await pestoOnce(OUR_PESTO, [args[args.length - 1]!]);
  return r;
}

/** Connects to 127.0.0.1:port, sends `send`, returns what comes back (null: refused). */
async function talk(port: number, send = ""): Promise<string | null> {
  let c: Deno.TcpConn;
  try {
    c = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return null;
  }
  try {
    if (send) await c.write(new TextEncoder().encode(send));
    await c.closeWrite();
    const buf = new Uint8Array(256);
    let out = "";
    const timer = setTimeout(() => c.close(), 5000);
    try {
      for (;;) {
        const n = await c.read(buf);
        if (n === null) break;
        out += new TextDecoder().decode(buf.subarray(0, n));
      }
    } catch {
      // closed by the timer
    }
    clearTimeout(timer);
    return out;
  } finally {
    try {
      c.close();
    } catch {
      // closed
    }
  }
}

interface Pasta {
  sock: string;
  child: Deno.ChildProcess;
  echo: number;
  hello: number;
  stop(): Promise<void>;
}

/** Our pasta, rootless, with -c, and two servers in its namespace: echo (cat) and "hello". */
async function startPasta(): Promise<Pasta> {
  const dir = scratchDir();
  const sock = `${dir}/ctl.sock`;
  const echo = freePort();
  const hello = freePort();
  const script = `exec >/dev/null 2>&1; socat TCP-LISTEN:${echo},fork,reuseaddr EXEC:cat & ` +
    `socat TCP-LISTEN:${hello},fork,reuseaddr SYSTEM:'echo hello' & sleep 120`;
  const child = spawn([
    PASTA,
    "-f",
    "-c",
    sock,
    "--config-net",
    ...NO_FORWARDS,
    "--",
    "sh",
    "-c",
    script,
  ], {
    rootless: true,
  });
  assert.ok(await waitFor(() => exists(sock), 10_000), "control socket appears");
  // wait for the servers in the namespace
  await new Promise((r) => setTimeout(r, 500));
  return {
    sock,
    child,
    echo,
    hello,
    async stop(): Promise<void> {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.output();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

const CLIENTS: [string, string][] = [["ours", OUR_PESTO]];
if (exists(UPSTREAM_PESTO)) CLIENTS.push(["upstream", UPSTREAM_PESTO]);

for (const [who, bin] of CLIENTS) {
  Deno.test({
    name: `pesto (${who}) drives our pasta: add, connect, delete, refused, replace, clear, show`,
    ignore,
    async fn(): Promise<void> {
      const p = await startPasta();
      try {
        let r = await pesto(bin, [p.sock]);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, `passt/pasta configuration (${p.sock})\n  HOST\n  SPLICE\n`);

        assert.equal(await talk(p.hello), null, "nothing forwarded yet");
        r = await pesto(bin, ["-A", "-t", `${p.hello}`, "-t", `127.0.0.1/${p.echo}`, p.sock]);
        assert.equal(r.code, 0, r.err);
        assert.equal(await talk(p.hello), "hello\n");
        assert.equal(await talk(p.echo, "ping"), "ping");

        r = await pesto(bin, [p.sock]);
        assert.equal(
          r.out,
          `passt/pasta configuration (${p.sock})\n  HOST\n` +
            `    TCP [*]:${p.hello}  =>  ${p.hello} \n` +
            `    TCP [127.0.0.1]:${p.echo}  =>  ${p.echo} \n  SPLICE\n`,
        );

        r = await pesto(bin, ["-D", "-t", `${p.hello}`, p.sock]);
        assert.equal(r.code, 0, r.err);
        assert.equal(await talk(p.hello), null, "refused after delete");
        assert.equal(await talk(p.echo, "still"), "still");

        // a conflicting add fails in pesto and changes nothing
        r = await pesto(bin, ["-A", "-t", `${p.echo}`, p.sock]);
        assert.equal(r.code, 1);
        assert.match(r.err, /Forwarding configuration conflict/);
        assert.equal(await talk(p.echo, "x"), "x");

        // replace: the HOST table becomes exactly the new spec
        r = await pesto(bin, ["-s", "-t", `${p.hello}`, "-u", `${p.hello}`, p.sock]);
        assert.equal(r.code, 0, r.err);
        assert.match(
          r.out,
          new RegExp(
            `Updated configuration \\(${p.sock}\\)\\n  HOST\\n    TCP \\[\\*\\]:${p.hello}  =>  ${p.hello} \\n    UDP \\[\\*\\]:${p.hello}  =>  ${p.hello} \\n  SPLICE\\n$`,
          ),
        );
        assert.equal(await talk(p.hello), "hello\n");
        assert.equal(await talk(p.echo, "gone"), null);

        r = await pesto(bin, ["-C", "HOST", p.sock]);
        assert.equal(r.code, 0, r.err);
        r = await pesto(bin, [p.sock]);
        assert.equal(r.out, `passt/pasta configuration (${p.sock})\n  HOST\n  SPLICE\n`);
        assert.equal(await talk(p.hello), null);
      } finally {
        await p.stop();
      }
    },
  });
}

/** Runs `body` against a fresh pasta with its echo port forwarded (added through our pesto). */
async function withEchoRule(body: (p: Pasta) => Promise<void>): Promise<void> {
  const p = await startPasta();
  try {
    const r = await pesto(OUR_PESTO, ["-A", "-t", `${p.echo}`, p.sock]);
    assert.equal(r.code, 0, r.err);
    await body(p);
  } finally {
    await p.stop();
  }
}

Deno.test({
  name: "pesto: an open connection survives a change that keeps its rule",
  ignore,
  fn: () =>
    withEchoRule(async (p) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: p.echo });
      const buf = new Uint8Array(64);
      const roundTrip = async (s: string): Promise<string> => {
        await c.write(new TextEncoder().encode(s));
        const n = await c.read(buf);
        return new TextDecoder().decode(buf.subarray(0, n ?? 0));
      };
      assert.equal(await roundTrip("one"), "one");
      const r = await pesto(OUR_PESTO, ["-A", "-t", `${p.hello}`, p.sock]);
      assert.equal(r.code, 0, r.err);
      assert.equal(await roundTrip("two"), "two");
      await pesto(OUR_PESTO, ["-D", "-t", `${p.hello}`, p.sock]);
      assert.equal(await roundTrip("three"), "three");
      c.close();
    }),
});

Deno.test({
  name: "pesto: garbage, truncated, huge and stalled control clients change nothing",
  ignore,
  fn: () =>
    withEchoRule(async (p) => {
      const before = (await pesto(OUR_PESTO, [p.sock])).out;
      const send = async (bytes: Uint8Array, hold = false): Promise<Deno.UnixConn> => {
        const c = await Deno.connect({ transport: "unix", path: p.sock });
        const hello = new Uint8Array(20);
        let got = 0;
        while (got < 20) got += (await c.read(hello.subarray(got))) ?? 20;
        await c.write(bytes);
        if (!hold) {
          await c.closeWrite();
          // the server closes: read to the end
          const b = new Uint8Array(4096);
          while ((await c.read(b)) !== null);
          c.close();
        }
        return c;
      };
      await send(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
      await send(Uint8Array.from([1, 0, 0, 0, 1])); // HOST, one rule, then nothing
      await send(Uint8Array.from([1, 0xff, 0xff, 0xff, 0xff])); // 4G rules
      await send(Uint8Array.from([7, 0, 0, 0, 0, 0])); // unknown table
      await send(Uint8Array.from([1, 0, 0, 0, 0, 0, 0xff])); // empty HOST, then trailing junk
      // a client that stalls in the middle of an update: the data path goes on
      const stalled = await send(Uint8Array.from([1, 0, 0, 0, 1, 0, 0]), true);
      assert.equal(await talk(p.echo, "busy"), "busy");
      // and the next client is served once the stalled one is dropped
      const r = await pesto(OUR_PESTO, [p.sock]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, before);
      stalled.close();
      assert.equal(await talk(p.echo, "alive"), "alive");
    }),
});
