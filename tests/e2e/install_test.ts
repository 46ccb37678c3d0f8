// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `deno task install` and `deno task uninstall` into a temporary PREFIX: the
 * launchers land in PREFIX/bin (PATH: RootlessKit, libvirt, Podman) and
 * PREFIX/libexec/podman (Podman's helper_binaries_dir), the man pages where
 * `man` finds them, the installed copy runs on its own (root and rootless),
 * and uninstall leaves nothing behind. Also the two pieces that make a
 * `deno compile`d program work: the daemon re-executes the executable, and
 * the native library is looked up next to it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { have, isRoot, prepareRootless, REPO, run } from "../_helpers/e2e.ts";
import { launcherNames } from "../../tools/install.ts";
import { selfCommand } from "../../src/daemon.ts";
import { defaultLibPath, treeDir } from "../../ffi/lib.ts";

const canRun = isRoot() && have("ip");

/** Files and links under `dir`, relative to it. */
function entries(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${dir}${rel}`)) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) out.push(...entries(dir, p));
    else out.push(p);
  }
  return out;
}

Deno.test({
  name:
    "install into a temporary PREFIX: launchers, man pages, a working copy; uninstall removes all",
  ignore: !canRun,
  async fn(): Promise<void> {
    const prefix = await Deno.makeTempDir({ prefix: "passt-install-" });
    Deno.chmodSync(prefix, 0o755);
    try {
      const task = (verb: string): Promise<{ code: number; stdout: string; stderr: string }> =>
        run(["deno", "task", "-q", "--cwd", REPO, verb, "--prefix", prefix]);
      let r = await task("install");
      assert.equal(r.code, 0, r.stderr);

      const names = launcherNames(REPO);
      for (const n of ["passt", "pasta", "qrap"]) assert.ok(names.includes(n), n);
      const copy = `${prefix}/lib/passt-deno`;
      for (const n of names) {
        assert.equal(Deno.realPathSync(`${prefix}/bin/${n}`), `${copy}/passt`, n);
      }
      assert.equal(Deno.realPathSync(`${prefix}/libexec/podman/pasta`), `${copy}/passt`);
      assert.ok(Deno.statSync(`${copy}/native/build/libpasst_ffi.so`).isFile);
      assert.ok(Deno.statSync(`${copy}/native/build/passt.js`).isFile, "the bundle it runs");
      assert.throws(() => Deno.statSync(`${copy}/native/Makefile`), "no sources: no make at start");
      for (const page of ["passt.1", "pasta.1", "qrap.1"]) {
        assert.ok(Deno.statSync(`${prefix}/share/man/man1/${page}`).isFile, page);
      }

      // The installed programs, from a directory that isn't the tree
      r = await run([`${prefix}/bin/pasta`, "--version"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^pasta /);
      r = await run([`${prefix}/bin/passt`, "--version"]);
      assert.match(r.stdout, /^passt /);
      r = await run([`${prefix}/bin/qrap`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Usage: qrap /);
      r = await run([`${prefix}/bin/pasta`, "--config-net", "--", "ip", "-o", "link", "show"]);
      assert.equal(r.code, 0, r.stderr);
      if (prepareRootless()) {
        r = await run([`${prefix}/bin/pasta`, "--config-net", "--", "true"], { rootless: true });
        assert.equal(r.code, 0, r.stderr);
      }
      if (have("man")) {
        const m = await run(["man", "-w", "pasta"], { env: { MANPATH: `${prefix}/share/man` } });
        assert.ok(m.stdout.startsWith(`${prefix}/share/man/man1/`), m.stdout + m.stderr);
      }

      // Installing again replaces our copy; a foreign file is never replaced
      r = await task("install");
      assert.equal(r.code, 0, r.stderr);
      r = await task("uninstall");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(entries(prefix), [], "nothing left");
      assert.deepEqual([...Deno.readDirSync(prefix)], [], "no directory left either");

      Deno.mkdirSync(`${prefix}/bin`);
      Deno.writeTextFileSync(`${prefix}/bin/pasta`, "#!/bin/sh\n");
      r = await task("install");
      assert.equal(r.code, 1);
      assert.match(r.stderr, /bin\/pasta exists and is not ours/);
      assert.equal(Deno.readTextFileSync(`${prefix}/bin/pasta`), "#!/bin/sh\n");
      assert.deepEqual(entries(prefix), ["/bin/pasta"], "nothing written");
    } finally {
      await Deno.remove(prefix, { recursive: true });
    }
  },
});

Deno.test("deno compile: the daemon re-executes the executable; the library sits next to it", () => {
  assert.deepEqual(
    selfCommand("pasta", false, "/usr/bin/deno", "/opt/p/", "/opt/p/lib.so", "/opt/p/main.ts"),
    [
      "/usr/bin/deno",
      "run",
      "--quiet",
      "--no-prompt",
      "--config",
      "/opt/p/deno.json",
      "--allow-ffi=/opt/p/lib.so",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "/opt/p/main.ts",
      "pasta",
    ],
  );
  assert.deepEqual(
    selfCommand("pasta", true, "/usr/local/bin/pasta", "/x/", "/x/lib.so", "/x/main.ts"),
    [
      "/usr/local/bin/pasta",
    ],
  );
  assert.equal(defaultLibPath(true, "/usr/local/bin/pasta"), "/usr/local/bin/libpasst_ffi.so");
  assert.equal(defaultLibPath(false, "/usr/bin/deno"), `${REPO}/native/build/libpasst_ffi.so`);
});

Deno.test("the bundled program finds its tree two levels up, the sources one", () => {
  assert.equal(treeDir("file:///opt/p/native/build/passt.js"), "/opt/p/");
  assert.equal(treeDir("file:///opt/p/ffi/lib.ts"), "/opt/p/");
  assert.equal(treeDir(), `${REPO}/`);
});
