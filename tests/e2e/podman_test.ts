// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Debian's Podman 4.3.1, rootless, with --network slirp4netns, using our
// slirp4netns front end through a private containers.conf (network_cmd_path,
// helper_binaries_dir), and Debian's slirp4netns as the reference. The image
// is built here from the busybox binary (podman import, no registry). Checked:
// the container's address, MTU and routes, a download from a host loopback
// server via 10.0.2.2, and -p forwards with Podman's own port handler
// (rootlessport) and with port_handler=slirp4netns (the API socket).

import assert from "node:assert/strict";
import {
  ensureSubids,
  freePort,
  have,
  isRoot,
  prepareRootless,
  run,
  scratchDir,
  SLIRP4NETNS_IMPLS,
  TESTER,
} from "../_helpers/e2e.ts";

const ignore = !isRoot() || !have("podman") || !have("runc") || !have("busybox") ||
  !have("python3") || !prepareRootless() || !ensureSubids();

/** Libraries `bin` needs (none for a static busybox). */
async function libsOf(bin: string): Promise<string[]> {
  const r = await run(["ldd", bin]);
  return [...r.stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
}

/** A busybox root filesystem as a tarball: sh, ip, wget, httpd, and a page at /www. */
async function buildImageTar(dir: string): Promise<string> {
  const root = `${dir}/rootfs`;
  const bb = (await run(["sh", "-c", "command -v busybox"])).stdout.trim();
  Deno.mkdirSync(`${root}/bin`, { recursive: true });
  Deno.mkdirSync(`${root}/www`);
  Deno.copyFileSync(bb, `${root}/bin/busybox`);
  for (const lib of await libsOf(bb)) {
    const dst = `${root}${lib}`;
    Deno.mkdirSync(dst.slice(0, dst.lastIndexOf("/")), { recursive: true });
    Deno.copyFileSync(lib, dst);
  }
  for (const a of ["sh", "ip", "wget", "httpd", "sleep", "cat"]) {
    Deno.symlinkSync("busybox", `${root}/bin/${a}`);
  }
  Deno.writeTextFileSync(`${root}/www/index.html`, "from-container\n");
  const tar = `${dir}/bb.tar`;
  const r = await run(["tar", "-C", root, "-cf", tar, "."]);
  assert.equal(r.code, 0, r.stderr);
  return tar;
}

for (const [who, bin] of SLIRP4NETNS_IMPLS) {
  Deno.test({
    name: `podman --network slirp4netns (${who}): address, MTU, routes, host via 10.0.2.2, -p`,
    ignore,
    async fn(): Promise<void> {
      const dir = scratchDir("", 0o755);
      const tar = await buildImageTar(dir);
      Deno.mkdirSync(`${dir}/run`, { mode: 0o700 });
      Deno.mkdirSync(`${dir}/web`);
      Deno.writeTextFileSync(`${dir}/web/index.html`, "from-host\n");
      Deno.writeTextFileSync(
        `${dir}/containers.conf`,
        `[containers]\nnetns = "slirp4netns"\n[engine]\ncgroup_manager = "cgroupfs"\n` +
          `events_logger = "file"\nruntime = "runc"\nnetwork_cmd_path = "${bin}"\n` +
          `helper_binaries_dir = ["${bin.slice(0, bin.lastIndexOf("/"))}", ` +
          `"/usr/lib/podman", "/usr/libexec/podman"]\n`,
      );
      Deno.writeTextFileSync(
        `${dir}/storage.conf`,
        `[storage]\ndriver = "vfs"\nrunroot = "${dir}/runroot"\ngraphroot = "${dir}/graph"\n`,
      );
      await run(["chown", "-R", TESTER, dir]);
      const hostPort = freePort();
      const p1 = freePort();
      const p2 = freePort();
      const web = new Deno.Command("python3", {
        args: [
          "-m",
          "http.server",
          String(hostPort),
          "--bind",
          "127.0.0.1",
          "--directory",
          `${dir}/web`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const env = {
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
        XDG_RUNTIME_DIR: `${dir}/run`,
        CONTAINERS_CONF: `${dir}/containers.conf`,
        CONTAINERS_STORAGE_CONF: `${dir}/storage.conf`,
      };
      const podman = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        run(["podman", ...args], { rootless: true, env, timeoutMs: 120_000 });
      try {
        let r = await podman(["import", tar, "localhost/bb:test"]);
        assert.equal(r.code, 0, r.stderr);
        r = await podman([
          "run",
          "--rm",
          "--network",
          "slirp4netns:allow_host_loopback=true",
          "localhost/bb:test",
          "sh",
          "-c",
          "ip -o -4 addr show tap0; ip -o link show tap0; ip route; " +
          `wget -qO- http://10.0.2.2:${hostPort}/`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /tap0\s+inet 10\.0\.2\.100\/24 /);
        assert.match(r.stdout, /tap0: .* mtu 65520 /);
        assert.match(r.stdout, /^default via 10\.0\.2\.2 dev tap0/m);
        assert.match(r.stdout, /from-host\n$/);

        for (
          const [net, port] of [["slirp4netns:port_handler=slirp4netns", p1], [
            "slirp4netns",
            p2,
          ]] as const
        ) {
          const name = `web${port}`;
          r = await podman([
            "run",
            "-d",
            "--name",
            name,
            "--network",
            net,
            "-p",
            `127.0.0.1:${port}:80`,
            "localhost/bb:test",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/www",
          ]);
          assert.equal(r.code, 0, r.stderr);
          try {
            let body = "";
            for (let i = 0; i < 50 && body === ""; i++) {
              try {
                body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
              } catch {
                await new Promise((res) => setTimeout(res, 200));
              }
            }
            assert.equal(body, "from-container\n", net);
          } finally {
            await podman(["rm", "-f", "-t", "0", name]);
          }
        }
      } finally {
        web.kill();
        await web.status;
        await podman(["system", "reset", "-f"]).catch(() => null);
        await run(["rm", "-rf", dir]);
      }
    },
  });
}
