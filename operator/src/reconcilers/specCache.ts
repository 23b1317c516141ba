/**
 * Parsing a spec with zod is the costliest step of a no-op reconcile, and a
 * spec only changes with its generation: parse once per uid and generation.
 */
import { z } from 'zod';

export class SpecCache<S extends z.ZodTypeAny> {
  private readonly parsed = new Map<
    string,
    z.ZodSafeParseResult<z.output<S>>
  >();

  constructor(
    private readonly schema: S,
    private readonly maxEntries = 20_000,
  ) {}

  parse(object: {
    metadata: { uid?: string; generation?: number };
    spec?: unknown;
  }): z.ZodSafeParseResult<z.output<S>> {
    const { uid, generation } = object.metadata;
    if (!uid || generation === undefined)
      return this.schema.safeParse(object.spec);
    const key = `${uid}/${generation}`;
    let result = this.parsed.get(key);
    if (!result) {
      if (this.parsed.size >= this.maxEntries) this.parsed.clear();
      result = this.schema.safeParse(object.spec);
      this.parsed.set(key, result);
    }
    return result;
  }
}
