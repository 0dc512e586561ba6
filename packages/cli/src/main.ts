import { cliEnv } from './config';
import { runCli } from './program';

// The one place the CLI reads the environment: the variables it knows are picked here, once.
// eslint-disable-next-line no-restricted-syntax -- a CLI's configuration is its environment (README, Configuration)
const env = cliEnv(process.env);

// `upl --json ls | head -1`: the reader is gone, which is no failure of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

runCli(process.argv.slice(2), env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`upl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
