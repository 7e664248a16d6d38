// Our ids are UUIDs (the database's gen_random_uuid and the nonces in our forms). One pattern, used by
// the route schemas and by code that reads our ids back out of Stripe's metadata.
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const UUID = new RegExp(UUID_PATTERN);

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
