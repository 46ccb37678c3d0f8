// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `errno.ts` - Linux (x86_64) errno numbers, their names and glibc's text.
 *
 * The numbers are the kernel's; the messages are glibc's untranslated
 * `strerror()` strings, so that our messages read like upstream passt's.
 * `tests/ffi/errno_test.ts` compares every entry with the C library through
 * `pf_errno_name()` and `pf_strerror()`.
 *
 * @module
 */

/** Operation not permitted */
export const EPERM = 1;
/** No such file or directory */
export const ENOENT = 2;
/** No such process */
export const ESRCH = 3;
/** Interrupted system call */
export const EINTR = 4;
/** Input/output error */
export const EIO = 5;
/** No such device or address */
export const ENXIO = 6;
/** Argument list too long */
export const E2BIG = 7;
/** Exec format error */
export const ENOEXEC = 8;
/** Bad file descriptor */
export const EBADF = 9;
/** No child processes */
export const ECHILD = 10;
/** Resource temporarily unavailable */
export const EAGAIN = 11;
/** Cannot allocate memory */
export const ENOMEM = 12;
/** Permission denied */
export const EACCES = 13;
/** Bad address */
export const EFAULT = 14;
/** Block device required */
export const ENOTBLK = 15;
/** Device or resource busy */
export const EBUSY = 16;
/** File exists */
export const EEXIST = 17;
/** Invalid cross-device link */
export const EXDEV = 18;
/** No such device */
export const ENODEV = 19;
/** Not a directory */
export const ENOTDIR = 20;
/** Is a directory */
export const EISDIR = 21;
/** Invalid argument */
export const EINVAL = 22;
/** Too many open files in system */
export const ENFILE = 23;
/** Too many open files */
export const EMFILE = 24;
/** Inappropriate ioctl for device */
export const ENOTTY = 25;
/** Text file busy */
export const ETXTBSY = 26;
/** File too large */
export const EFBIG = 27;
/** No space left on device */
export const ENOSPC = 28;
/** Illegal seek */
export const ESPIPE = 29;
/** Read-only file system */
export const EROFS = 30;
/** Too many links */
export const EMLINK = 31;
/** Broken pipe */
export const EPIPE = 32;
/** Numerical argument out of domain */
export const EDOM = 33;
/** Numerical result out of range */
export const ERANGE = 34;
/** Resource deadlock avoided */
export const EDEADLK = 35;
/** File name too long */
export const ENAMETOOLONG = 36;
/** No locks available */
export const ENOLCK = 37;
/** Function not implemented */
export const ENOSYS = 38;
/** Directory not empty */
export const ENOTEMPTY = 39;
/** Too many levels of symbolic links */
export const ELOOP = 40;
/** No message of desired type */
export const ENOMSG = 42;
/** Identifier removed */
export const EIDRM = 43;
/** Channel number out of range */
export const ECHRNG = 44;
/** Level 2 not synchronized */
export const EL2NSYNC = 45;
/** Level 3 halted */
export const EL3HLT = 46;
/** Level 3 reset */
export const EL3RST = 47;
/** Link number out of range */
export const ELNRNG = 48;
/** Protocol driver not attached */
export const EUNATCH = 49;
/** No CSI structure available */
export const ENOCSI = 50;
/** Level 2 halted */
export const EL2HLT = 51;
/** Invalid exchange */
export const EBADE = 52;
/** Invalid request descriptor */
export const EBADR = 53;
/** Exchange full */
export const EXFULL = 54;
/** No anode */
export const ENOANO = 55;
/** Invalid request code */
export const EBADRQC = 56;
/** Invalid slot */
export const EBADSLT = 57;
/** Bad font file format */
export const EBFONT = 59;
/** Device not a stream */
export const ENOSTR = 60;
/** No data available */
export const ENODATA = 61;
/** Timer expired */
export const ETIME = 62;
/** Out of streams resources */
export const ENOSR = 63;
/** Machine is not on the network */
export const ENONET = 64;
/** Package not installed */
export const ENOPKG = 65;
/** Object is remote */
export const EREMOTE = 66;
/** Link has been severed */
export const ENOLINK = 67;
/** Advertise error */
export const EADV = 68;
/** Srmount error */
export const ESRMNT = 69;
/** Communication error on send */
export const ECOMM = 70;
/** Protocol error */
export const EPROTO = 71;
/** Multihop attempted */
export const EMULTIHOP = 72;
/** RFS specific error */
export const EDOTDOT = 73;
/** Bad message */
export const EBADMSG = 74;
/** Value too large for defined data type */
export const EOVERFLOW = 75;
/** Name not unique on network */
export const ENOTUNIQ = 76;
/** File descriptor in bad state */
export const EBADFD = 77;
/** Remote address changed */
export const EREMCHG = 78;
/** Can not access a needed shared library */
export const ELIBACC = 79;
/** Accessing a corrupted shared library */
export const ELIBBAD = 80;
/** .lib section in a.out corrupted */
export const ELIBSCN = 81;
/** Attempting to link in too many shared libraries */
export const ELIBMAX = 82;
/** Cannot exec a shared library directly */
export const ELIBEXEC = 83;
/** Invalid or incomplete multibyte or wide character */
export const EILSEQ = 84;
/** Interrupted system call should be restarted */
export const ERESTART = 85;
/** Streams pipe error */
export const ESTRPIPE = 86;
/** Too many users */
export const EUSERS = 87;
/** Socket operation on non-socket */
export const ENOTSOCK = 88;
/** Destination address required */
export const EDESTADDRREQ = 89;
/** Message too long */
export const EMSGSIZE = 90;
/** Protocol wrong type for socket */
export const EPROTOTYPE = 91;
/** Protocol not available */
export const ENOPROTOOPT = 92;
/** Protocol not supported */
export const EPROTONOSUPPORT = 93;
/** Socket type not supported */
export const ESOCKTNOSUPPORT = 94;
/** Operation not supported */
export const EOPNOTSUPP = 95;
/** Protocol family not supported */
export const EPFNOSUPPORT = 96;
/** Address family not supported by protocol */
export const EAFNOSUPPORT = 97;
/** Address already in use */
export const EADDRINUSE = 98;
/** Cannot assign requested address */
export const EADDRNOTAVAIL = 99;
/** Network is down */
export const ENETDOWN = 100;
/** Network is unreachable */
export const ENETUNREACH = 101;
/** Network dropped connection on reset */
export const ENETRESET = 102;
/** Software caused connection abort */
export const ECONNABORTED = 103;
/** Connection reset by peer */
export const ECONNRESET = 104;
/** No buffer space available */
export const ENOBUFS = 105;
/** Transport endpoint is already connected */
export const EISCONN = 106;
/** Transport endpoint is not connected */
export const ENOTCONN = 107;
/** Cannot send after transport endpoint shutdown */
export const ESHUTDOWN = 108;
/** Too many references: cannot splice */
export const ETOOMANYREFS = 109;
/** Connection timed out */
export const ETIMEDOUT = 110;
/** Connection refused */
export const ECONNREFUSED = 111;
/** Host is down */
export const EHOSTDOWN = 112;
/** No route to host */
export const EHOSTUNREACH = 113;
/** Operation already in progress */
export const EALREADY = 114;
/** Operation now in progress */
export const EINPROGRESS = 115;
/** Stale file handle */
export const ESTALE = 116;
/** Structure needs cleaning */
export const EUCLEAN = 117;
/** Not a XENIX named type file */
export const ENOTNAM = 118;
/** No XENIX semaphores available */
export const ENAVAIL = 119;
/** Is a named type file */
export const EISNAM = 120;
/** Remote I/O error */
export const EREMOTEIO = 121;
/** Disk quota exceeded */
export const EDQUOT = 122;
/** No medium found */
export const ENOMEDIUM = 123;
/** Wrong medium type */
export const EMEDIUMTYPE = 124;
/** Operation canceled */
export const ECANCELED = 125;
/** Required key not available */
export const ENOKEY = 126;
/** Key has expired */
export const EKEYEXPIRED = 127;
/** Key has been revoked */
export const EKEYREVOKED = 128;
/** Key was rejected by service */
export const EKEYREJECTED = 129;
/** Owner died */
export const EOWNERDEAD = 130;
/** State not recoverable */
export const ENOTRECOVERABLE = 131;
/** Operation not possible due to RF-kill */
export const ERFKILL = 132;
/** Memory page has hardware error */
export const EHWPOISON = 133;
/** Same as {@linkcode EAGAIN} */
export const EWOULDBLOCK = EAGAIN;
/** Same as {@linkcode EDEADLK} */
export const EDEADLOCK = EDEADLK;
/** Same as {@linkcode EOPNOTSUPP} */
export const ENOTSUP = EOPNOTSUPP;

