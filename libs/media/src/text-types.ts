/** SVG: an image that is also a document (scripts, external references, filters that cost CPU). */
export const SVG_TYPE = 'image/svg+xml';
export const HTML_TYPE = 'text/html';
export const XML_TYPE = 'application/xml';
/** Text with no markup at its start: CSV, JSON, source code, logs... (the declared type says which). */
export const PLAIN_TEXT_TYPE = 'text/plain';

/**
 * Names a text format from the first bytes of a file, for what magic-byte detection (file-type)
 * cannot see: SVG, HTML and XML are text, and an SVG without an `<?xml` line has no signature at
 * all (issue #11: a 139-byte `<svg>` with a `<script>` passed as image/png). Returns null for
 * bytes that are not text (an unknown binary format).
 *
 * The root element decides, after what may precede it: a UTF-8 BOM, whitespace, the XML
 * declaration and other processing instructions, comments and a doctype (with its internal
 * subset). Element names are compared without case: a browser or librsvg that would treat the
 * bytes as SVG or HTML must never find them filed as something milder.
 */
export function sniffTextType(head: Buffer): string | null {
  const text = decodeText(head);
  if (text === null) return null;
  const root = rootElement(text);
  if (root === null) return PLAIN_TEXT_TYPE;
  if (root === 'svg' || root.endsWith(':svg')) return SVG_TYPE;
  if (root === '!doctype html' || HTML_ROOTS.has(root)) return HTML_TYPE;
  return XML_TYPE;
}

/**
 * Elements that open an HTML document, after the WHATWG MIME Sniffing "HTML" patterns
 * (https://mimesniff.spec.whatwg.org/#identifying-a-resource-with-an-unknown-mime-type).
 */
const HTML_ROOTS = new Set(['html', 'head', 'body', 'script', 'iframe', 'h1', 'div', 'font', 'table', 'a', 'style', 'title', 'b', 'br', 'p']);

/** The head as text, or null when it holds bytes no text has (NUL, most C0 controls) or is not UTF-8. */
function decodeText(head: Buffer): string | null {
  if (head.length === 0) return null;
  let text: string;
  try {
    // The sample may end inside a multi-byte character: only a complete character can be invalid.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, completeUtf8Length(head)));
  } catch {
    return null;
  }
  for (let i = 0; i < text.length; i++) if (isBinaryControl(text.charCodeAt(i))) return null;
  return text;
}

/** Tab, line feed, form feed and carriage return are text; other C0 controls and DEL mean a binary format. */
function isBinaryControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0c && code !== 0x0d) || code === 0x7f;
}

/** Length of `bytes` without a trailing, incomplete UTF-8 sequence. */
function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) !== 0x80) {
      // A lead byte: keep it only if its sequence is complete.
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/**
 * The lower-cased name of the first element (`svg`, `svg:svg`, `html`), `!doctype html` for an HTML
 * doctype, or null when the text does not open with markup. A prolog that runs past the sample
 * gives '' (markup of no known kind: XML); an honest SVG does not hide its root that far.
 */
function rootElement(text: string): string | null {
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (at < text.length && /\s/.test(text[at])) at++;
    if (text.startsWith('<?', at)) at = skipPast(text, at, '?>');
    else if (text.startsWith('<!--', at)) at = skipPast(text, at, '-->');
    else if (/^<!doctype\s+html[\s>]/i.test(text.slice(at, at + 15))) return '!doctype html';
    else if (/^<!doctype/i.test(text.slice(at, at + 9))) at = skipDoctype(text, at);
    else break;
    if (at < 0) return '';
  }
  const name = /^<([a-z_][\w.:-]*)(?=[\s/>]|$)/i.exec(text.slice(at, at + 100));
  return name ? name[1].toLowerCase() : null;
}

function skipPast(text: string, from: number, end: string): number {
  const found = text.indexOf(end, from);
  return found < 0 ? -1 : found + end.length;
}

/** Past `<!DOCTYPE ...>`, including an internal subset in brackets (which may hold `>`). */
function skipDoctype(text: string, from: number): number {
  let depth = 0;
  for (let i = from + 2; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']') depth--;
    else if (text[i] === '>' && depth <= 0) return i + 1;
  }
  return -1;
}
