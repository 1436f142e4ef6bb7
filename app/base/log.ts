// A tiny file logger: blessed owns stdout in the TUI, so the engine never prints.
import { appendFileSync, renameSync } from 'node:fs';
import { fileSize } from './fsutil.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogSink = (line: string) => void;

/** Past this size the log file is rotated to FILE.1 (replacing the previous one). */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

export function createLogger(file: string | null, extraSink?: LogSink, opts: { maxBytes?: number } = {}): Logger {
  const maxBytes = opts.maxBytes ?? LOG_MAX_BYTES;
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}`;
    if (file) {
      // Sized on every write (not counted here): the detached engine's stdout appends to it too.
      // Logging must never break the engine, so failures here are dropped.
      try {
        if (fileSize(file) >= maxBytes) renameSync(file, `${file}.1`);
      } catch {
        /* keep appending */
      }
      try {
        appendFileSync(file, line + '\n', { mode: 0o600 });
      } catch {
        /* dropped */
      }
    }
    extraSink?.(line);
  };
  return {
    debug: (m, f) => {
      if (process.env.BANGER_DEBUG) write('debug', m, f);
    },
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
