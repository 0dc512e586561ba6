import { UploadApiError } from '@app/sdk';
import { causeOf } from './api';
import { exitCodeFor } from './exit-codes';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An error as data: the API problem's `code` and `detail`, or the message of anything else. */
export function describeError(error: unknown): { code: string; status?: number; detail: string; exitCode: number } {
  if (error instanceof UploadApiError) return { code: error.code, status: error.status, detail: error.message, exitCode: exitCodeFor(error) };
  if (error instanceof TypeError && error.message === 'fetch failed') return { code: 'network_error', detail: causeOf(error), exitCode: exitCodeFor(error) };
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && error.name === 'UsageError' ? 'usage' : 'error';
  return { code, detail: message, exitCode: exitCodeFor(error) };
}

/** `upl: not_found (404): No such file.` — what a person reads on stderr. */
export function errorLine(error: unknown): string {
  const d = describeError(error);
  return `${d.code}${d.status ? ` (${d.status})` : ''}: ${d.detail}`;
}

export interface Output {
  json: boolean;
  /** A result: one JSON line in --json mode, the text otherwise. */
  result(data: unknown, text: string | (() => string)): void;
  /** Human-only information (stderr, so stdout stays clean for pipes). */
  info(text: string): void;
  error(error: unknown): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(data, text) {
      if (json) stdout.write(`${JSON.stringify(data)}\n`);
      else stdout.write(`${typeof text === 'function' ? text() : text}\n`);
    },
    info(text) {
      if (!json) stderr.write(`${text}\n`);
    },
    error(error) {
      if (json) stdout.write(`${JSON.stringify({ error: describeError(error) })}\n`);
      stderr.write(`upl: ${errorLine(error)}\n`);
    },
  };
}

/** Columns padded to their widest cell; the last one is left as it is. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
