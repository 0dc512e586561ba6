/**
 * What the typed calls (typed-calls.ts) report. That file compiles only against the generated
 * types, so the root type check (which runs before they exist) sees it through this shape.
 */
export interface TypedFlowResult {
  id: string;
  mode: 'single' | 'multipart';
  status: string;
  nextCursor: string | null;
  listed: string[];
  sha256: string | null;
  usedBytes: number;
  problemCode: string;
  changeTypes: string[];
}

export type TypedUploadFlow = (api: string, sync: string, headers: Record<string, string>, bytes: Uint8Array) => Promise<TypedFlowResult>;

/** Loads the typed calls at run time, by a path the root type check does not follow. */
export async function loadTypedUploadFlow(): Promise<TypedUploadFlow> {
  const path = './typed-calls';
  return ((await import(path)) as { typedUploadFlow: TypedUploadFlow }).typedUploadFlow;
}
