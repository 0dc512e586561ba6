/**
 * A URL as logs and spans may show it: any `access_token` query value (user tokens, push secrets)
 * and the user token Uppy 6 carries in `/companion/t/{userToken}/...` (docs/adr/0022) hidden.
 * Nest-free, so the tracing setup (which runs before Nest is loaded) shares it with the logger.
 */
export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]access_token=)[^&]*/g, '$1[redacted]').replace(/(\/companion\/t\/)[^/?#]*/g, '$1[redacted]');
}

/**
 * An outgoing request's URL with every query value hidden: a tenant's webhook URL may carry its
 * receiver's secret there, and nothing tells which parameter it is.
 */
export function hideQueryValues(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const end = url.indexOf('#', at);
  const query = url.slice(at + 1, end < 0 ? undefined : end);
  const hidden = query
    .split('&')
    .map((pair) => (pair.includes('=') && !pair.endsWith('=') ? `${pair.slice(0, pair.indexOf('='))}=[redacted]` : pair))
    .join('&');
  return `${url.slice(0, at)}?${hidden}`;
}