/** Every errno: number, name, glibc message. */
const TABLE: readonly (readonly [number, string, string])[] = [
  [EPERM, "EPERM", "Operation not permitted"],
  [ENOENT, "ENOENT", "No such file or directory"],
  [ESRCH, "ESRCH", "No such process"],
  [EINTR, "EINTR", "Interrupted system call"],
  [EIO, "EIO", "Input/output error"],
  [ENXIO, "ENXIO", "No such device or address"],
  [E2BIG, "E2BIG", "Argument list too long"],
  [ENOEXEC, "ENOEXEC", "Exec format error"],
  [EBADF, "EBADF", "Bad file descriptor"],
  [ECHILD, "ECHILD", "No child processes"],
  [EAGAIN, "EAGAIN", "Resource temporarily unavailable"],
  [ENOMEM, "ENOMEM", "Cannot allocate memory"],
  [EACCES, "EACCES", "Permission denied"],
  [EFAULT, "EFAULT", "Bad address"],
  [ENOTBLK, "ENOTBLK", "Block device required"],
  [EBUSY, "EBUSY", "Device or resource busy"],
  [EEXIST, "EEXIST", "File exists"],
  [EXDEV, "EXDEV", "Invalid cross-device link"],
  [ENODEV, "ENODEV", "No such device"],
  [ENOTDIR, "ENOTDIR", "Not a directory"],
  [EISDIR, "EISDIR", "Is a directory"],
  [EINVAL, "EINVAL", "Invalid argument"],
  [ENFILE, "ENFILE", "Too many open files in system"],
  [EMFILE, "EMFILE", "Too many open files"],
  [ENOTTY, "ENOTTY", "Inappropriate ioctl for device"],
  [ETXTBSY, "ETXTBSY", "Text file busy"],
  [EFBIG, "EFBIG", "File too large"],
  [ENOSPC, "ENOSPC", "No space left on device"],
  [ESPIPE, "ESPIPE", "Illegal seek"],
  [EROFS, "EROFS", "Read-only file system"],
  [EMLINK, "EMLINK", "Too many links"],
  [EPIPE, "EPIPE", "Broken pipe"],
  [EDOM, "EDOM", "Numerical argument out of domain"],
  [ERANGE, "ERANGE", "Numerical result out of range"],
  [EDEADLK, "EDEADLK", "Resource deadlock avoided"],
  [ENAMETOOLONG, "ENAMETOOLONG", "File name too long"],
  [ENOLCK, "ENOLCK", "No locks available"],
  [ENOSYS, "ENOSYS", "Function not implemented"],
  [ENOTEMPTY, "ENOTEMPTY", "Directory not empty"],
  [ELOOP, "ELOOP", "Too many levels of symbolic links"],
  [ENOMSG, "ENOMSG", "No message of desired type"],
  [EIDRM, "EIDRM", "Identifier removed"],
  [ECHRNG, "ECHRNG", "Channel number out of range"],
  [EL2NSYNC, "EL2NSYNC", "Level 2 not synchronized"],
  [EL3HLT, "EL3HLT", "Level 3 halted"],
  [EL3RST, "EL3RST", "Level 3 reset"],
  [ELNRNG, "ELNRNG", "Link number out of range"],
  [EUNATCH, "EUNATCH", "Protocol driver not attached"],
  [ENOCSI, "ENOCSI", "No CSI structure available"],
  [EL2HLT, "EL2HLT", "Level 2 halted"],
  [EBADE, "EBADE", "Invalid exchange"],
  [EBADR, "EBADR", "Invalid request descriptor"],
  [EXFULL, "EXFULL", "Exchange full"],
  [ENOANO, "ENOANO", "No anode"],
  [EBADRQC, "EBADRQC", "Invalid request code"],
  [EBADSLT, "EBADSLT", "Invalid slot"],
  [EBFONT, "EBFONT", "Bad font file format"],
  [ENOSTR, "ENOSTR", "Device not a stream"],
  [ENODATA, "ENODATA", "No data available"],
  [ETIME, "ETIME", "Timer expired"],
  [ENOSR, "ENOSR", "Out of streams resources"],
  [ENONET, "ENONET", "Machine is not on the network"],
  [ENOPKG, "ENOPKG", "Package not installed"],
  [EREMOTE, "EREMOTE", "Object is remote"],
  [ENOLINK, "ENOLINK", "Link has been severed"],
  [EADV, "EADV", "Advertise error"],
  [ESRMNT, "ESRMNT", "Srmount error"],
  [ECOMM, "ECOMM", "Communication error on send"],
  [EPROTO, "EPROTO", "Protocol error"],
  [EMULTIHOP, "EMULTIHOP", "Multihop attempted"],
  [EDOTDOT, "EDOTDOT", "RFS specific error"],
  [EBADMSG, "EBADMSG", "Bad message"],
  [EOVERFLOW, "EOVERFLOW", "Value too large for defined data type"],
  [ENOTUNIQ, "ENOTUNIQ", "Name not unique on network"],
  [EBADFD, "EBADFD", "File descriptor in bad state"],
  [EREMCHG, "EREMCHG", "Remote address changed"],
  [ELIBACC, "ELIBACC", "Can not access a needed shared library"],
  [ELIBBAD, "ELIBBAD", "Accessing a corrupted shared library"],
  [ELIBSCN, "ELIBSCN", ".lib section in a.out corrupted"],
  [ELIBMAX, "ELIBMAX", "Attempting to link in too many shared libraries"],
  [ELIBEXEC, "ELIBEXEC", "Cannot exec a shared library directly"],
  [EILSEQ, "EILSEQ", "Invalid or incomplete multibyte or wide character"],
  [ERESTART, "ERESTART", "Interrupted system call should be restarted"],
  [ESTRPIPE, "ESTRPIPE", "Streams pipe error"],
  [EUSERS, "EUSERS", "Too many users"],
  [ENOTSOCK, "ENOTSOCK", "Socket operation on non-socket"],
  [EDESTADDRREQ, "EDESTADDRREQ", "Destination address required"],
  [EMSGSIZE, "EMSGSIZE", "Message too long"],
  [EPROTOTYPE, "EPROTOTYPE", "Protocol wrong type for socket"],
  [ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available"],
  [EPROTONOSUPPORT, "EPROTONOSUPPORT", "Protocol not supported"],
  [ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", "Socket type not supported"],
  [EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported"],
  [EPFNOSUPPORT, "EPFNOSUPPORT", "Protocol family not supported"],
  [EAFNOSUPPORT, "EAFNOSUPPORT", "Address family not supported by protocol"],
  [EADDRINUSE, "EADDRINUSE", "Address already in use"],
  [EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address"],
  [ENETDOWN, "ENETDOWN", "Network is down"],
  [ENETUNREACH, "ENETUNREACH", "Network is unreachable"],
  [ENETRESET, "ENETRESET", "Network dropped connection on reset"],
  [ECONNABORTED, "ECONNABORTED", "Software caused connection abort"],
  [ECONNRESET, "ECONNRESET", "Connection reset by peer"],
  [ENOBUFS, "ENOBUFS", "No buffer space available"],
  [EISCONN, "EISCONN", "Transport endpoint is already connected"],
  [ENOTCONN, "ENOTCONN", "Transport endpoint is not connected"],
  [ESHUTDOWN, "ESHUTDOWN", "Cannot send after transport endpoint shutdown"],
  [ETOOMANYREFS, "ETOOMANYREFS", "Too many references: cannot splice"],
  [ETIMEDOUT, "ETIMEDOUT", "Connection timed out"],
  [ECONNREFUSED, "ECONNREFUSED", "Connection refused"],
  [EHOSTDOWN, "EHOSTDOWN", "Host is down"],
  [EHOSTUNREACH, "EHOSTUNREACH", "No route to host"],
  [EALREADY, "EALREADY", "Operation already in progress"],
  [EINPROGRESS, "EINPROGRESS", "Operation now in progress"],
  [ESTALE, "ESTALE", "Stale file handle"],
  [EUCLEAN, "EUCLEAN", "Structure needs cleaning"],
  [ENOTNAM, "ENOTNAM", "Not a XENIX named type file"],
  [ENAVAIL, "ENAVAIL", "No XENIX semaphores available"],
  [EISNAM, "EISNAM", "Is a named type file"],
  [EREMOTEIO, "EREMOTEIO", "Remote I/O error"],
  [EDQUOT, "EDQUOT", "Disk quota exceeded"],
  [ENOMEDIUM, "ENOMEDIUM", "No medium found"],
  [EMEDIUMTYPE, "EMEDIUMTYPE", "Wrong medium type"],
  [ECANCELED, "ECANCELED", "Operation canceled"],
  [ENOKEY, "ENOKEY", "Required key not available"],
  [EKEYEXPIRED, "EKEYEXPIRED", "Key has expired"],
  [EKEYREVOKED, "EKEYREVOKED", "Key has been revoked"],
  [EKEYREJECTED, "EKEYREJECTED", "Key was rejected by service"],
  [EOWNERDEAD, "EOWNERDEAD", "Owner died"],
  [ENOTRECOVERABLE, "ENOTRECOVERABLE", "State not recoverable"],
  [ERFKILL, "ERFKILL", "Operation not possible due to RF-kill"],
  [EHWPOISON, "EHWPOISON", "Memory page has hardware error"],
];

const NAMES: string[] = [];
const MESSAGES: string[] = [];
for (const [n, name, msg] of TABLE) {
  NAMES[n] = name;
  MESSAGES[n] = msg;
}
const BY_NAME = new Map<string, number>(TABLE.map(([n, name]) => [name, n]));

/** Largest errno number in the table. */
export const ERRNO_MAX = EHWPOISON;

/**
 * Symbolic name of an errno, such as `"EPERM"`; the sign is ignored, so a
 * `-errno` return value can be passed as is.
 *
 * @param n Error number, positive or negative
 * @returns The name, or `"errno <n>"` for a number Linux doesn't define
 */
export function errnoName(n: number): string {
  const e = Math.abs(n);
  return NAMES[e] ?? `errno ${e}`;
}

/**
 * glibc's message for an errno, such as `"Operation not permitted"`; the
 * sign is ignored.
 *
 * @param n Error number, positive or negative
 * @returns The message, or `"Unknown error <n>"` as glibc prints it
 */
export function strerror(n: number): string {
  const e = Math.abs(n);
  return MESSAGES[e] ?? `Unknown error ${e}`;
}

/**
 * Number of a symbolic errno name, aliases included.
 *
 * @param name Name such as `"ECONNREFUSED"`
 * @returns The number, or `undefined` if there's no such name
 */
export function errnoByName(name: string): number | undefined {
  switch (name) {
    case "EWOULDBLOCK":
      return EWOULDBLOCK;
    case "EDEADLOCK":
      return EDEADLOCK;
    case "ENOTSUP":
      return ENOTSUP;
  }
  return BY_NAME.get(name);
}

/**
 * The strerror() text of an error from Deno's file API ("No such file or
 * directory (os error 2): open '/x'" gives "No such file or directory"), or
 * the first line of any other error's message.
 */
export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /\(os error (\d+)\)/.exec(msg);
  if (m !== null) return strerror(Number(m[1]));
  return msg.split("\n", 1)[0] ?? msg;
}
