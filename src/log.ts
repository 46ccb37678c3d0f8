// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `log.ts` - logging: levels, stderr, syslog, log file with a size cap
 *
 * Theory of operation: messages have a level (err, warn, info, debug, trace).
 * Until {@linkcode setLogTargets} says otherwise, everything at or above the
 * current level goes to stderr (as upstream does before daemonising). Later,
 * messages go to the log file alone when one is given (`--log-file`), else to
 * syslog (through a sink that the caller provides, since `/dev/log` is a datagram
 * socket reached over FFI) and also to stderr when in the foreground or with
 * `--stderr`.
 *
 * Callers on the packet path test {@linkcode debugEnabled} or
 * {@linkcode traceEnabled} before building a message, or use the rate-limited
 * variants, which take a call-site slot and the current time and build nothing
 * when suppressed.
 *
 * The log file starts with a header line; when the next message would take it
 * past the size cap, about 30% of the file, rounded up to whole lines, is cut
 * from the start, and the header records when that happened.
 *
 * @module
 */

/** Log levels, ordered as syslog priorities. */
export const Level = { ERR: 3, WARN: 4, INFO: 6, DEBUG: 7 } as const;
/** One of the {@linkcode Level} values. */
export type Level = typeof Level[keyof typeof Level];

const PREFIX: Record<number, string> = {
  [Level.ERR]: "ERROR: ",
  [Level.WARN]: "WARNING: ",
  [Level.INFO]: "info: ",
  [Level.DEBUG]: "       ",
};

/** Minimum size of a log file (upstream: 5 * max(BUFSIZ, PAGE_SIZE)). */
export const LOG_SIZE_MIN = 40960;
/** Default size of a log file (`--log-size`). */
export const LOG_SIZE_DEFAULT = 1024 * 1024;
/** Share of a full log file that is cut from its start. */
const LOGFILE_CUT_RATIO = 30;

/** Sink for syslog datagrams, given the full `<pri>ident: message` text. */
export type SyslogSink = (text: string) => void;

interface LogFile {
  file: Deno.FsFile;
  size: number;
  written: number;
  header: string;
}

const encoder = new TextEncoder();
let maxLevel: Level = Level.INFO;
let trace = false;
let toStderr = true;
let syslogSink: SyslogSink | null = null;
let logFile: LogFile | null = null;
let ident = "passt";
let timestamps = false;
const start = performance.now();

/** Sets the name used in syslog messages and the log file header. */
export function setIdent(name: string): void {
  ident = name;
}

/** Sets the most verbose level printed; `traceOn` also enables per-packet messages. */
export function setLevel(level: Level, traceOn = false): void {
  maxLevel = level;
  trace = traceOn;
  timestamps = level >= Level.DEBUG;
}

/** Whether debug messages are printed. */
export function debugEnabled(): boolean {
  return maxLevel >= Level.DEBUG;
}

/** Whether per-packet trace messages are printed. */
export function traceEnabled(): boolean {
  return trace;
}

/** Chooses where messages go once start-up is over. */
export function setLogTargets(opts: { stderr: boolean; syslog: SyslogSink | null }): void {
  toStderr = opts.stderr;
  syslogSink = opts.syslog;
}

