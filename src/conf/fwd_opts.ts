// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd_opts.ts` - `-t`, `-u`, `-T` and `-U` into forwarding rules
 *
 * Theory of operation: the options are collected in order while the command
 * line is read and turned into rules once the enabled families are known, as
 * upstream's second pass over the options: `-t`/`-u` into the `host` table,
 * `-T`/`-U` into the `splice` one (pasta), with `auto` for each one pasta
 * wasn't given. The syntax and its messages are `fwd/fwd_rule.ts`'s.
 *
 * @module
 */

import type { Mode } from "../context.ts";
import {
  type FwdCaps,
  type FwdOpt,
  type FwdRule,
  FwdRuleError,
  parseFwdSpec,
  parsePortRange,
  setEphemeralRange,
} from "../fwd/fwd_rule.ts";
import { readSysFileOr } from "../sysfile.ts";
import { ConfError } from "./conf_error.ts";

/** Where the host's ephemeral port range is. */
export const PORT_RANGE_SYSCTL = "/proc/sys/net/ipv4/ip_local_port_range";

/** The rule tables of a configuration. */
export interface FwdRules {
  /** -t and -u: from host sockets. */
  host: FwdRule[];
  /** -T and -U (pasta): from the namespace's loopback. */
  splice: FwdRule[];
}

/**
 * Builds the rule tables from the forwarding options `ports` (in the order
 * given) for `mode` with capabilities `caps`; `portRange` is the text of
 * {@linkcode PORT_RANGE_SYSCTL} (read when not given). Throws ConfError.
 */
export function confFwdRules(
  mode: Mode,
  ports: readonly [FwdOpt, string][],
  caps: FwdCaps,
  portRange?: string,
): FwdRules {
  const text = portRange ?? readSysFileOr(PORT_RANGE_SYSCTL);
  const r = parsePortRange(text);
  if (r !== null) setEphemeralRange(r[0], r[1]);
  const out: FwdRules = { host: [], splice: [] };
  const seen = new Set<FwdOpt>();
  try {
    for (const pass of [["t", "u"], ["T", "U"]]) {
      for (const [opt, arg] of ports) {
        if (!pass.includes(opt)) continue;
        seen.add(opt);
        parseFwdSpec(opt, arg, caps, opt === "t" || opt === "u" ? out.host : out.splice);
      }
    }
    if (mode === "pasta") {
      for (const opt of ["t", "T", "u", "U"] as const) {
        if (seen.has(opt)) continue;
        if (opt === "t" || opt === "T" ? !caps.tcp : !caps.udp) continue;
        parseFwdSpec(opt, "auto", caps, opt === "t" || opt === "u" ? out.host : out.splice);
      }
    }
  } catch (e) {
    if (e instanceof FwdRuleError) throw new ConfError(e.message);
    throw e;
  }
  return out;
}
