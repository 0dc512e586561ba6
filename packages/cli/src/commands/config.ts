import { ConfigFile, isProfileKey, mask, PROFILE_KEYS, readConfigFile, ResolvedConfig, writeConfigFile } from '../config';
import { Output } from '../output';
import { ExitCode, UsageError } from '../exit-codes';

const SECRET = new Set(['token', 'adminToken']);

/** `upl config set <key> <value>` into the profile named by --profile (or the default one). */
export async function configSet(config: ResolvedConfig, out: Output, key: string, value: string, profile?: string): Promise<number> {
  if (!isProfileKey(key)) throw new UsageError(`unknown setting "${key}": one of ${PROFILE_KEYS.join(', ')}`);
  const file = await readConfigFile(config.configPath);
  const name = profile ?? config.profile;
  file.profiles[name] = { ...file.profiles[name], [key]: value };
  await writeConfigFile(config.configPath, file);
  out.result({ profile: name, key, configPath: config.configPath }, `set ${key} in profile "${name}" (${config.configPath})`);
  return ExitCode.ok;
}

export async function configUnset(config: ResolvedConfig, out: Output, key: string, profile?: string): Promise<number> {
  const file = await readConfigFile(config.configPath);
  const name = profile ?? config.profile;
  if (file.profiles[name]) delete file.profiles[name][key as keyof ConfigFile['profiles'][string]];
  await writeConfigFile(config.configPath, file);
  out.result({ profile: name, key }, `unset ${key} in profile "${name}"`);
  return ExitCode.ok;
}

/** `upl config use <profile>`: the profile used when none is named. */
export async function configUse(config: ResolvedConfig, out: Output, profile: string): Promise<number> {
  const file = await readConfigFile(config.configPath);
  if (!file.profiles[profile]) throw new UsageError(`no profile "${profile}" (create it with upl config set --profile ${profile} url <url>)`);
  file.defaultProfile = profile;
  await writeConfigFile(config.configPath, file);
  out.result({ defaultProfile: profile }, `default profile: ${profile}`);
  return ExitCode.ok;
}

/** `upl config show`: the settings in effect after flags, environment and profile (tokens masked). */
export function configShow(config: ResolvedConfig, out: Output, reveal: boolean): number {
  const shown: Record<string, string> = { profile: config.profile, configPath: config.configPath, stateDir: config.stateDir };
  for (const key of PROFILE_KEYS) {
    const value = config[key];
    if (value !== undefined) shown[key] = SECRET.has(key) && !reveal ? mask(value) : value;
  }
  out.result(shown, () =>
    Object.entries(shown)
      .map(([k, v]) => `${k.padEnd(11)} ${v}`)
      .join('\n'),
  );
  return ExitCode.ok;
}