/** Opens the log file: truncated, header line first; later messages go only there. */
export function openLogFile(path: string, size: number, exe: string, version: string): void {
  const file = Deno.openSync(path, {
    read: true,
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  const header = `${ident} ${version}: ${exe} (${Deno.pid})\n`;
  const bytes = encoder.encode(header);
  file.writeSync(bytes);
  logFile = { file, size, written: bytes.length, header };
}

/** Flushes and closes the log file, if any. */
export function closeLogFile(): void {
  if (!logFile) return;
  try {
    logFile.file.syncSync();
    logFile.file.close();
  } catch {
    // nothing left to report to
  }
  logFile = null;
}

function stamp(): string {
  const t = (performance.now() - start) / 1000;
  const sec = Math.floor(t);
  const frac = Math.floor((t - sec) * 10000);
  return `${sec}.${String(frac).padStart(4, "0")}`;
}

function rotate(lf: LogFile, need: number): void {
  const data = new Uint8Array(lf.written);
  lf.file.seekSync(0, Deno.SeekMode.Start);
  let got = 0;
  while (got < data.length) {
    const n = lf.file.readSync(data.subarray(got));
    if (n === null || n === 0) break;
    got += n;
  }
  const headerLen = encoder.encode(lf.header).length;
  let cut = headerLen + Math.ceil(((lf.written - headerLen) * LOGFILE_CUT_RATIO) / 100);
  cut = Math.max(cut, headerLen + need);
  while (cut < got && data[cut - 1] !== 0x0a) cut++;
  const header = encoder.encode(`${lf.header.trimEnd()} - log truncated at ${stamp()}\n`);
  const tail = data.subarray(Math.min(cut, got), got);
  lf.file.seekSync(0, Deno.SeekMode.Start);
  lf.file.writeSync(header);
  let off = 0;
  while (off < tail.length) off += lf.file.writeSync(tail.subarray(off));
  lf.written = header.length + tail.length;
  lf.file.truncateSync(lf.written);
  lf.file.seekSync(lf.written, Deno.SeekMode.Start);
}

function writeLogFile(lf: LogFile, level: Level, msg: string): void {
  const line = encoder.encode(`${stamp()}: ${PREFIX[level]}${msg}\n`);
  try {
    if (lf.written + line.length >= lf.size) rotate(lf, line.length);
    let off = 0;
    while (off < line.length) off += lf.file.writeSync(line.subarray(off));
    lf.written += line.length;
  } catch {
    // a failing log file must never stop forwarding
  }
}

function emit(level: Level, msg: string): void {
  if (level > maxLevel) return;
  if (logFile) {
    writeLogFile(logFile, level, msg);
    return;
  }
  if (syslogSink) {
    try {
      syslogSink(`<${level}>${ident}: ${msg}`);
    } catch {
      // syslog is best effort
    }
  }
  if (toStderr) {
    const text = timestamps ? `${stamp()}: ${msg}\n` : `${msg}\n`;
    try {
      Deno.stderr.writeSync(encoder.encode(text));
    } catch {
      // stderr closed
    }
  }
}

/** Logs an error. */
export function err(msg: string): void {
  emit(Level.ERR, msg);
}

/** Logs a warning. */
export function warn(msg: string): void {
  emit(Level.WARN, msg);
}

/** Logs an informational message. */
export function info(msg: string): void {
  emit(Level.INFO, msg);
}

/** Logs a debug message; on hot paths, test {@linkcode debugEnabled} first. */
export function debug(msg: string): void {
  emit(Level.DEBUG, msg);
}

/** Logs a per-packet message if `--trace` is on. */
export function traceMsg(msg: string): void {
  if (trace) emit(Level.DEBUG, msg);
}

/** Per-call-site state of a rate-limited message: burst count and window start. */
export class RateLimit {
  #windowStart = -Infinity;
  #count = 0;
  #suppressed = 0;

  /** Creates a limit of `burst` messages per `intervalMs`. */
  constructor(readonly burst = 5, readonly intervalMs = 1000) {}

  /** Whether a message may be printed now; reports suppressed ones when a window ends. */
  allow(now: number, level: Level = Level.DEBUG): boolean {
    if (level > maxLevel) return false;
    if (now - this.#windowStart >= this.intervalMs) {
      if (this.#suppressed > 0) emit(level, `(suppressed ${this.#suppressed} similar messages)`);
      this.#windowStart = now;
      this.#count = 0;
      this.#suppressed = 0;
    }
    if (this.#count < this.burst) {
      this.#count++;
      return true;
    }
    this.#suppressed++;
    return false;
  }
}

/**
 * A fixed message with a rate limit of its own, one per call site: nothing is
 * built when it is suppressed, so the packet path may log it.
 */
export class LimitedMessage extends RateLimit {
  /** `text`, at most `burst` times per `intervalMs`. */
  constructor(readonly text: string, burst = 5, intervalMs = 1000) {
    super(burst, intervalMs);
  }

  /** Logs the message at debug level, unless rate-limited. */
  debug(now: number): void {
    if (this.allow(now, Level.DEBUG)) emit(Level.DEBUG, this.text);
  }

  /** Logs the message as a warning, unless rate-limited. */
  warn(now: number): void {
    if (this.allow(now, Level.WARN)) emit(Level.WARN, this.text);
  }
}

/**
 * Logs a debug message through a rate limit; `make` runs only when the message
 * is printed, so nothing is built for a suppressed or disabled message.
 */
export function debugRatelimit(limit: RateLimit, now: number, make: () => string): void {
  if (limit.allow(now, Level.DEBUG)) emit(Level.DEBUG, make());
}

/** Logs an error through a rate limit. */
export function errRatelimit(limit: RateLimit, now: number, make: () => string): void {
  if (limit.allow(now, Level.ERR)) emit(Level.ERR, make());
}

/** Logs a warning through a rate limit. */
export function warnRatelimit(limit: RateLimit, now: number, make: () => string): void {
  if (limit.allow(now, Level.WARN)) emit(Level.WARN, make());
}
