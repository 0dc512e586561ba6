import { parse } from 'content-disposition';
import { dispositionFor, downloadName } from './download-name';

describe('download names', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', '.._.._etc_passwd'],
    ['a\u202Egnp.exe', 'agnp.exe'],
    ['dir\\file.txt', 'dir_file.txt'],
    ['\u202E', 'download'],
  ])('%j is offered as %j', (input, expected) => {
    expect(downloadName(input)).toBe(expected);
  });

  it('encodes any name into a header that parses back to it (RFC 6266 / 5987)', () => {
    for (const name of ['naïve résumé.pdf', '日本語.txt', 'quote"and;semi.txt', 'emoji 😀.png', 'x'.repeat(255)]) {
      const header = dispositionFor(name, 'application/pdf');
      expect(header).toMatch(/^attachment; /);
      // eslint-disable-next-line no-control-regex -- a header value must hold no control characters
      expect(header).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(parse(header).parameters.filename).toBe(name);
    }
  });

  it('serves types a browser would run as attachments even when inline is asked', () => {
    expect(dispositionFor('a.html', 'text/html', 'inline')).toMatch(/^attachment/);
    expect(dispositionFor('a.svg', 'image/svg+xml', 'inline')).toMatch(/^attachment/);
    expect(dispositionFor('a.jpg', 'image/jpeg', 'inline')).toMatch(/^inline/);
  });
});
