import { PLAIN_TEXT_TYPE, XML_TYPE } from './text-types';

/** Declared types that claim nothing about the content: the detected type stands. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

/**
 * Names one format goes by: browsers, operating systems and file-type do not agree on a spelling
 * (image/jpg, audio/x-wav, video/vnd.avi), and ISO-BMFF, Matroska and Ogg files carry brands that
 * are routinely mislabelled between their audio and video names. Each group is one format.
 */
const SAME_FORMAT: readonly string[][] = [
  ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  ['image/png', 'image/x-png', 'image/apng'],
  ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'],
  ['image/x-icon', 'image/vnd.microsoft.icon'],
  ['video/mp4', 'video/quicktime', 'video/x-m4v', 'video/3gpp', 'video/3gpp2', 'audio/mp4', 'audio/x-m4a', 'audio/m4a'],
  ['video/matroska', 'video/x-matroska', 'video/webm', 'audio/webm', 'audio/matroska', 'audio/x-matroska'],
  ['video/vnd.avi', 'video/x-msvideo', 'video/avi', 'video/msvideo'],
  ['audio/ogg', 'video/ogg', 'application/ogg', 'audio/opus'],
  ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'],
  ['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg-3'],
  ['audio/flac', 'audio/x-flac'],
  ['application/zip', 'application/x-zip-compressed', 'application/x-zip'],
  ['application/gzip', 'application/x-gzip'],
  ['application/xml', 'text/xml'],
];
const FORMAT_OF = new Map(SAME_FORMAT.flatMap((names) => names.map((name) => [name, names[0]] as const)));

/**
 * Containers file-type names as such when it cannot tell what they hold: an .xls, .doc or .msi is
 * application/x-cfb, many vendor formats (KMZ, IPA, Sketch) are a zip. Any application type may
 * be declared for them, never an image, video or text type.
 */
const CONTAINERS = new Set(['application/zip', 'application/x-cfb']);

/**
 * Text types: what may be declared for text the sniffing names (plain text is what CSV, JSON,
 * YAML and source code look like from their first bytes; XML goes by many names, KML and GPX
 * among them; a Markdown file may open with HTML). Declaring a text type for markup is no spoof,
 * since browsers do not run text served as such; the reverse, an active type such as SVG declared
 * for something else or something else declared as SVG, is.
 */
function isTextType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    /^application\/([\w.-]+\+)?(json|xml|javascript|ecmascript|x-javascript|yaml|x-yaml|toml|sql|x-sh|x-ndjson|csv|x-tex|x-latex)$/.test(type)
  );
}

/** Windows names .csv files after Excel when it is installed. */
const CSV_ON_WINDOWS = 'application/vnd.ms-excel';

const base = (type: string) => type.split(';')[0].trim().toLowerCase();

/**
 * Whether a declared content type agrees with the type the bytes were detected as (issue #11:
 * a declared type is never taken over the content's). Null detection (an unknown binary format)
 * disproves nothing; a generic declaration claims nothing.
 */
export function declaredTypeAgrees(declared: string, detected: string | null): boolean {
  if (detected === null) return true;
  const claim = base(declared);
  if (GENERIC_TYPES.has(claim)) return true;
  if ((FORMAT_OF.get(claim) ?? claim) === (FORMAT_OF.get(detected) ?? detected)) return true;
  if (CONTAINERS.has(detected)) return claim.startsWith('application/') && !isTextType(claim);
  if (detected.startsWith('text/') || detected === XML_TYPE) return isTextType(claim) || (detected === PLAIN_TEXT_TYPE && claim === CSV_ON_WINDOWS);
  return false;
}

/**
 * The type a verified file is judged and processed as: the detected one, except that plain text
 * keeps the text type it was declared as (text/csv, application/json: its bytes cannot say which),
 * and bytes of no known format keep their declaration. Call only when the two agree.
 */
export function verifiedType(declared: string, detected: string | null): string {
  if (detected === null) return declared;
  const claim = base(declared);
  return detected === PLAIN_TEXT_TYPE && (isTextType(claim) || claim === CSV_ON_WINDOWS) ? declared : detected;
}
