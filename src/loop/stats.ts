// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `stats.ts` - `--stats DELAY`: a table of events per descriptor kind
 *
 * Theory of operation: the loop counts every event it dispatches, per kind
 * ({@linkcode Loop.eventCounts}). With `--stats DELAY` (foreground only), a
 * deferred handler prints one line of the running totals to standard error
 * when at least DELAY seconds passed since the last line, as upstream's
 * print_stats(): every 20 lines, a header names the columns, one kind per
 * header line, each name after a `|` that stands over its column.
 *
 * @module
 */

import { EpollType, type Loop } from "./loop.ts";

/** Column titles, as upstream's epoll_type_str where the kind exists upstream. */
const NAMES: Partial<Record<EpollType, string>> = {
  [EpollType.SIGNAL]: "signal pipe",
  [EpollType.TAP_PASTA]: "/dev/net/tun device",
  [EpollType.TAP_PASST]: "connected qemu socket",
  [EpollType.TAP_LISTEN]: "listening qemu socket",
  [EpollType.NSQUIT_INOTIFY]: "namespace inotify watch",
  [EpollType.NSQUIT_PIDFD]: "namespace PID watch",
  [EpollType.TCP]: "connected TCP socket",
  [EpollType.TCP_SPLICE]: "connected spliced TCP socket",
  [EpollType.TCP_LISTEN]: "listening TCP socket",
  [EpollType.TCP_TIMER]: "TCP timer",
  [EpollType.UDP]: "UDP flow socket",
  [EpollType.UDP_LISTEN]: "listening UDP socket",
  [EpollType.ICMP]: "ICMP ping socket",
  [EpollType.ICMPV6]: "ICMPv6 ping socket",
};
/** Width of a column: six digits and a space. */
const COL = 7;
/** Lines between headers. */
const HEADER_EVERY = 20;

/** The title of the column for kind `type`. */
function columnName(type: number): string {
  const name = NAMES[type as EpollType];
  if (name !== undefined) return name;
  const key = Object.entries(EpollType).find(([, v]) => v === type)?.[0] ?? String(type);
  return key.toLowerCase().replaceAll("_", " ");
}

/** The header lines: one per kind, with a `|` over each earlier column. */
export function statsHeader(kinds: number): string[] {
  const out: string[] = [];
  for (let i = 1; i < kinds; i++) {
    let line = "";
    for (let j = 0; j < i * COL; j++) line += j > 0 && j % COL === 0 ? "|" : " ";
    out.push(line + columnName(i));
  }
  return out;
}

/** One line of counts, each right-aligned in its column. */
export function statsLine(counts: Float64Array): string {
  let line = " ";
  for (let i = 1; i < counts.length; i++) line += " " + String(counts[i]).padStart(6);
  return line;
}

/** Prints the statistics table every `delaySeconds` (at the loop's wake-ups) with `write`. */
export function enableStats(loop: Loop, delaySeconds: number, write: (text: string) => void): void {
  let before = -Infinity;
  let printed = 0;
  loop.defer((now) => {
    if (now - before < delaySeconds * 1000) return;
    before = now;
    let text = "";
    if (printed % HEADER_EVERY === 0) {
      text += statsHeader(loop.eventCounts.length).join("\n") + "\n";
    }
    text += statsLine(loop.eventCounts) + "\n";
    write(text);
    printed++;
  });
}
