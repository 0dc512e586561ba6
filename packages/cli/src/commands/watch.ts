import { Change, ChangeFeed } from '@app/sdk';
import { Context } from '../context';
import { ExitCode } from '../exit-codes';

export interface WatchFlags {
  /** Start from the beginning of the retained history instead of the remembered cursor. */
  fromStart: boolean;
  /** Stop after this many changes (scripts, tests). */
  count?: number;
}

/**
 * `upl watch`: follows the owner's change feed live (the SDK's ChangeFeed over /v1/sync), one
 * line per change, and remembers the cursor of each change printed, so the next `upl watch`
 * starts after it. Ctrl-C stops it (exit 0: stopping is how a watch ends).
 */
export async function watchCommand(ctx: Context, flags: WatchFlags): Promise<number> {
  const target = ctx.target;
  const api = ctx.api();
  // The feed's WebSocket carries a user token; with a tenant API key, one is minted for --owner.
  const owner = ctx.config.owner;
  let minted: { token: string; expiresAt: number } | null = null;
  const token = async () => {
    if (!owner) return ctx.config.token!;
    if (!minted || minted.expiresAt - Date.now() < 60_000) {
      const t = await api.mintUserToken(owner);
      minted = { token: t.token, expiresAt: Date.parse(t.expiresAt) };
    }
    return minted.token;
  };
  await token(); // a refused credential fails here, with its exit code, not in a retry loop
  const cursor = flags.fromStart ? undefined : await ctx.store.cursor(target);
  let seen = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const feed = new ChangeFeed({
    baseUrl: ctx.config.syncUrl ?? ctx.url,
    token,
    cursor,
    onChange: async (change: Change) => {
      if (flags.count !== undefined && seen >= flags.count) return;
      ctx.out.result(change, () => humanLine(change));
      await ctx.store.setCursor(target, change.cursor);
      if (flags.count !== undefined && ++seen >= flags.count) finish();
    },
    onCursorExpired: () => {
      ctx.out.info('upl: the saved cursor is older than the feed keeps; continuing from the oldest change retained');
      return undefined;
    },
    onStatus: (status, detail) => {
      if (status === 'connected') ctx.out.info(`upl: watching changes${cursor ? ' after the saved cursor' : ''} (Ctrl-C to stop)`);
      else ctx.out.info(`upl: connection lost${detail?.code ? ` (${detail.code})` : ''}; reconnecting (attempt ${detail?.attempt ?? 1})`);
    },
  });
  process.once('SIGINT', finish);
  feed.start();
  await finished;
  await feed.stop();
  await ctx.store.flush();
  return ExitCode.ok;
}

function humanLine(change: Change): string {
  const data = change.data ?? {};
  const name = typeof data.filename === 'string' ? ` ${data.filename}` : '';
  const status = typeof data.status === 'string' ? ` [${data.status}]` : '';
  return `${change.at}  ${change.type.padEnd(16)} ${change.fileId ?? '-'}${name}${status}`;
}
