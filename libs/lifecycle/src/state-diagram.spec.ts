import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderStateDiagram, withStateDiagram } from './state-diagram';

describe('the state diagram in docs/architecture.md', () => {
  it('is the one generated from the state machine (run `npm run docs:state` after changing it)', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/architecture.md'), 'utf8');
    expect(doc).toContain(renderStateDiagram());
    expect(withStateDiagram(doc)).toBe(doc);
  });

  it('draws every step of every from-status with its change and quota effect', () => {
    const diagram = renderStateDiagram();
    expect(diagram).toContain('completing --> uploaded: confirmUploaded / file.uploaded / commit');
    expect(diagram).toContain('processing --> rejected: rejectContent / file.rejected / free');
    expect(diagram).toContain('ready --> deleted: delete / file.deleted / free, removedFromStorage / file.deleted / free');
    expect(diagram).toContain('aborted --> [*]');
  });
});
