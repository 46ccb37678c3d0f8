// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `install.ts` - `deno task install` and `deno task uninstall`
 *
 * Theory of operation: install copies what the programs need at run time
 * (the launcher, `main.ts`, `deno.json`, `src/`, `ffi/`, the built native
 * library, the licences) to `PREFIX/lib/passt-deno/`, and links every
 * launcher name found at the top of the tree (`passt`, `pasta`, `qrap`, and
 * `pesto`, `slirp4netns` where they exist) into `PREFIX/bin`, where RootlessKit,
 * libvirt and Podman find them on the PATH; `pasta` is also linked into
 * `PREFIX/libexec/podman`, the first of Podman's default
 * `helper_binaries_dir` entries for PREFIX /usr/local. The man pages go to
 * `PREFIX/share/man/man1`. The installed launcher runs the Deno that ran the
 * installer (its absolute path is written into the copy), so a caller with a
 * short PATH (libvirt, systemd units) still finds it.
 *
 * Every path written is listed in `PREFIX/lib/passt-deno/MANIFEST`; uninstall
 * removes exactly those (links only if they still point into our copy), then
 * the directories it created that are left empty.
 *
 * Usage: `deno task install [--prefix DIR] [--destdir DIR]`,
 * `deno task uninstall [--prefix DIR] [--destdir DIR]`. PREFIX defaults to
 * /usr/local; DESTDIR (for packaging) is prepended to every path written,
 * not to the paths the links and the launcher point at.
 *
 * @module
 */

const TREE = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** Directory of the installed copy, under PREFIX. */
export const LIB_SUBDIR = "lib/passt-deno";
/** What of the tree the programs need at run time. */
const RUNTIME = ["main.ts", "deno.json", "src", "ffi", "LICENSES", "README.md"];
const NATIVE_LIB = "native/build/libpasst_ffi.so";
const NATIVE_HELPER = "native/build/passt-helper";
/** main.ts bundled into one file, which the launcher runs (faster to start). */
const BUNDLE = "native/build/passt.js";
/** Launcher names the tree may have at its top, as links to `passt`. */
const LAUNCHERS = ["passt", "pasta", "qrap", "pesto", "slirp4netns"];

interface Options {
  prefix: string;
  destdir: string;
}

function parseArgs(args: string[]): Options {
  const o: Options = { prefix: "/usr/local", destdir: "" };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--(prefix|destdir)(?:=(.*))?$/.exec(a);
    if (m === null) throw new Error(`Unknown argument: ${a}`);
    const v = m[2] ?? args[++i];
    if (v === undefined || v === "") throw new Error(`--${m[1]} needs a directory`);
    if (m[1] === "prefix") o.prefix = v.replace(/\/+$/, "") || "/";
    else o.destdir = v.replace(/\/+$/, "");
  }
  if (!o.prefix.startsWith("/")) throw new Error(`--prefix must be absolute: ${o.prefix}`);
  return o;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Launcher names present at the top of the tree: `passt` and the links to it. */
export function launcherNames(tree: string = TREE): string[] {
  return LAUNCHERS.filter((n) => {
    try {
      const st = Deno.lstatSync(`${tree}/${n}`);
      return n === "passt"
        ? st.isFile
        : st.isSymlink && Deno.readLinkSync(`${tree}/${n}`) === "passt";
    } catch {
      return false;
    }
  });
}

/** Creates `dir` and its missing parents, recording the ones created. */
function mkdirs(dir: string, created: string[]): void {
  const parts = dir.split("/").filter((p) => p !== "");
  let cur = "";
  for (const p of parts) {
    cur += `/${p}`;
    if (exists(cur)) continue;
    Deno.mkdirSync(cur);
    created.push(cur);
  }
}

function copyTree(src: string, dst: string, written: string[], created: string[]): void {
  const st = Deno.statSync(src);
  if (st.isDirectory) {
    mkdirs(dst, created);
    for (const e of Deno.readDirSync(src)) {
      copyTree(`${src}/${e.name}`, `${dst}/${e.name}`, written, created);
    }
    return;
  }
  Deno.copyFileSync(src, dst);
  written.push(dst);
}

/** Refuses to go on if `path` exists and isn't our link to `target`. */
function checkFree(target: string, path: string): void {
  if (!exists(path)) return;
  const ours = Deno.lstatSync(path).isSymlink && Deno.readLinkSync(path) === target;
  if (!ours) throw new Error(`${path} exists and is not ours: not replacing it`);
}

function link(target: string, path: string, written: string[]): void {
  checkFree(target, path);
  if (exists(path)) Deno.removeSync(path);
  Deno.symlinkSync(target, path);
  written.push(path);
}

