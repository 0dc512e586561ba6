import { UploadClient } from '@app/sdk';
import { PlatformApi } from './api';
import { ResolvedConfig } from './config';
import { UsageError } from './exit-codes';
import { Output } from './output';
import { StateStore, targetOf } from './state-store';

/** What every command gets: the resolved configuration, its output and the clients built from it. */
export class Context {
  readonly store: StateStore;

  constructor(
    readonly config: ResolvedConfig,
    readonly out: Output,
  ) {
    this.store = new StateStore(config.stateDir);
  }

  get url(): string {
    if (!this.config.url) throw new UsageError('no API URL: pass --url, set UPL_URL, or `upl config set url <url>`');
    return this.config.url;
  }

  /** Where this configuration's uploads go (the state file keys uploads by it). */
  get target(): string {
    return targetOf(this.url, this.config.owner);
  }

  private get token(): string {
    if (!this.config.token) throw new UsageError('no credential: pass --token, set UPL_TOKEN, or `upl config set token <token>`');
    return this.config.token;
  }

  uploadClient(): UploadClient {
    return new UploadClient({ baseUrl: this.url, token: this.token, ownerId: this.config.owner });
  }

  api(): PlatformApi {
    return new PlatformApi({ baseUrl: this.url, token: this.token, ownerId: this.config.owner });
  }

  adminApi(): PlatformApi {
    const token = this.config.adminToken;
    if (!token) throw new UsageError('no admin token: pass --admin-token, set UPL_ADMIN_TOKEN, or `upl config set adminToken <token>`');
    return new PlatformApi({ baseUrl: this.url, token });
  }
}
