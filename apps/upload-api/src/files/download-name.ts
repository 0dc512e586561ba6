import { create as contentDisposition } from 'content-disposition';

// Bidirectional controls let "gnp.exe" display as "exe.png"; path separators mean nothing in a download.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const SEPARATORS = /[/\\]/g;

/** Types a browser would render as a page (script): always served as attachments. */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'application/javascript',
  'text/javascript',
]);

/** The name a download is offered under: the original, minus what could deceive or traverse. */
export function downloadName(filename: string): string {
  const cleaned = filename.replace(BIDI, '').replace(SEPARATORS, '_').trim();
  return cleaned || 'download';
}

/**
 * A Content-Disposition safe for any filename (RFC 6266, with RFC 5987 `filename*` for
 * non-ASCII names and an ASCII fallback), inline only for types a browser will not execute.
 */
export function dispositionFor(filename: string, contentType: string, requested: 'inline' | 'attachment' = 'attachment'): string {
  const type = ACTIVE_TYPES.has(contentType.split(';')[0].trim().toLowerCase()) ? 'attachment' : requested;
  return contentDisposition(downloadName(filename), { type });
}
