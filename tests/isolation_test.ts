// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { planSandbox, seccompSize } from "../src/isolation.ts";
import {
  CLONE_NEWIPC,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from "../ffi/sys.ts";
import { parseConf } from "../src/conf/conf.ts";
import type { Conf } from "../src/context.ts";
import { testHostV4Only as host } from "./_helpers/host.ts";
import { importOf, runTs } from "./_helpers/subprocess.ts";

const SANDBOX = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID;

function conf(mode: "passt" | "pasta", args: string[], euid = 1000): Conf {
  const r = parseConf(mode, args, host, {
    resolvText: "nameserver 192.0.2.53\n",
    passwd: "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
    group: "root:x:0:\nnogroup:x:65534:\n",
    euid,
    egid: euid,
    uidMap: euid === 0 ? "0 0 4294967295" : `0 ${euid} 1`,
  });
  if (r.kind !== "conf") throw new Error("no configuration");
  return r.conf;
}

Deno.test("planSandbox: passt gets a new user namespace plus mount, IPC, UTS and PID", () => {
  const p = planSandbox(conf("passt", []), { euid: 1000, egid: 1000 });
  assert.equal(p.flags, SANDBOX | CLONE_NEWUSER);
  assert.equal(p.usernsPath, null);
  assert.equal(p.uid, -1, "no ID change for an ordinary user");
  assert.equal(p.gid, -1);
});

Deno.test("planSandbox: root without --runas becomes nobody, --runas is honoured", () => {
  const root = planSandbox(conf("passt", [], 0), { euid: 0, egid: 0 });
  assert.equal(root.uid, 65534);
  const runas = planSandbox(conf("passt", ["--runas", "4321:8765"], 0), { euid: 0, egid: 0 });
  assert.equal(runas.uid, 4321);
  assert.equal(runas.gid, 8765);
});

Deno.test("planSandbox: pasta --netns alone stays in our user namespace", () => {
  const p = planSandbox(conf("pasta", ["--netns", "/run/netns/x"]), { euid: 1000, egid: 1000 });
  assert.equal(p.flags, SANDBOX, "no new user namespace: the target must stay enterable");
  assert.equal(p.usernsPath, null);
});

Deno.test("planSandbox: pasta joins the user namespace of a PID target or --userns", () => {
  const pid = planSandbox(conf("pasta", ["1234"]), { euid: 1000, egid: 1000 });
  assert.equal(pid.usernsPath, "/proc/1234/ns/user");
  assert.equal(pid.flags & CLONE_NEWUSER, 0);
  assert.equal(pid.flags & CLONE_NEWPID, 0, "the target's PID stays meaningful");
  const u = planSandbox(
    conf("pasta", ["--netns", "/run/netns/x", "--userns", "/run/user/ns"]),
    { euid: 1000, egid: 1000 },
  );
  assert.equal(u.usernsPath, "/run/user/ns");
  assert.equal(u.flags, SANDBOX);
});

Deno.test("seccomp allow-lists: generated for both modes, each within the filter's size", () => {
  // passt alone maps guest memory (vhost-user) and pasta alone works with
  // namespaces, so neither list contains the other; both must be real lists
  // whose jumps fit the filter.
  for (const mode of ["passt", "pasta"] as const) {
    const n = seccompSize(mode);
    assert.ok(n > 20, `${mode} list has ${n} entries`);
    assert.ok(n < 120, `${mode}: the filter's jumps fit (fewer than 120 entries, has ${n})`);
  }
});

Deno.test({
  name:
    "beginIsolation: the runtime's other threads lose their capabilities at once, ours keeps them",
  ignore: Deno.uid() !== 0,
  async fn(): Promise<void> {
    // In a process of its own: it changes the capabilities of its threads
    const code = `import { beginIsolation } from ${
      importOf("../src/isolation.ts", import.meta.url)
    };
const eff = (tid: string) =>
  /CapEff:\\s*([0-9a-f]+)/.exec(Deno.readTextFileSync(\`/proc/self/task/\${tid}/status\`))![1];
const tasks = () => [...Deno.readDirSync("/proc/self/task")].map((e) => e.name);
const before = tasks().map(eff);
const selfBefore = eff(String(Deno.pid));
beginIsolation();
await new Promise((r) => setTimeout(r, 100));
const self = String(Deno.pid);
console.log(JSON.stringify({
  before,
  selfBefore,
  self: eff(self),
  others: tasks().filter((t) => t !== self).map(eff),
}));`;
    const out = await runTs(code);
    assert.equal(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assert.ok(r.before.every((c: string) => BigInt(`0x${c}`) !== 0n), "all had some to begin with");
    assert.equal(r.self, r.selfBefore, "the caller keeps its capabilities for set-up");
    assert.ok(r.others.length > 0, "the runtime has other threads");
    assert.deepEqual(
      r.others.filter((c: string) => BigInt(`0x${c}`) !== 0n),
      [],
      "every other thread has none left",
    );
  },
});
