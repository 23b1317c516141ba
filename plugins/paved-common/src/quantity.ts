/**
 * Kubernetes resource quantities, restricted to the forms a user should
 * write: CPU as cores (`0.5`, `2`) or millicores (`500m`); memory with a
 * binary (`Ki`, `Mi`, `Gi`, `Ti`) or decimal (`k`, `M`, `G`, `T`) suffix.
 */

const CPU_PATTERN = /^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$/;
const MEMORY_PATTERN = /^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

export const CPU_QUANTITY_PATTERN = CPU_PATTERN.source;
export const MEMORY_QUANTITY_PATTERN = MEMORY_PATTERN.source;

const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Millicores of a CPU quantity, or undefined if it is not one. */
export function parseCpuMillis(quantity: string): number | undefined {
  if (!CPU_PATTERN.test(quantity)) {
    return undefined;
  }
  if (quantity.endsWith('m')) {
    return Number(quantity.slice(0, -1));
  }
  return Math.round(Number(quantity) * 1000);
}

/** Bytes of a memory quantity, or undefined if it is not one. */
export function parseMemoryBytes(quantity: string): number | undefined {
  const match = MEMORY_PATTERN.exec(quantity);
  if (!match) {
    return undefined;
  }
  const suffix = match[1] ?? '';
  const digits = quantity.slice(0, quantity.length - suffix.length);
  return Number(digits) * MEMORY_FACTORS[suffix];
}

/** Formats millicores the way Kubernetes prints them (`500m`, `2`). */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Formats bytes with the largest binary suffix that divides them. */
export function formatMemoryBytes(bytes: number): string {
  for (const suffix of ['Ti', 'Gi', 'Mi', 'Ki']) {
    const factor = MEMORY_FACTORS[suffix];
    if (bytes >= factor && bytes % factor === 0) {
      return `${bytes / factor}${suffix}`;
    }
  }
  return String(bytes);
}
