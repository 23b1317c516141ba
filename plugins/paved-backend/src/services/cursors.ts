/**
 * Page cursors: opaque to callers, the key of the last item of a page
 * inside. One encoding for every paged list (apps, events), and one answer
 * for a cursor no page gave.
 */
import { InputError } from '@backstage/errors';

/** A cursor no answer gave: 400, saying what to pass instead. */
export function badCursor(): InputError {
  return new InputError(
    'Invalid query: cursor must be the nextCursor of a previous answer, passed back unchanged',
  );
}

/** The cursor of a page whose last item has these key parts. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The `count` key parts of a cursor {@link encodeCursor} made; else 400. */
export function decodeCursor(cursor: string, count: number): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== count ||
    !parts.every(part => typeof part === 'string' && part.length > 0)
  ) {
    throw badCursor();
  }
  return parts as string[];
}
