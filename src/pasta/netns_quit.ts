// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `netns_quit.ts` - exit when pasta's target namespace or process goes away
 *
 * A filesystem-bound namespace (`--netns PATH`, or a NAME under the run
 * directory) can't be watched directly (inotify doesn't work on nsfs files), so
 * we watch its directory for deletions and exit when the deleted name is our
 * namespace's. For a PID target, a pidfd becomes readable when the process
 * exits; so does a namespace path under /proc/PID/, where inotify sees nothing
 * (RootlessKit's `--netns=/proc/PID/ns/net`). `--no-netns-quit` disables
 * both. Both descriptors are opened at start-up, before any sandboxing.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { info, warn } from "../log.ts";
import { EpollType, type Loop } from "../loop/loop.ts";
import { EPOLLIN, IN_CLOEXEC, IN_DELETE, IN_MOVED_FROM, IN_NONBLOCK } from "../../ffi/sys.ts";
import { strerror } from "../../ffi/errno.ts";

/** Starts watching `netnsPath` (deleted) or `pid` (exited); calls `quit` then. */
export function watchTarget(loop: Loop, netnsPath: string, pid: number, quit: () => void): void {
  const ffi = lib();
  // inotify sees nothing in procfs: a /proc/PID/ns/net path goes with its process
  const proc = /^\/proc\/(\d+)\//.exec(netnsPath);
  if (proc !== null) {
    pid = Number(proc[1]);
    netnsPath = "";
  }
  if (netnsPath) {
    const slash = netnsPath.lastIndexOf("/");
    const dir = slash > 0 ? netnsPath.slice(0, slash) : "/";
    const base = netnsPath.slice(slash + 1);
    const fd = ffi.pf_inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      warn(`Cannot watch namespace ${netnsPath}: ${strerror(-fd)}`);
      return;
    }
    const wd = ffi.pf_inotify_add_watch(
      fd,
      new TextEncoder().encode(dir + "\0"),
      IN_DELETE | IN_MOVED_FROM,
    );
    if (wd < 0) {
      warn(`Cannot watch directory ${dir}: ${strerror(-wd)}`);
      ffi.pf_close(fd);
      return;
    }
    const buf = new Uint8Array(4096);
    const dv = new DataView(buf.buffer);
    const dec = new TextDecoder();
    loop.on(EpollType.NSQUIT_INOTIFY, (_ev, ifd) => {
      for (;;) {
        const n = ffi.pf_read(ifd, buf, 0, buf.length);
        if (n <= 0) return;
        for (let o = 0; o + 16 <= n;) {
          const len = dv.getUint32(o + 12, true);
          const nameBytes = buf.subarray(o + 16, Math.min(o + 16 + len, n));
          const end = nameBytes.indexOf(0);
          const name = dec.decode(end >= 0 ? nameBytes.subarray(0, end) : nameBytes);
          if (name === base) {
            info(`Namespace ${netnsPath} is gone, exiting`);
            quit();
            return;
          }
          o += 16 + len;
        }
      }
    });
    loop.add(fd, EpollType.NSQUIT_INOTIFY, 0, EPOLLIN);
    return;
  }
  if (pid > 0) {
    const fd = ffi.pf_pidfd_open(pid);
    if (fd < 0) {
      warn(`Cannot watch process ${pid}: ${strerror(-fd)}`);
      return;
    }
    loop.on(EpollType.NSQUIT_PIDFD, () => {
      info(`Process ${pid} is gone, exiting`);
      quit();
    });
    loop.add(fd, EpollType.NSQUIT_PIDFD, 0, EPOLLIN);
  }
}
