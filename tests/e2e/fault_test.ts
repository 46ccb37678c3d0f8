// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Hostile peers and faults, end to end: half-closed handshakes must not make
 * the loop spin (measured as the process's CPU time), exhausted descriptors
 * must not spin it either, and the process keeps serving afterwards. The
 * guest is a script on passt's socket (`passt_guest.ts`), so that it can
 * leave handshakes half done.
 *
 * @module
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { freePort, have, isRoot, PASST, PASTA, run, scratchDir } from "../_helpers/e2e.ts";
import { ACK, FIN, RST, SYN } from "../_helpers/tcp_frames.ts";
import {
  cpuTicks,
  GUEST4,
  GUEST_ARGS,
  GW4,
  ip4,
  PasstGuest,
  tcp4Frame,
} from "../_helpers/passt_guest.ts";
import { ether, GUEST_MAC, ipv4Packet, udp4 } from "../_helpers/frames.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A passt in the foreground on a fresh socket, with `args` (and a descriptor
 * limit of `ulimit`, an environment of `env`); stopped by `stop()`, which
 * returns what it wrote to standard error.
 */
async function startPasst(
  args: string[],
  opts: { ulimit?: number; env?: Record<string, string> } = {},
): Promise<{
  pid: number;
  sock: string;
  guest: PasstGuest;
  stop: () => Promise<string>;
}> {
  const dir = scratchDir(); // root runs as nobody
  const sock = `${dir}/passt.sock`;
  const argv = [PASST, "-f", "-s", sock, ...GUEST_ARGS, ...args];
  const child = new Deno.Command(opts.ulimit ? "sh" : PASST, {
    args: opts.ulimit
      ? ["-c", `ulimit -n ${opts.ulimit} && exec "$0" "$@"`, ...argv]
      : argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env } : {}),
  }).spawn();
  const guest = await PasstGuest.connect(sock);
  return {
    pid: child.pid,
    sock,
    guest,
    async stop(): Promise<string> {
      guest.close();
      try {
        child.kill("SIGTERM");
      } catch {
        // gone already
      }
      const out = await child.output();
      Deno.removeSync(dir, { recursive: true });
      return new TextDecoder().decode(out.stderr);
    },
  };
}

Deno.test({
  name: "fault: handshakes pending with a half-closed host side don't spin the loop (passt)",
  async fn(): Promise<void> {
    // Host side of outbound connections: accept, then half-close at once
    const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (server.addr as Deno.NetAddr).port;
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const c of server) {
        held.push(c);
        await c.closeWrite();
      }
    })();
    const fwd = freePort();
    const p = await startPasst(["-t", String(fwd)]);
    try {
      // Guest -> host: SYN, passt connects and sends SYN-ACK, the guest never ACKs
      const N = 4;
      for (let k = 0; k < N; k++) {
        await p.guest.send(tcp4Frame(GUEST4, GW4, 40000 + k, port, 1000, 0, SYN));
      }
      const synAcks = [];
      for (let k = 0; k < N; k++) {
        const sa = await p.guest.recvTcp((s) => (s.flags & (SYN | ACK)) === (SYN | ACK));
        assert.ok(sa, "passt answers each SYN with a SYN-ACK");
        synAcks.push(sa);
      }
      // Host -> guest: accepted on -t, SYN to the guest, which never answers;
      // the host client half-closes
      const clients: Deno.TcpConn[] = [];
      for (let k = 0; k < N; k++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: fwd });
        await c.closeWrite();
        clients.push(c);
        assert.ok(await p.guest.recvTcp((s) => s.flags === SYN), "passt sends the guest a SYN");
      }
      for (let t = 0; held.length < N && t < 100; t++) await sleep(20);
      assert.equal(held.length, N, "the host accepted every connection");
      const before = cpuTicks(p.pid);
      await sleep(1000);
      const used = cpuTicks(p.pid) - before;
      assert.ok(used < 15, `passt used ${used * 10} ms of CPU in 1 s with idle handshakes`);
      // The half-close wasn't lost: once the guest completes a handshake, the FIN follows
      const sa = synAcks[0]!;
      await p.guest.send(tcp4Frame(GUEST4, GW4, sa.dport, port, 1001, sa.seq + 1, ACK));
      const fin = await p.guest.recvTcp((s) => s.dport === sa.dport && (s.flags & FIN) !== 0);
      assert.ok(fin, "the host's FIN reaches the guest after the handshake");
      for (const c of clients) c.close();
    } finally {
      const err = await p.stop();
      server.close();
      for (const c of held) c.close();
      await accepting.catch(() => {});
      void err;
    }
  },
});

