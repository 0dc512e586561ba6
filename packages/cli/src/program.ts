import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliEnv, configPath, GlobalFlags, readConfigFile, resolveConfig } from './config';
import { Context } from './context';
import { EXIT_CODES_HELP, ExitCode, exitCodeFor } from './exit-codes';
import { createOutput } from './output';
import { configSet, configShow, configUnset, configUse } from './commands/config';
import { downloadCommand, infoCommand, listCommand, removeCommand } from './commands/files';
import { keysList, keysRevoke, keysRotate, tenantsCreate, tenantsGet, tenantsList, tenantsRemove, tenantsUpdate, TenantFlags } from './commands/admin';
import { resumeCommand, uploadCommand, UploadFlags } from './commands/upload';
import { watchCommand } from './commands/watch';

declare const __UPL_VERSION__: string | undefined;
export const VERSION = typeof __UPL_VERSION__ === 'string' ? __UPL_VERSION__ : '0.0.0-dev';

const ENV_HELP = `Configuration (flags over environment over profile):
  --url, UPL_URL              upload-api's base URL
  --sync-url, UPL_SYNC_URL    sync-notifier's base URL (default: --url)
  --token, UPL_TOKEN          a user token, or a tenant API key with --owner
  --owner, UPL_OWNER          the owner an API key acts for (X-Owner-Id)
  --admin-token, UPL_ADMIN_TOKEN   for \`upl tenants\` and \`upl keys\`
  --profile, UPL_PROFILE      a profile of $XDG_CONFIG_HOME/upl/config.json (~/.config/upl/config.json)
  --state-dir, UPL_STATE_DIR  where unfinished uploads are remembered ($XDG_STATE_HOME/upl, ~/.local/state/upl)`;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

