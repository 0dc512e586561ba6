// Who the page acts for: a user token. An admin signing in with a tenant API key and an owner id
// gets a user token minted for that owner (POST /v1/tokens) and the key itself is dropped: the
// sync WebSocket cannot carry X-Owner-Id, and a key that acts for every owner should not sit in
// a page. Kept in sessionStorage only (gone with the tab), and only ever sent in the
// Authorization header (and as the sync WebSocket's access_token, which cannot carry headers).

export interface Session {
  token: string;
  ownerId: string;
}

const KEY = 'upload-platform-session';

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Session;
    return typeof value.token === 'string' && value.token && typeof value.ownerId === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export function authHeaders(session: Session): Record<string, string> {
  return { authorization: `Bearer ${session.token}` };
}

/** Signs in: checks a user token, or mints one from an API key for an owner. */
export async function signIn(baseUrl: string, credentials: { token: string } | { apiKey: string; ownerId: string }): Promise<Session> {
  let token: string;
  if ('apiKey' in credentials) {
    const minted = await fetch(`${baseUrl}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ownerId: credentials.ownerId }),
    });
    if (!minted.ok) throw new Error(minted.status === 401 ? 'The API key was not accepted.' : `Could not sign in (${minted.status}).`);
    token = ((await minted.json()) as { token: string }).token;
  } else {
    token = credentials.token;
  }
  const usage = await fetch(`${baseUrl}/v1/usage`, { headers: { authorization: `Bearer ${token}` } });
  if (!usage.ok) throw new Error(usage.status === 401 ? 'The token was not accepted (expired or mistyped?).' : `Could not sign in (${usage.status}).`);
  const { owner } = (await usage.json()) as { owner: { ownerId: string } };
  return { token, ownerId: owner.ownerId };
}
