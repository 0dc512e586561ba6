// Writes the state diagram of docs/architecture.md from the state machine's table (the built
// libs/lifecycle). `npm run docs:state`; the unit tier fails while the committed one differs.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { withStateDiagram } = createRequire(import.meta.url)(path.join(root, 'dist/libs/lifecycle/src/state-diagram.js'));
const doc = path.join(root, 'docs/architecture.md');
await writeFile(doc, withStateDiagram(await readFile(doc, 'utf8')));
console.log('docs/architecture.md: state diagram written');
