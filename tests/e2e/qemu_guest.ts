// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `qemu_guest.ts` - a real Linux guest for passt: Debian's kernel, a busybox
 * initramfs built here, QEMU with TCG
 *
 * Theory of operation: {@linkcode guestImage} finds a Debian kernel
 * (`/boot/vmlinuz-VER` with `/lib/modules/VER`), and builds a gzip'd cpio
 * initramfs holding busybox and socat (with the shared libraries `ldd` names),
 * the virtio network modules that the kernel has as modules (in load order,
 * built-in ones skipped), and {@linkcode GUEST_INIT} as `/init`. The image is
 * cached under `$XDG_CACHE_HOME/passt-deno` (or `/tmp/passt-deno-cache`),
 * keyed by the kernel version and a hash of everything that goes in.
 *
 * {@linkcode bootGuest} runs `qemu-system-x86_64 -accel tcg` with a
 * virtio-net-pci device on `-netdev stream` (the socket passt listens on),
 * the serial console on standard output. The kernel command line carries the
 * test's parameters (`key=value` words the kernel does not know end up in
 * init's environment). `/init` prints one `PT name value...` line per check
 * and `PT done`, then powers the machine off; {@linkcode GuestResult.checks}
 * maps each name to the rest of its line. A callback sees every line as it
 * comes, so the test can act on markers (`PT listening`).
 *
 * @module
 */

import { exists, have, sha256 } from "../_helpers/e2e.ts";

/** The checks, for the guest's `/init` and for {@linkcode bridgeChecks}. */
export const GUEST_CHECKS = `say() { echo "PT $*"; }
state=\${state:-/tmp}
ip link set lo up
ip link set eth0 up || say error no eth0
udhcpc -i eth0 -n -q -t 5 -T 2 -O mtu -s "\${dhcp_script:-/dhcp.sh}" >/dev/null 2>&1
if [ -f "$state/dhcp.env" ]; then
	. "$state/dhcp.env"
	mtu=$(ip link show eth0 | sed -n 's/.* mtu \\([0-9]*\\).*/\\1/p')
	say dhcp ip=$ip mask=$subnet router=$router dns=$dns mtu=$mtu
else
	say dhcp failed
fi
if ping -c 2 -W 5 "$router" >/dev/null 2>&1; then say ping ok; else say ping failed; fi
if [ "$checks" = full ]; then
	sum=$(timeout 120 wget -q -O - "http://$router:$http_port/blob" | sha256sum)
	say http \${sum%% *}
	nc -l -p "$fwd_port" > "$state/fwd" &
	nc_pid=$!
	sleep 1
	say listening
	i=0
	while kill -0 $nc_pid 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
	sum=$(sha256sum < "$state/fwd")
	say fwd $(wc -c < "$state/fwd") \${sum%% *}
	rm -f "$state/fwd"
	reply=$(echo udp-echo-check | socat -T 5 - "UDP4:$router:$udp_port" 2>&1)
	say udp $reply
	i=0
	while [ $i -lt 20 ]; do
		a6=$(ip -6 addr show dev eth0 scope global | grep -v tentative | sed -n 's/.*inet6 \\([^ ]*\\).*/\\1/p' | head -n 1)
		[ -n "$a6" ] && break
		sleep 1
		i=$((i + 1))
	done
	say ipv6 \${a6:-none}
	gw6=$(ip -6 route show default | sed -n 's/.*via \\([^ ]*\\).*/\\1/p' | head -n 1)
	if [ -n "$gw6" ] && ping -c 1 -W 5 "$gw6%eth0" >/dev/null 2>&1; then say ping6 ok; else say ping6 failed $gw6; fi
fi
say done
`;

