/**
 * Whether a content type is allowed by a tenant's patterns (`type/subtype`, `type/*`, `*\/*`).
 * No patterns means every type is allowed. Parameters (`; charset=...`) are ignored.
 */
export function typeAllowed(contentType: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  const [type = '', subtype = ''] = contentType.split(';')[0].trim().toLowerCase().split('/');
  return patterns.some((pattern) => {
    const [pt, ps] = pattern.toLowerCase().split('/');
    return (pt === '*' || pt === type) && (ps === '*' || ps === subtype);
  });
}
