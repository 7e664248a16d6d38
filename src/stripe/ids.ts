/** The id of a Stripe field that holds either an id or the expanded object. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  return value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;
}