/** The whole CLI: parses argv, runs one command, and answers its exit code (never calls process.exit itself). */
export async function runCli(argv: string[], env: CliEnv): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let json = argv.includes('--json');

  const program = new Command('upl')
    .description('Upload files to the upload platform, straight to storage, resumably; list, download and delete them; follow changes.')
    .version(VERSION, '-V, --version')
    .option('--url <url>', "upload-api's base URL (UPL_URL)")
    .option('--sync-url <url>', "sync-notifier's base URL, when not behind the same host (UPL_SYNC_URL)")
    .option('--token <token>', 'user token, or tenant API key with --owner (UPL_TOKEN)')
    .option('--owner <id>', 'owner an API key acts for (UPL_OWNER)')
    .option('--admin-token <token>', 'admin token for tenants and keys (UPL_ADMIN_TOKEN)')
    .option('--profile <name>', 'profile of the config file (UPL_PROFILE)')
    .option('--config <file>', 'config file (UPL_CONFIG)')
    .option('--state-dir <dir>', 'state directory (UPL_STATE_DIR)')
    .option('--json', 'machine output: one JSON object per line on stdout')
    .addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_CODES_HELP}\n`)
    .showHelpAfterError('(upl --help lists the commands and options)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  /** Wraps a command: resolves configuration and output, runs it, keeps its exit code. */
  const act =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number> | number, options: { createsProfile?: boolean } = {}) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals<GlobalFlags & { json?: boolean }>();
      json = Boolean(globals.json);
      const config = resolveConfig(globals, env, await readConfigFile(configPath(globals, env)), options);
      exitCode = await fn(new Context(config, createOutput(json)), ...(args.slice(0, -1) as A));
    };

  const uploadOptions = (cmd: Command) =>
    cmd
      .option('-p, --parallel <n>', 'files sent at once', positiveInt, 4)
      .option('-c, --concurrency <n>', 'parts of one file sent at once', positiveInt, 4)
      .option('--wait', "wait until storage's event marks each file uploaded", false)
      .addOption(
        new Option('--progress <mode>', 'progress display (auto: bars on a terminal, lines otherwise)')
          .choices(['auto', 'bar', 'line', 'none'])
          .default('auto'),
      );

  uploadOptions(
    program
      .command('upload')
      .description('upload files and folders (recursively); run the same command again to continue after Ctrl-C or a crash')
      .argument('<paths...>', 'files and folders')
      .option('-t, --type <mime>', 'content type of every file (default: from the extension)'),
  ).action(act((ctx, paths: string[], flags: UploadFlags) => uploadCommand(ctx, paths, flags)));

  uploadOptions(program.command('resume').description('continue every unfinished upload the state directory knows (for this URL and owner)')).action(
    act((ctx, flags: UploadFlags) => resumeCommand(ctx, flags)),
  );

  program
    .command('ls')
    .description("list the owner's files, newest first")
    .option('--status <status>', 'only files in this status (ready, uploaded, processing, ...)')
    .option('--type <prefix>', 'only content types starting with this (image/, video/mp4)')
    .option('--name <prefix>', 'only filenames starting with this')
    .option('--after <iso-date>', 'created after')
    .option('--before <iso-date>', 'created before')
    .option('-n, --limit <n>', 'at most this many', positiveInt, 50)
    .option('-a, --all', 'every file (all pages)', false)
    .action(act((ctx, flags: Parameters<typeof listCommand>[1]) => listCommand(ctx, flags)));

  program
    .command('info')
    .description('show one file (or an upload still under way)')
    .argument('<id>')
    .action(act((ctx, id: string) => infoCommand(ctx, id)));

  program
    .command('download')
    .description('download a file (streamed to disk, SHA-256 checked)')
    .argument('<id>')
    .option('-o, --output <path>', 'where to write it ("-": stdout; default: its filename, here)')
    .option('--variant <name>', 'a variant instead of the original (thumb, preview, poster)')
    .addOption(new Option('--progress <mode>', 'progress display').choices(['auto', 'bar', 'line', 'none']).default('auto'))
    .action(act((ctx, id: string, flags: Parameters<typeof downloadCommand>[2]) => downloadCommand(ctx, id, flags)));

  program
    .command('rm')
    .description('delete files (an upload still under way is aborted)')
    .argument('<ids...>')
    .action(act((ctx, ids: string[]) => removeCommand(ctx, ids)));

  program
    .command('watch')
    .description("follow the owner's changes live; remembers where it stopped")
    .option('--from-start', 'from the oldest change retained, not from where the last watch stopped', false)
    .option('--count <n>', 'stop after this many changes', positiveInt)
    .action(act((ctx, flags: Parameters<typeof watchCommand>[1]) => watchCommand(ctx, flags)));

  const tenantOptions = (cmd: Command) =>
    cmd
      .option('--quota <size>', 'storage quota (e.g. 500GiB)')
      .option('--max-file-size <size>', 'largest file (e.g. 10GiB)')
      .option('--allowed-types <patterns>', 'comma-separated MIME patterns (image/*,video/mp4); empty: any')
      .option('--dedup-scope <scope>', 'instant uploads across the owner or the tenant')
      .option('--svg', 'make raster variants of SVG files')
      .option('--no-svg', 'store SVG files as they are');

  const tenants = program.command('tenants').description('administer tenants (admin token)');
  tenantOptions(tenants.command('create').description('create a tenant and its first API key (shown once)').argument('<name>')).action(
    act((ctx, name: string, flags: TenantFlags) => tenantsCreate(ctx, name, flags)),
  );
  tenants
    .command('ls')
    .description('list tenants')
    .action(act((ctx) => tenantsList(ctx)));
  tenants
    .command('get')
    .description('show a tenant')
    .argument('<id>')
    .action(act((ctx, id: string) => tenantsGet(ctx, id)));
  tenantOptions(tenants.command('update').description("change a tenant's settings").argument('<id>').option('--name <name>', 'new name')).action(
    act((ctx, id: string, flags: TenantFlags) => tenantsUpdate(ctx, id, flags)),
  );
  tenants
    .command('rm')
    .description('delete a tenant (refused while it holds files, unless --force)')
    .argument('<id>')
    .option('--force', 'delete it with every file it holds', false)
    .action(act((ctx, id: string, flags: { force: boolean }) => tenantsRemove(ctx, id, flags)));

  const keys = program.command('keys').description("administer a tenant's API keys (admin token)");
  keys
    .command('ls')
    .argument('<tenant-id>')
    .description("list a tenant's API keys")
    .action(act((ctx, tenantId: string) => keysList(ctx, tenantId)));
  keys
    .command('rotate')
    .argument('<tenant-id>')
    .description('issue a new key (shown once); the old ones stay valid for --grace seconds')
    .option('--grace <seconds>', 'how long the old keys keep working')
    .action(act((ctx, tenantId: string, flags: { grace?: string }) => keysRotate(ctx, tenantId, flags)));
  keys
    .command('revoke')
    .argument('<tenant-id>')
    .argument('<key-id>')
    .description('revoke one key now')
    .action(act((ctx, tenantId: string, keyId: string) => keysRevoke(ctx, tenantId, keyId)));

  const config = program.command('config').description('profiles in the config file');
  config
    .command('set')
    .description('set url, syncUrl, token, owner or adminToken in a profile')
    .argument('<key>')
    .argument('<value>')
    .action(act((ctx, key: string, value: string) => configSet(ctx.config, ctx.out, key, value), { createsProfile: true }));
  config
    .command('unset')
    .argument('<key>')
    .action(act((ctx, key: string) => configUnset(ctx.config, ctx.out, key)));
  config
    .command('use')
    .description('make a profile the default')
    .argument('<profile>')
    .action(act((ctx, profile: string) => configUse(ctx.config, ctx.out, profile)));
  config
    .command('show')
    .description('the settings in effect (tokens masked unless --reveal)')
    .option('--reveal', 'show tokens in full', false)
    .action(act((ctx, flags: { reveal: boolean }) => configShow(ctx.config, ctx.out, flags.reveal)));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with 0; every parsing error (unknown flag, missing argument) is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    createOutput(json).error(error);
    return exitCodeFor(error);
  }
  return exitCode;
}
