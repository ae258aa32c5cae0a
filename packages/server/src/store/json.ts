/** JSON columns are stored as text in both databases; these keep the (de)serialisation in one place. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text == null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export const toBool = (v: boolean | null | undefined): number => (v ? 1 : 0);
export const fromBool = (v: number | boolean | null | undefined): boolean => v === true || v === 1;
