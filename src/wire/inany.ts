// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `inany.ts` - IPv4 and IPv6 addresses as numbers: comparison, copies, classes
 *
 * The one place that knows what an address looks like in words (upstream's
 * `inany.h` and the `IN6_IS_ADDR_*` macros). Two forms:
 *
 * - IPv4 alone is an unsigned 32-bit number of the dotted quad (192.0.2.1 is
 *   0xc0000201): the `ip4Is*` tests.
 * - IPv6 is four big-endian 32-bit words (2001:db8::1 is
 *   `[0x20010db8, 0, 0, 1]`). An "inany" address is either family in that
 *   form, IPv4 as the IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, words
 *   `[0, 0, 0xffff, a]`). Flowsides and rules keep inany addresses inside
 *   larger `Uint32Array`s, so those helpers take the array and a word offset;
 *   the `ip6*` helpers take a whole four-word array.
 *
 * Everything here is pure and allocates nothing: it serves the packet path.
 * Textual forms are in `../ip.ts`; addresses inside packets in `ipv6.ts`.
 *
 * @module
 */

// -- IPv4 --------------------------------------------------------------------

/** Whether an IPv4 address is in 127.0.0.0/8. */
export function ip4IsLoopback(a: number): boolean {
  return a >>> 24 === 127;
}

/** Whether an IPv4 address is 0.0.0.0. */
export function ip4IsUnspecified(a: number): boolean {
  return a >>> 0 === 0;
}

/** Whether an IPv4 address is in 224.0.0.0/4. */
export function ip4IsMulticast(a: number): boolean {
  return a >>> 28 === 0xe;
}

/** Whether an IPv4 address is the limited broadcast 255.255.255.255. */
export function ip4IsBroadcast(a: number): boolean {
  return a >>> 0 === 0xffffffff;
}

/** Whether an IPv4 address is in 169.254.0.0/16. */
export function ip4IsLinkLocal(a: number): boolean {
  return a >>> 16 === 0xa9fe;
}

// -- IPv6, whole four-word arrays ---------------------------------------------

/** Whether two IPv6 (or inany) addresses are equal. */
export function ip6Equal(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Whether an IPv6 address is all zeroes (also used for "unset"). */
export function ip6IsZero(a: Uint32Array): boolean {
  return (a[0]! | a[1]! | a[2]! | a[3]!) === 0;
}

/** Whether an IPv6 address is ::1. */
export function ip6IsLoopback(a: Uint32Array): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 1;
}

/** Whether an IPv6 address is ::. */
export function ip6IsUnspecified(a: Uint32Array): boolean {
  return ip6IsZero(a);
}

/** Whether an IPv6 address is in ff00::/8. */
export function ip6IsMulticast(a: Uint32Array): boolean {
  return a[0]! >>> 24 === 0xff;
}

/** Whether an IPv6 address is in fe80::/10. */
export function ip6IsLinkLocal(a: Uint32Array): boolean {
  return isLinkLocal6(a, 0);
}

/** Whether an IPv6 address is v4-mapped (::ffff:0:0/96). */
export function ip6IsV4Mapped(a: Uint32Array): boolean {
  return isV4(a, 0);
}

/** Whether an IPv6 address is v4-compatible (::/96 except :: and ::1), as glibc's macro. */
export function ip6IsV4Compat(a: Uint32Array): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3]! > 1;
}

// -- inany, at a word offset --------------------------------------------------

/** Whether the address at `o` is IPv4-mapped. */
export function isV4(w: Uint32Array, o: number): boolean {
  return w[o] === 0 && w[o + 1] === 0 && w[o + 2] === 0xffff;
}

/** Writes IPv4 `a` (host-order number) at `o` as an IPv4-mapped address. */
export function setV4(w: Uint32Array, o: number, a: number): void {
  w[o] = 0;
  w[o + 1] = 0;
  w[o + 2] = 0xffff;
  w[o + 3] = a;
}

/** Writes the IPv6 words `a` at `o`. */
export function setV6(w: Uint32Array, o: number, a: Uint32Array): void {
  copyAddr(w, o, a, 0);
}

/** Copies the address at `so` in `s` to `o` in `w`. */
export function copyAddr(w: Uint32Array, o: number, s: Uint32Array, so: number): void {
  w[o] = s[so]!;
  w[o + 1] = s[so + 1]!;
  w[o + 2] = s[so + 2]!;
  w[o + 3] = s[so + 3]!;
}

/** Whether the address at `o` is IPv4 `a` (mapped). */
export function equals4(w: Uint32Array, o: number, a: number): boolean {
  return isV4(w, o) && w[o + 3] === (a >>> 0);
}

/** Whether the address at `o` is the IPv6 address `a` (and not IPv4-mapped). */
export function equals6(w: Uint32Array, o: number, a: Uint32Array): boolean {
  return w[o] === a[0] && w[o + 1] === a[1] && w[o + 2] === a[2] && w[o + 3] === a[3];
}

/** Whether the address at `o` is unspecified (0.0.0.0 mapped, or ::). */
export function isUnspecified(w: Uint32Array, o: number): boolean {
  return (w[o]! | w[o + 1]!) === 0 && (w[o + 2] === 0 || w[o + 2] === 0xffff) && w[o + 3] === 0;
}

/** Whether the address at `o` is loopback (127.0.0.0/8 mapped, or ::1). */
export function isLoopback(w: Uint32Array, o: number): boolean {
  if (isV4(w, o)) return ip4IsLoopback(w[o + 3]!);
  return (w[o]! | w[o + 1]! | w[o + 2]!) === 0 && w[o + 3] === 1;
}

/** Whether the address at `o` is multicast, or IPv4 limited broadcast. */
export function isMulticast(w: Uint32Array, o: number): boolean {
  if (isV4(w, o)) {
    const a = w[o + 3]!;
    return ip4IsMulticast(a) || ip4IsBroadcast(a);
  }
  return w[o]! >>> 24 === 0xff;
}

/** Whether the address at `o` is specified and unicast (upstream `inany_is_unicast()`). */
export function isUnicast(w: Uint32Array, o: number): boolean {
  return !isUnspecified(w, o) && !isMulticast(w, o);
}

/** Whether the address at `o` is IPv6 link-local (fe80::/10). */
export function isLinkLocal6(w: Uint32Array, o: number): boolean {
  return w[o]! >>> 22 === 0xfe80 >>> 6;
}
