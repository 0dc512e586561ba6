import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEnv, ConfigFile, configPath, readConfigFile, resolveConfig, stateDir, writeConfigFile } from './config';
import { UsageError } from './exit-codes';

const file: ConfigFile = {
  defaultProfile: 'work',
  profiles: {
    work: { url: 'https://profile.example', token: 'profile-token', owner: 'profile-owner', adminToken: 'profile-admin' },
    home: { url: 'https://home.example', token: 'home-token' },
  },
};

describe('configuration precedence: flags over environment over profile', () => {
  it('takes each setting from the profile when nothing else names it', () => {
    const c = resolveConfig({}, { HOME: '/home/u' }, file);
    expect(c).toMatchObject({ profile: 'work', url: 'https://profile.example', token: 'profile-token', owner: 'profile-owner', adminToken: 'profile-admin' });
  });

  it('the environment beats the profile, setting by setting', () => {
    const c = resolveConfig({}, { HOME: '/home/u', UPL_URL: 'https://env.example', UPL_ADMIN_TOKEN: 'env-admin' }, file);
    expect(c).toMatchObject({ url: 'https://env.example', token: 'profile-token', owner: 'profile-owner', adminToken: 'env-admin' });
  });

  it('flags beat the environment', () => {
    const c = resolveConfig(
      { url: 'https://flag.example', owner: 'flag-owner' },
      { HOME: '/h', UPL_URL: 'https://env.example', UPL_OWNER: 'env-owner', UPL_TOKEN: 'env-token' },
      file,
    );
    expect(c).toMatchObject({ url: 'https://flag.example', owner: 'flag-owner', token: 'env-token' });
  });

  it('--admin-token, then an explicit --token, serve admin commands before UPL_ADMIN_TOKEN', () => {
    expect(resolveConfig({ token: 't' }, { HOME: '/h', UPL_ADMIN_TOKEN: 'env-admin' }, file).adminToken).toBe('t');
    expect(resolveConfig({ token: 't', adminToken: 'a' }, { HOME: '/h' }, file).adminToken).toBe('a');
  });

  it('picks the profile from --profile, then UPL_PROFILE, then the default', () => {
    expect(resolveConfig({ profile: 'home' }, { HOME: '/h', UPL_PROFILE: 'work' }, file).url).toBe('https://home.example');
    expect(resolveConfig({}, { HOME: '/h', UPL_PROFILE: 'home' }, file).token).toBe('home-token');
    expect(resolveConfig({}, { HOME: '/h' }, { profiles: {} })).toMatchObject({ profile: 'default', url: undefined });
  });

  it('refuses a profile named explicitly that does not exist (a usage error), except to create it', () => {
    expect(() => resolveConfig({ profile: 'nope' }, { HOME: '/h' }, file)).toThrow(UsageError);
    expect(() => resolveConfig({}, { HOME: '/h', UPL_PROFILE: 'nope' }, file)).toThrow(UsageError);
    expect(resolveConfig({ profile: 'new' }, { HOME: '/h' }, file, { createsProfile: true })).toMatchObject({ profile: 'new', url: undefined });
  });

  it('finds the config file and the state directory under XDG dirs, else under HOME', () => {
    expect(configPath({}, { HOME: '/home/u' })).toBe('/home/u/.config/upl/config.json');
    expect(configPath({}, { HOME: '/home/u', XDG_CONFIG_HOME: '/xdg/config' })).toBe('/xdg/config/upl/config.json');
    expect(configPath({ config: '/etc/upl.json' }, { HOME: '/h', UPL_CONFIG: '/env.json' })).toBe('/etc/upl.json');
    expect(stateDir({}, { HOME: '/home/u' })).toBe('/home/u/.local/state/upl');
    expect(stateDir({}, { HOME: '/home/u', XDG_STATE_HOME: '/xdg/state' })).toBe('/xdg/state/upl');
    expect(stateDir({ stateDir: '/flag' }, { HOME: '/h', UPL_STATE_DIR: '/env' })).toBe('/flag');
    expect(stateDir({}, { HOME: '/h', UPL_STATE_DIR: '/env' })).toBe('/env');
  });

  it('reads only the variables it knows from the environment, ignoring empty ones', () => {
    expect(cliEnv({ UPL_URL: 'u', UPL_TOKEN: '', PATH: '/bin', HOME: '/h' })).toEqual({ UPL_URL: 'u', HOME: '/h' });
  });

  describe('the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'upl-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a missing file is an empty one', async () => {
      await expect(readConfigFile(path.join(dir, 'absent.json'))).resolves.toEqual({ profiles: {} });
    });

    it('round-trips, readable by its owner only (it holds tokens)', async () => {
      const target = path.join(dir, 'nested', 'config.json');
      await writeConfigFile(target, file);
      expect(await readConfigFile(target)).toEqual(file);
      expect(statSync(target).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual(file);
    });

    it('keeps only known settings, and says so when the file is not JSON', async () => {
      const target = path.join(dir, 'odd.json');
      writeFileSync(target, JSON.stringify({ profiles: { a: { url: 'u', colour: 'red', token: 42 } } }));
      expect(await readConfigFile(target)).toEqual({ profiles: { a: { url: 'u' } } });
      writeFileSync(target, '{ nope');
      await expect(readConfigFile(target)).rejects.toThrow(UsageError);
    });
  });
});
