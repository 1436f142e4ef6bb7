// A tiny file logger: blessed owns stdout in the TUI, so the engine never prints.
import { appendFileSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogSink = (line: string) => void;

export function createLogger(file: string | null, extraSink?: LogSink): Logger {
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}`;
    if (file) {
      try { appendFileSync(file, line + '\n', { mode: 0o600 }); } catch { /* logging must never break the engine */ }
    }
    extraSink?.(line);
  };
  return {
    debug: (m, f) => { if (process.env.BANGER_DEBUG) write('debug', m, f); },
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