/** The guest's `/init`: busybox, modules, the checks, power off. */
export const GUEST_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m.ko || echo "PT insmod $m failed"; done
. /checks.sh
poweroff -f
`;

/** udhcpc's script in the guest: configure eth0, keep what the server said. */
export const DHCP_SCRIPT = `#!/bin/sh
case "$1" in
bound|renew)
	[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
	ifconfig "$interface" "$ip" netmask "$subnet"
	for r in $router; do ip route add default via "$r" dev "$interface"; break; done
	echo "ip=$ip subnet=$subnet router='$router' dns='$dns'" > "\${state:-/tmp}/dhcp.env"
	;;
esac
`;

/** Modules for virtio-net over PCI, in load order (those built in are skipped). */
const MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_modern_dev",
  "virtio_pci_legacy_dev",
  "virtio_pci",
  "failover",
  "net_failover",
  "virtio_net",
];

/** Programs copied into the guest, with the libraries they need. */
const PROGRAMS = ["/usr/bin/busybox", "/usr/bin/socat"];

/** Kernel and initramfs for {@linkcode bootGuest}. */
export interface GuestImage {
  kernel: string;
  initrd: string;
  version: string;
}

/** Where built images are kept between runs. */
export function cacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return xdg ? `${xdg}/passt-deno` : "/tmp/passt-deno-cache";
}

/** Finds a kernel with its modules: `/boot/vmlinuz-VER` and `/lib/modules/VER`. */
export function findKernel(
  root = "/",
): { kernel: string; version: string; modules: string } | null {
  let names: string[];
  try {
    names = [...Deno.readDirSync(`${root}/boot`)].map((e) => e.name).sort().reverse();
  } catch {
    return null;
  }
  for (const n of names) {
    if (!n.startsWith("vmlinuz-")) continue;
    const version = n.slice("vmlinuz-".length);
    const modules = `${root}/lib/modules/${version}`;
    if (exists(modules)) return { kernel: `${root}/boot/${n}`, version, modules };
  }
  return null;
}

/** Whether QEMU and a usable kernel are installed; else the reason to skip. */
export function guestUnavailable(): string | null {
  if (!have("qemu-system-x86_64")) return "qemu-system-x86_64 not installed";
  if (!findKernel(kernelRoot())) return "no kernel in /boot with its /lib/modules";
  for (const p of PROGRAMS) if (!exists(p)) return `${p} not installed`;
  return null;
}

function kernelRoot(): string {
  return Deno.env.get("GUEST_KERNEL_ROOT") ?? "/";
}

async function sh(cmd: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", cmd], stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** Libraries (and the loader) that `ldd` lists for `bin`. */
async function libsOf(bin: string): Promise<string[]> {
  const out = await sh(`ldd ${bin} || true`);
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = line.match(/(\/[^ ]+) \(0x/);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

async function pipeFrom(argv: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), stdout: "piped" }).output();
  if (!out.success) throw new Error(`${argv.join(" ")} failed`);
  return out.stdout;
}

/** A writer for the kernel's initramfs format: cpio "newc" (SVR4 without CRC). */
class Cpio {
  #parts: Uint8Array[] = [];
  #ino = 1;
  #dirs = new Set<string>();

  #entry(name: string, mode: number, data: Uint8Array): void {
    const enc = new TextEncoder();
    const nameBytes = enc.encode(name + "\0");
    const fields = [
      this.#ino++,
      mode,
      0,
      0,
      mode & 0o040000 ? 2 : 1,
      0,
      data.length,
      0,
      0,
      0,
      0,
      nameBytes.length,
      0,
    ];
    const hdr = "070701" + fields.map((v) => v.toString(16).padStart(8, "0")).join("");
    this.#parts.push(enc.encode(hdr), nameBytes, this.#pad(110 + nameBytes.length));
    this.#parts.push(data, this.#pad(data.length));
  }

  #pad(n: number): Uint8Array {
    return new Uint8Array((4 - (n % 4)) % 4);
  }

  /** Adds a directory (once). */
  dir(name: string): void {
    if (this.#dirs.has(name)) return;
    this.#dirs.add(name);
    this.#entry(name, 0o040755, new Uint8Array(0));
  }

  /** Adds a regular file. */
  file(name: string, data: Uint8Array, perm: number): void {
    this.#entry(name, 0o100000 | perm, data);
  }

  /** Adds a symbolic link `name` pointing to `target`. */
  symlink(name: string, target: string): void {
    this.#entry(name, 0o120777, new TextEncoder().encode(target));
  }

  /** The archive, with its trailer. */
  finish(): Uint8Array<ArrayBuffer> {
    this.#entry("TRAILER!!!", 0, new Uint8Array(0));
    const total = this.#parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of this.#parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/** Builds (or finds in the cache) the guest's kernel and initramfs. */
export async function guestImage(): Promise<GuestImage> {
  const k = findKernel(kernelRoot());
  if (!k) throw new Error("no kernel found");
  const builtin = exists(`${k.modules}/modules.builtin`)
    ? Deno.readTextFileSync(`${k.modules}/modules.builtin`)
    : "";
  const mods: { name: string; path: string }[] = [];
  for (const name of MODULES) {
    if (builtin.includes(`/${name}.ko\n`)) continue;
    const found = (await sh(`find ${k.modules}/kernel -name '${name}.ko*' | head -n 1`)).trim();
    if (found) mods.push({ name, path: found });
  }
  const files = [...PROGRAMS];
  for (const p of PROGRAMS) files.push(...await libsOf(p));
  const uniq = [...new Set(files)];
  let key = GUEST_INIT + GUEST_CHECKS + DHCP_SCRIPT + k.version;
  for (const f of [...uniq, ...mods.map((m) => m.path)]) {
    const st = Deno.statSync(f);
    key += `${f}:${st.size}:${st.mtime?.getTime()}\n`;
  }
  const hash = (await sha256(new TextEncoder().encode(key))).slice(0, 16);
  const dir = cacheDir();
  const initrd = `${dir}/initrd-${k.version}-${hash}.cpio.gz`;
  if (exists(initrd)) return { kernel: k.kernel, initrd, version: k.version };

  const cpio = new Cpio();
  for (const d of ["bin", "dev", "lib", "lib/modules", "proc", "sys", "tmp"]) cpio.dir(d);
  for (const f of uniq) {
    const parts = f.split("/").filter((x) => x);
    for (let i = 1; i < parts.length; i++) cpio.dir(parts.slice(0, i).join("/"));
    cpio.file(parts.join("/"), Deno.readFileSync(Deno.realPathSync(f)), 0o755);
  }
  cpio.symlink("bin/busybox", "/usr/bin/busybox");
  cpio.symlink("bin/sh", "busybox");
  for (const m of mods) {
    let data: Uint8Array;
    if (m.path.endsWith(".xz")) data = await pipeFrom(["xz", "-dc", m.path]);
    else if (m.path.endsWith(".zst")) data = await pipeFrom(["zstd", "-qdc", m.path]);
    else data = Deno.readFileSync(m.path);
    cpio.file(`lib/modules/${m.name}.ko`, data, 0o644);
  }
  const enc = new TextEncoder();
  cpio.file("modules.order", enc.encode(mods.map((m) => m.name).join("\n") + "\n"), 0o644);
  cpio.file("init", enc.encode(GUEST_INIT), 0o755);
  cpio.file("checks.sh", enc.encode(GUEST_CHECKS), 0o644);
  cpio.file("dhcp.sh", enc.encode(DHCP_SCRIPT), 0o755);
  const gz = await new Response(
    new Blob([cpio.finish()]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = `${initrd}.${Deno.pid}`;
  Deno.writeFileSync(tmp, gz);
  Deno.renameSync(tmp, initrd);
  return { kernel: k.kernel, initrd, version: k.version };
}

/** What a guest printed. */
export interface GuestResult {
  /** `PT name rest...` lines: name to rest. */
  checks: Map<string, string>;
  /** The whole serial console. */
  console: string;
  /** QEMU's exit status (or null when it was killed at the deadline). */
  code: number | null;
  /** Milliseconds from start to exit. */
  ms: number;
}

/** Options for {@linkcode bootGuest}. */
export interface BootOptions {
  /** Parameters for the init script (`checks`, `http_port`, ...). */
  params: Record<string, string>;
  /** Kill QEMU after this many milliseconds. */
  timeoutMs: number;
  /** Called with each `PT` line as it comes. */
  onCheck?: (name: string, rest: string) => void | Promise<void>;
  /** Connect over vhost-user (guest memory in a shared memfd) instead of the stream. */
  vhostUser?: boolean;
}

/** Boots the guest on the passt socket `sock` and collects its `PT` lines. */
export async function bootGuest(
  img: GuestImage,
  sock: string,
  opts: BootOptions,
): Promise<GuestResult> {
  const params = Object.entries(opts.params).map(([k, v]) => `${k}=${v}`).join(" ");
  const t0 = performance.now();
  const child = new Deno.Command("qemu-system-x86_64", {
    args: [
      "-accel",
      "tcg",
      "-m",
      "256",
      "-smp",
      "1",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-no-reboot",
      "-nodefaults",
      "-kernel",
      img.kernel,
      "-initrd",
      img.initrd,
      "-append",
      `console=ttyS0 quiet panic=-1 ipv6.disable=0 ${params}`,
      ...(opts.vhostUser
        ? [
          "-object",
          "memory-backend-memfd,id=mem,size=256M,share=on",
          "-numa",
          "node,memdev=mem",
          "-chardev",
          `socket,id=chr0,path=${sock}`,
          "-netdev",
          "vhost-user,id=s,chardev=chr0",
        ]
        : ["-netdev", `stream,id=s,server=off,addr.type=unix,addr.path=${sock}`]),
      "-device",
      // QEMU 7.2 under TCG crashes in msix_set_vector_notifiers() when a
      // vhost back end starts: the device runs without MSI-X (INTx) there.
      "virtio-net-pci,netdev=s,mac=52:54:00:12:34:56" + (opts.vhostUser ? ",vectors=0" : ""),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return await collect(child, opts, t0);
}

/** Reads `PT` lines from a guest-like child until it exits or the deadline passes. */
async function collect(
  child: Deno.ChildProcess,
  opts: BootOptions,
  t0: number,
): Promise<GuestResult> {
  let killed = false;
  const reader = child.stdout.getReader();
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    // Grandchildren may hold the pipe open: stop reading anyway.
    reader.cancel().catch(() => {});
  }, opts.timeoutMs);
  const checks = new Map<string, string>();
  let console = "";
  let partial = "";
  const dec = new TextDecoder();
  const errText = new Response(child.stderr).text();
  for (;;) {
    const { value: chunk, done } = await reader.read().catch(() => ({ value: null, done: true }));
    if (done || !chunk) break;
    const text = dec.decode(chunk, { stream: true });
    console += text;
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, "");
      partial = partial.slice(nl + 1);
      const m = line.match(/^PT (\S+) ?(.*)$/);
      if (!m) continue;
      checks.set(m[1]!, m[2]!);
      if (opts.onCheck) await opts.onCheck(m[1]!, m[2]!);
    }
  }
  const status = await child.status;
  clearTimeout(timer);
  // A grandchild (the checks' background nc, say) may hold standard error open
  // after the child ends: what it wrote by then, not a wait for ever
  console += await Promise.race([
    errText,
    new Promise<string>((r) => setTimeout(() => r(""), 2000)),
  ]);
  return {
    checks,
    console,
    code: killed ? null : status.code,
    ms: Math.round(performance.now() - t0),
  };
}

/**
 * Runs the same checks in a new network namespace whose eth0 is a tap device
 * bridged to `sock` by `tap_bridge.py` (what QEMU's stream netdev does), with
 * busybox applets first on the PATH; needs root.
 */
export function bridgeChecks(sock: string, opts: BootOptions): Promise<GuestResult> {
  return bridgeWith(["tap_bridge.py"], sock, opts);
}

/**
 * The same as {@linkcode bridgeChecks} over vhost-user: `vu_frontend.py bridge`
 * plays QEMU's part (guest memory in a memfd, the two virtqueues) for
 * `passt --vhost-user`; `flags` go to it (`--indirect`, `--no-mrg`...).
 */
export function vuBridgeChecks(
  sock: string,
  opts: BootOptions,
  flags: string[] = [],
): Promise<GuestResult> {
  return bridgeWith(["vu_frontend.py", ...flags, "bridge"], sock, opts);
}

async function bridgeWith(
  bridge: string[],
  sock: string,
  opts: BootOptions,
): Promise<GuestResult> {
  const dir = Deno.makeTempDirSync({ prefix: "passt-bridge-" });
  try {
    Deno.mkdirSync(`${dir}/bin`);
    const inst = await new Deno.Command("busybox", { args: ["--install", "-s", `${dir}/bin`] })
      .output();
    if (!inst.success) throw new Error("busybox --install failed");
    Deno.writeTextFileSync(`${dir}/dhcp.sh`, DHCP_SCRIPT, { mode: 0o755 });
    Deno.chmodSync(`${dir}/dhcp.sh`, 0o755);
    const here = new URL(".", import.meta.url).pathname;
    const t0 = performance.now();
    // In a session of its own: whatever the checks leave running goes with it
    const child = new Deno.Command("setsid", {
      args: [
        "unshare",
        "-n",
        "python3",
        `${here}${bridge[0]}`,
        ...bridge.slice(1),
        sock,
        "sh",
        "-c",
        GUEST_CHECKS,
      ],
      env: {
        ...opts.params,
        PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        state: dir,
        dhcp_script: `${dir}/dhcp.sh`,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      return await collect(child, opts, t0);
    } finally {
      // setsid made the child its group's leader: the group ID is its PID
      new Deno.Command("kill", { args: ["-KILL", "--", `-${child.pid}`], stderr: "null" })
        .outputSync();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
