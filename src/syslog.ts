// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `syslog.ts` - a syslog sink without libc's syslog(): one datagram per message
 *
 * As upstream, messages go to a datagram AF_UNIX socket connected to `/dev/log`
 * at start-up (before any sandboxing), in the `<pri>ident: message` form that
 * syslog daemons and journald accept. Sending never blocks; a full or missing
 * log daemon loses messages, never forwarding.
 *
 * @module
 */

import { lib } from "../ffi/lib.ts";
import type { SyslogSink } from "./log.ts";
import { sockaddrUn } from "./passt/tap_passt.ts";
import { AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_DGRAM } from "../ffi/sys.ts";

/** syslog facility LOG_DAEMON, added to each message's priority. */
const LOG_DAEMON = 3 << 3;

/** Connects to `path` (default /dev/log); returns a sink, or null if there is no log daemon. */
export function openSyslog(path = "/dev/log"): SyslogSink | null {
  const ffi = lib();
  const fd = ffi.pf_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return null;
  const sa = sockaddrUn(path);
  if (ffi.pf_connect(fd, sa, sa.length) < 0) {
    ffi.pf_close(fd);
    return null;
  }
  const enc = new TextEncoder();
  const buf = new Uint8Array(2048);
  return (text: string): void => {
    // "<level>ident: msg" from log.ts: add the facility to the priority.
    const m = /^<(\d+)>/.exec(text);
    const line = m ? `<${Number(m[1]) | LOG_DAEMON}>${text.slice(m[0].length)}` : text;
    const { written } = enc.encodeInto(line, buf);
    ffi.pf_send(fd, buf, 0, written, MSG_DONTWAIT | MSG_NOSIGNAL);
  };
}