Deno.test({
  name: "fault: out of descriptors, passt's listeners don't spin and it serves all once freed",
  async fn(): Promise<void> {
    const fwd = freePort();
    const p = await startPasst(["-t", String(fwd)], { ulimit: 64 });
    const { guest, sock } = p;
    const clients: Deno.TcpConn[] = [];
    let second: Deno.UnixConn | null = null;
    try {
      // More connections than descriptors: the rest wait in the listener's queue
      const N = 40;
      for (let k = 0; k < N; k++) {
        for (let t = 0;; t++) {
          try {
            clients.push(await Deno.connect({ hostname: "127.0.0.1", port: fwd }));
            break;
          } catch (e) {
            // Only the first one can come before passt listens
            if (k > 0 || t > 200) throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
      const syns = new Map<number, number>();
      for (;;) {
        const s = await guest.recvTcp((s) => s.flags === SYN, 1000);
        if (!s) break;
        syns.set(s.sport, s.seq);
      }
      // A second guest while out of descriptors: passt's own listener has one queued too
      second = await Deno.connect({ transport: "unix", path: sock });
      assert.ok(syns.size > 0 && syns.size < N, `${syns.size} of ${N} accepted before running out`);
      const before = cpuTicks(p.pid);
      await new Promise((r) => setTimeout(r, 1000));
      const used = cpuTicks(p.pid) - before;
      assert.ok(used < 15, `passt used ${used * 10} ms of CPU in 1 s while out of descriptors`);
      // The guest refuses each connection: descriptors come back, and the
      // queued connections are accepted in turn
      const refused = new Set<number>();
      const deadline = Date.now() + 20_000;
      while (refused.size < N && Date.now() < deadline) {
        for (const [sport, seq] of syns) {
          if (refused.has(sport)) continue;
          refused.add(sport);
          await guest.send(tcp4Frame(GUEST4, GW4, fwd, sport, 0, seq + 1, RST | ACK));
        }
        if (refused.size === N) break;
        const s = await guest.recvTcp((s) => s.flags === SYN, 2000);
        if (s && !refused.has(s.sport)) syns.set(s.sport, s.seq);
      }
      assert.equal(refused.size, N, "every queued connection reached the guest");
    } finally {
      second?.close();
      for (const c of clients) c.close();
      const err = await p.stop();
      assert.doesNotMatch(err, /^\s+at /m, "no stack trace");
    }
  },
});

/** Opens UDP flows to the gateway until `N`, then binds new ports for pasta's auto rescan. */
const UDP_FLOOD = `
import socket, sys, time
gw = sys.argv[1]
socks = []
for i in range(110):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'x', (gw, 40000 + i))
    socks.append(s)
time.sleep(0.5)
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(('0.0.0.0', int(sys.argv[2]))); l.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', int(sys.argv[2]) + 1))
time.sleep(3)
print('done', flush=True)
`;

Deno.test({
  name: "fault: pasta under ulimit -n 128, out of descriptors, isn't killed by its own filter",
  ignore: !isRoot() || !have("python3"),
  async fn(): Promise<void> {
    const dir = scratchDir(); // root runs as nobody
    Deno.writeTextFileSync(`${dir}/flood.py`, UDP_FLOOD);
    const port = freePort();
    const gw = "$(ip -4 route show default | cut -d' ' -f3)";
    const cmd = `python3 ${dir}/flood.py ${gw} ${port}`;
    try {
      // Seccomp is on in the foreground too: every error path runs under it
      const r = await run([
        "sh",
        "-c",
        `ulimit -n 128 && exec ${PASTA} -f --config-net -- sh -c "${cmd}"`,
      ]);
      assert.ok(r.code < 128, `pasta ended by signal ${r.code - 128}: ${r.stderr}`);
      assert.equal(r.code, 0, `pasta kept serving to the command's end: ${r.stderr}`);
      assert.match(r.stdout, /^done$/m);
      assert.doesNotMatch(r.stderr, /panicked|Bad system call/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Host server that sends `len` bytes to each client; resolves each connection's end. */
function bulkServer(len: number): { port: number; ends: Promise<string>[]; close: () => void } {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ends: Promise<string>[] = [];
  const loop = (async () => {
    for await (const c of server) {
      ends.push((async () => {
        const chunk = new Uint8Array(1 << 16);
        try {
          for (let sent = 0; sent < len; sent += chunk.length) await c.write(chunk);
          await c.closeWrite();
          const b = new Uint8Array(16);
          while ((await c.read(b)) !== null) { /* until the peer goes */ }
          return "eof";
        } catch (e) {
          return (e as Error).name;
        } finally {
          c.close();
        }
      })());
    }
  })();
  return {
    port: (server.addr as Deno.NetAddr).port,
    ends,
    close(): void {
      server.close();
      void loop.catch(() => {});
    },
  };
}

/** Opens a connection from the scripted guest to the host's `port`; returns its sequence state. */
async function guestConnect(
  guest: PasstGuest,
  sport: number,
  port: number,
): Promise<{ seq: number; ack: number }> {
  await guest.send(tcp4Frame(GUEST4, GW4, sport, port, 1000, 0, SYN));
  const sa = await guest.recvTcp((s) =>
    s.dport === sport && (s.flags & (SYN | ACK)) === (SYN | ACK)
  );
  assert.ok(sa, "SYN-ACK");
  await guest.send(tcp4Frame(GUEST4, GW4, sport, port, 1001, sa.seq + 1, ACK));
  return { seq: 1001, ack: sa.seq + 1 };
}

/** Descriptors of process `pid`. */
function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

Deno.test({
  name: "fault: the guest vanishing mid-transfer leaves passt serving, no descriptor leaked",
  async fn(): Promise<void> {
    const bulk = bulkServer(64 << 20);
    const p = await startPasst([]);
    try {
      // One round trip first, so that the baseline has every lazy descriptor
      const base = await guestConnect(p.guest, 41000, bulk.port);
      await p.guest.send(tcp4Frame(GUEST4, GW4, 41000, bulk.port, base.seq, base.ack, RST | ACK));
      await new Promise((r) => setTimeout(r, 300));
      const fds0 = fdCount(p.pid);
      // Data flows to the guest, which reads a little and disappears
      await guestConnect(p.guest, 41001, bulk.port);
      const data = await p.guest.recvTcp((s) => s.dport === 41001 && s.payload.length > 0);
      assert.ok(data, "data reaches the guest");
      p.guest.close();
      // The host side ends (reset, or end of stream) and the descriptors come back
      for (let t = 0; t < 300 && bulk.ends.length < 2; t++) await sleep(50);
      const end = await Promise.race([bulk.ends[1]!, sleep(30_000).then(() => "timeout")]);
      assert.notEqual(end, "timeout", "the host connection ends after the guest is gone");
      // Its own socket went with the guest
      for (let t = 0; t < 100 && fdCount(p.pid) > fds0 - 1; t++) await sleep(50);
      const left = [...Deno.readDirSync(`/proc/${p.pid}/fd`)].map((e) => {
        try {
          return Deno.readLinkSync(`/proc/${p.pid}/fd/${e.name}`);
        } catch {
          return "?";
        }
      });
      assert.equal(fdCount(p.pid), fds0 - 1, `no descriptor leaked: ${left.join(" ")}`);
      // A new guest is served
      const guest2 = await PasstGuest.connect(p.sock);
      try {
        await guestConnect(guest2, 41002, bulk.port);
        const more = await guest2.recvTcp((s) => s.dport === 41002 && s.payload.length > 0);
        assert.ok(more, "data reaches the next guest");
      } finally {
        guest2.close();
      }
    } finally {
      await p.stop();
      bulk.close();
    }
  },
});

Deno.test({
  name: "fault: SIGTERM during a transfer ends passt at once with status 0, one clean exit",
  async fn(): Promise<void> {
    const bulk = bulkServer(256 << 20);
    const dir = scratchDir(); // root runs as nobody
    const sock = `${dir}/passt.sock`;
    const child = new Deno.Command(PASST, {
      args: ["-f", "-s", sock, ...GUEST_ARGS],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guest = await PasstGuest.connect(sock);
    try {
      await guestConnect(guest, 42000, bulk.port);
      // Keep the data coming: acknowledge what arrives, for a while
      let got = 0;
      for (let k = 0; k < 50; k++) {
        const s = await guest.recvTcp((s) => s.dport === 42000 && s.payload.length > 0);
        assert.ok(s, "data flows");
        got += s.payload.length;
        const ack = (s.seq + s.payload.length) >>> 0;
        await guest.send(tcp4Frame(GUEST4, GW4, 42000, bulk.port, 1001, ack, ACK));
      }
      assert.ok(got > 0);
      const t0 = Date.now();
      child.kill("SIGTERM");
      const out = await child.output();
      const ms = Date.now() - t0;
      assert.equal(out.code, 0, "SIGTERM is a clean exit");
      assert.ok(ms < 3000, `exited in ${ms} ms`);
      const err = new TextDecoder().decode(out.stderr);
      assert.doesNotMatch(err, /^\s+at |panicked|Error/m, "no stack trace, no error");
    } finally {
      guest.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await child.output().catch(() => null);
      bulk.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** A UDP datagram from the guest, Ethernet framed (IPv4, UDP checksum 0). */
function udp4Frame(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const ip = ipv4Packet(ip4(GUEST4), ip4(GW4), 17, udp4(sport, dport, payload));
  return ether(Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55), GUEST_MAC, 0x0800, ip);
}

Deno.test({
  name: "fault: UDP flows using up passt's descriptors: it keeps serving and recovers",
  async fn(): Promise<void> {
    const echo = dgram.createSocket("udp4");
    echo.on("message", (d, a) => echo.send(d, a.port, a.address));
    await new Promise<void>((r) => echo.bind(0, "127.0.0.1", r));
    const echoPort = echo.address().port;
    const fwd = freePort();
    const p = await startPasst(["-t", String(fwd)], {
      ulimit: 64,
      env: { PASST_UDP_TIMEOUT_MS: "2000" },
    });
    const { guest, pid } = p;
    const te = new TextEncoder();
    /** Sends to the echo server from `sport`; whether the echo comes back. */
    const echoed = async (sport: number): Promise<boolean> => {
      await guest.send(udp4Frame(sport, echoPort, te.encode(`hi${sport}`)));
      const end = Date.now() + 1500;
      while (Date.now() < end) {
        const f = await guest.recv(Math.max(1, end - Date.now()));
        if (!f) return false;
        if (f.length > 42 && f[23] === 17 && ((f[36]! << 8) | f[37]!) === sport) return true;
      }
      return false;
    };
    try {
      assert.ok(await echoed(50000), "UDP works before");
      // A flow per source port until descriptors run out
      for (let k = 1; k <= 80; k++) {
        await guest.send(udp4Frame(50000 + k, echoPort, te.encode("x")));
      }
      await sleep(300);
      while (await guest.recv(200)) { /* drain the echoes */ }
      assert.ok(fdCount(pid) >= 60, `out of descriptors: ${fdCount(pid)}`);
      const before = cpuTicks(pid);
      await sleep(1000);
      const used = cpuTicks(pid) - before;
      assert.ok(used < 15, `passt used ${used * 10} ms of CPU in 1 s out of descriptors`);
      // Still serving: TCP to the guest still gets its SYN across
      const c = await Deno.connect({ hostname: "127.0.0.1", port: fwd });
      c.close();
      // The flows age out, then UDP works again
      let ok = false;
      for (let t = 0; t < 10 && !ok; t++) ok = await echoed(51000 + t);
      assert.ok(ok, "UDP works again once the flows expired");
      assert.ok(fdCount(pid) < 64, "descriptors came back");
    } finally {
      const err = await p.stop();
      echo.close();
      assert.doesNotMatch(err, /^\s+at |panicked/m, "no stack trace");
    }
  },
});

/** Host side: reads 256 KiB at a time, 2 ms apart, until EOF; sends back sha256 and count. */
const SLOW_SINK = `
import hashlib, socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', int(sys.argv[1]))); l.listen(1)
open(sys.argv[2], 'w').close()
c, _ = l.accept(); h = hashlib.sha256(); n = 0; buf = bytearray(256 << 10)
while True:
    k = c.recv_into(buf)
    if not k: break
    h.update(memoryview(buf)[:k]); n += k; time.sleep(0.002)
c.sendall(('%s %d' % (h.hexdigest(), n)).encode()); c.close()
`;

/** Namespace side: sends FILE, half-closes, prints the receiver's answer. */
const SENDER = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
with open(sys.argv[3], 'rb') as f:
    while True:
        b = f.read(1 << 20)
        if not b: break
        c.sendall(b)
c.shutdown(socket.SHUT_WR); print(c.recv(100).decode())
`;

Deno.test({
  name:
    "fault: 256 MiB from the namespace through the tap to a slow host receiver: intact, no spin",
  ignore: !isRoot() || !have("python3") || !have("sha256sum"),
  async fn(): Promise<void> {
    const dir = scratchDir(); // the command runs as the namespace's root
    try {
      Deno.writeTextFileSync(`${dir}/sink.py`, SLOW_SINK);
      Deno.writeTextFileSync(`${dir}/send.py`, SENDER);
      const port = freePort();
      const gw = "$(ip -4 route show default | cut -d' ' -f3)";
      const r = await run([
        "sh",
        "-c",
        [
          `head -c ${256 << 20} /dev/urandom > ${dir}/data; chmod 644 ${dir}/data`,
          `python3 ${dir}/sink.py ${port} ${dir}/listening & S=$!`,
          `while [ ! -e ${dir}/listening ]; do sleep 0.05; done`,
          // The namespace's side reports when it is done; pasta's CPU time is read then
          `${PASTA} -q -f --config-net -- sh -c "python3 ${dir}/send.py ${gw} ${port} ${dir}/data; ` +
          `touch ${dir}/sent; while [ ! -e ${dir}/quit ]; do sleep 0.05; done" & P=$!`,
          `while [ ! -e ${dir}/sent ] && kill -0 $P 2>/dev/null; do sleep 0.05; done`,
          `T0=$(cut -d' ' -f22 /proc/$P/stat)`, // started, in ticks since boot
          `NOW=$(cut -d' ' -f1 /proc/uptime)`,
          `echo "cpu $(cut -d')' -f2 /proc/$P/stat | awk '{print $12 + $13}') ` +
          `$(awk -v n=$NOW -v t=$T0 -v hz=$(getconf CLK_TCK) 'BEGIN{print int(n*hz - t)}')"`,
          `touch ${dir}/quit; wait $P; echo "pasta $?"; wait $S`,
          `echo "want $(sha256sum < ${dir}/data | cut -d' ' -f1) ${256 << 20}"`,
        ].join("\n"),
      ], { timeoutMs: 180_000 });
      const out = r.stdout + r.stderr;
      const want = /^want (\S+ \d+)$/m.exec(out);
      assert.ok(want, out);
      assert.match(
        r.stdout,
        new RegExp(`^${want[1]}$`, "m"),
        `every byte arrived, in order: ${out}`,
      );
      assert.match(out, /^pasta 0$/m, out);
      const cpu = /^cpu (\d+) (\d+)$/m.exec(out);
      assert.ok(cpu, out);
      // pasta waits for the receiver most of the time: a loop that spins on a full
      // socket would burn a whole core for the transfer's length
      assert.ok(
        Number(cpu[1]) < 0.6 * Number(cpu[2]),
        `pasta's CPU ticks ${cpu[1]} over its ${cpu[2]} ticks of life: ${out}`,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
