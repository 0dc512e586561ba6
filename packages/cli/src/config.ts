import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from './exit-codes';

/** The settings a profile may hold; `upl config set <key> <value>` writes one. */
export const PROFILE_KEYS = ['url', 'syncUrl', 'token', 'owner', 'adminToken'] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];
export type Profile = Partial<Record<ProfileKey, string>>;

export interface ConfigFile {
  /** The profile used when neither --profile nor UPL_PROFILE names one. */
  defaultProfile?: string;
  profiles: Record<string, Profile>;
}

/** Global flags, as commander parsed them. */
export interface GlobalFlags {
  url?: string;
  syncUrl?: string;
  token?: string;
  owner?: string;
  adminToken?: string;
  profile?: string;
  stateDir?: string;
  config?: string;
}

/** The environment variables `upl` reads (and only these). */
export interface CliEnv {
  UPL_URL?: string;
  UPL_SYNC_URL?: string;
  UPL_TOKEN?: string;
  UPL_OWNER?: string;
  UPL_ADMIN_TOKEN?: string;
  UPL_PROFILE?: string;
  UPL_CONFIG?: string;
  UPL_STATE_DIR?: string;
  XDG_CONFIG_HOME?: string;
  XDG_STATE_HOME?: string;
  HOME?: string;
}

export interface ResolvedConfig {
  profile: string;
  url?: string;
  /** sync-notifier's base URL; the API's by default (one host behind the ingress). */
  syncUrl?: string;
  token?: string;
  owner?: string;
  adminToken?: string;
  configPath: string;
  stateDir: string;
}

/** Picks the fields of process.env that `upl` reads: the one place the CLI touches the environment. */
export function cliEnv(env: Record<string, string | undefined>): CliEnv {
  const keys: Array<keyof CliEnv> = [
    'UPL_URL',
    'UPL_SYNC_URL',
    'UPL_TOKEN',
    'UPL_OWNER',
    'UPL_ADMIN_TOKEN',
    'UPL_PROFILE',
    'UPL_CONFIG',
    'UPL_STATE_DIR',
    'XDG_CONFIG_HOME',
    'XDG_STATE_HOME',
    'HOME',
  ];
  const picked: CliEnv = {};
  for (const key of keys) if (env[key]) picked[key] = env[key];
  return picked;
}

export function configPath(flags: GlobalFlags, env: CliEnv): string {
  if (flags.config) return path.resolve(flags.config);
  if (env.UPL_CONFIG) return path.resolve(env.UPL_CONFIG);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home(env), '.config'), 'upl', 'config.json');
}

export function stateDir(flags: GlobalFlags, env: CliEnv): string {
  if (flags.stateDir) return path.resolve(flags.stateDir);
  if (env.UPL_STATE_DIR) return path.resolve(env.UPL_STATE_DIR);
  return path.join(env.XDG_STATE_HOME ?? path.join(home(env), '.local', 'state'), 'upl');
}

function home(env: CliEnv): string {
  if (!env.HOME) throw new UsageError('HOME is not set: name the config file with --config and the state directory with --state-dir.');
  return env.HOME;
}

/** Flags over environment over profile, setting by setting. */
export function resolveConfig(flags: GlobalFlags, env: CliEnv, file: ConfigFile, options: { createsProfile?: boolean } = {}): ResolvedConfig {
  const profileName = flags.profile ?? env.UPL_PROFILE ?? file.defaultProfile ?? 'default';
  const explicit = flags.profile ?? env.UPL_PROFILE;
  // A profile named but absent is a typo, except for `upl config set`, which is how one is made.
  if (explicit && !file.profiles[explicit] && !options.createsProfile)
    throw new UsageError(`no profile "${explicit}" in the config file (upl config set --profile ${explicit} url ...)`);
  const profile = file.profiles[profileName] ?? {};
  return {
    profile: profileName,
    url: flags.url ?? env.UPL_URL ?? profile.url,
    syncUrl: flags.syncUrl ?? env.UPL_SYNC_URL ?? profile.syncUrl,
    token: flags.token ?? env.UPL_TOKEN ?? profile.token,
    owner: flags.owner ?? env.UPL_OWNER ?? profile.owner,
    // An explicit --token also serves admin commands when no admin token is given as a flag.
    adminToken: flags.adminToken ?? flags.token ?? env.UPL_ADMIN_TOKEN ?? profile.adminToken,
    configPath: configPath(flags, env),
    stateDir: stateDir(flags, env),
  };
}

export async function readConfigFile(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${file} must hold a JSON object`);
  const { defaultProfile, profiles } = parsed as { defaultProfile?: unknown; profiles?: unknown };
  const result: ConfigFile = { profiles: {} };
  if (typeof defaultProfile === 'string') result.defaultProfile = defaultProfile;
  if (profiles && typeof profiles === 'object') {
    for (const [name, value] of Object.entries(profiles as Record<string, unknown>)) {
      if (!value || typeof value !== 'object') continue;
      const profile: Profile = {};
      for (const key of PROFILE_KEYS) {
        const v = (value as Record<string, unknown>)[key];
        if (typeof v === 'string') profile[key] = v;
      }
      result.profiles[name] = profile;
    }
  }
  return result;
}

/** Writes the config file readable by its owner only: it holds tokens. */
export async function writeConfigFile(file: string, config: ConfigFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

export function isProfileKey(key: string): key is ProfileKey {
  return (PROFILE_KEYS as readonly string[]).includes(key);
}

/** A token shown in `upl config get`: enough to recognise it, not to use it. */
export function mask(value: string): string {
  return value.length <= 8 ? '****' : `${value.slice(0, 4)}…${value.slice(-4)}`;
}