/** Installs into `o.destdir + o.prefix`; returns the paths written. */
export function install(o: Options, denoPath: string): string[] {
  if ([NATIVE_LIB, NATIVE_HELPER, BUNDLE].some((f) => !exists(`${TREE}/${f}`))) {
    throw new Error(`${NATIVE_LIB} is missing: run "deno task build" first`);
  }
  const root = `${o.destdir}${o.prefix}`;
  const libDir = `${root}/${LIB_SUBDIR}`;
  const runDir = `${o.prefix}/${LIB_SUBDIR}`; // where the links point at run time
  const names = launcherNames();
  // Nothing is written if a program of that name is already there and not ours
  for (const n of names) checkFree(`${runDir}/passt`, `${root}/bin/${n}`);
  if (names.includes("pasta")) checkFree(`${runDir}/pasta`, `${root}/libexec/podman/pasta`);
  if (exists(`${libDir}/MANIFEST`)) uninstall(o);
  const written: string[] = [];
  const created: string[] = [];
  mkdirs(libDir, created);
  for (const f of RUNTIME) copyTree(`${TREE}/${f}`, `${libDir}/${f}`, written, created);
  mkdirs(`${libDir}/native/build`, created);
  Deno.copyFileSync(`${TREE}/${NATIVE_LIB}`, `${libDir}/${NATIVE_LIB}`);
  written.push(`${libDir}/${NATIVE_LIB}`);
  // passt-helper: the foreground's sandbox entry and pasta's namespace socket server
  Deno.copyFileSync(`${TREE}/${NATIVE_HELPER}`, `${libDir}/${NATIVE_HELPER}`);
  Deno.chmodSync(`${libDir}/${NATIVE_HELPER}`, 0o755);
  written.push(`${libDir}/${NATIVE_HELPER}`);
  Deno.copyFileSync(`${TREE}/${BUNDLE}`, `${libDir}/${BUNDLE}`);
  written.push(`${libDir}/${BUNDLE}`);

  // The launcher, with the Deno found now as its default
  const launcher = Deno.readTextFileSync(`${TREE}/passt`)
    .replace("deno=${PASST_DENO:-deno}", `deno=\${PASST_DENO:-${denoPath}}`);
  Deno.writeTextFileSync(`${libDir}/passt`, launcher, { mode: 0o755 });
  Deno.chmodSync(`${libDir}/passt`, 0o755);
  written.push(`${libDir}/passt`);
  for (const n of names) if (n !== "passt") link("passt", `${libDir}/${n}`, written);

  mkdirs(`${root}/bin`, created);
  for (const n of names) link(`${runDir}/passt`, `${root}/bin/${n}`, written);
  if (names.includes("pasta")) {
    mkdirs(`${root}/libexec/podman`, created);
    link(`${runDir}/pasta`, `${root}/libexec/podman/pasta`, written);
  }

  const manDir = `${root}/share/man/man1`;
  mkdirs(manDir, created);
  for (const e of Deno.readDirSync(`${TREE}/man`)) {
    if (!e.name.endsWith(".1")) continue;
    Deno.copyFileSync(`${TREE}/man/${e.name}`, `${manDir}/${e.name}`);
    written.push(`${manDir}/${e.name}`);
  }

  // Files first, then the directories we created, deepest last
  const manifest = [...written, `${libDir}/MANIFEST`, ...created.map((d) => `${d}/`)];
  Deno.writeTextFileSync(`${libDir}/MANIFEST`, manifest.join("\n") + "\n");
  return manifest;
}

/** Removes what {@linkcode install} wrote (per its MANIFEST); returns the paths removed. */
export function uninstall(o: Options): string[] {
  const libDir = `${o.destdir}${o.prefix}/${LIB_SUBDIR}`;
  let text: string;
  try {
    text = Deno.readTextFileSync(`${libDir}/MANIFEST`);
  } catch {
    throw new Error(`Nothing installed under ${o.destdir}${o.prefix} (no ${libDir}/MANIFEST)`);
  }
  const removed: string[] = [];
  const entries = text.split("\n").filter((l) => l !== "");
  const files = entries.filter((e) => !e.endsWith("/"));
  const dirs = entries.filter((e) => e.endsWith("/")).map((d) => d.slice(0, -1));
  for (const f of files) {
    if (!exists(f)) continue;
    if (!f.startsWith(`${libDir}/`)) {
      // outside our copy we only ever wrote links into it, and man pages
      const st = Deno.lstatSync(f);
      if (st.isSymlink && !Deno.readLinkSync(f).includes(`/${LIB_SUBDIR}/`)) continue;
    }
    Deno.removeSync(f);
    removed.push(f);
  }
  // The Deno cache the launcher keeps for root beside the library (not ours
  // to list: made at run time)
  const cache = `${libDir}/native/build/deno-cache`;
  if (exists(cache)) {
    Deno.removeSync(cache, { recursive: true });
    removed.push(cache);
  }
  // Our copy's own subdirectories, then the directories we created, if empty
  const sub: string[] = [];
  const walk = (d: string): void => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory) {
        walk(`${d}/${e.name}`);
        sub.push(`${d}/${e.name}`);
      }
    }
  };
  if (exists(libDir)) walk(libDir);
  for (const d of [...sub, libDir, ...dirs.reverse()]) {
    try {
      Deno.removeSync(d);
      removed.push(`${d}/`);
    } catch {
      // not empty or already gone: leave it
    }
  }
  return removed;
}

if (import.meta.main) {
  const [verb = "", ...rest] = Deno.args;
  try {
    const o = parseArgs(rest);
    if (verb === "install") {
      const m = install(o, Deno.execPath());
      const bin = `${o.prefix}/bin`;
      console.log(`Installed ${m.length} paths under ${o.destdir}${o.prefix}; programs in ${bin}`);
    } else if (verb === "uninstall") {
      const r = uninstall(o);
      console.log(`Removed ${r.length} paths under ${o.destdir}${o.prefix}`);
    } else {
      throw new Error("Usage: install.ts install|uninstall [--prefix DIR] [--destdir DIR]");
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
