// Emailed single-use links (password reset, email confirmation), in the sessions' design: a token
// is `<id>.<secret>`, 120 random bits each; the row is found by the id and the secret is compared
// as a SHA-256 hash in constant time, so the tokens tables prove nothing to someone who reads them.
// The message carrying the link is the one other copy: the outbox needs the token until the message
// is sent, and replaces it with `[removed]` once it will not be sent again (sent, dead or unknown;
// migrations/20261201_0130_outbox_link_scrub.ts). Until then — normally seconds; at most the
// link's own lifetime when sending keeps failing — a reader of the outbox could use it.
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { randomBytes } from 'node:crypto';

export const PASSWORD_RESET_LIFETIME_MS = 60 * 60 * 1000;
export const EMAIL_CHANGE_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Reset emails one account may be sent per hour (more would let anyone flood its inbox). */
export const RESETS_PER_HOUR = 3;

const PART_LENGTH = 24;

function randomPart(): string {
  return encodeBase32LowerCaseNoPadding(randomBytes(15));
}

export function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export interface NewToken {
  id: string;
  token: string;
  secretHash: Uint8Array;
}

export function newToken(): NewToken {
  const id = randomPart();
  const secret = randomPart();
  return { id, token: `${id}.${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed token; undefined for anything else. */
export function splitToken(token: string): { id: string; secret: string } | undefined {
  const [id, secret, ...rest] = token.split('.');
  if (id === undefined || secret === undefined || rest.length > 0 || id.length !== PART_LENGTH || secret.length !== PART_LENGTH) return undefined;
  return { id, secret };
}

/** Whether a stored token row answers to `secret` and may still be used at `now`. */
export function tokenUsable(row: { secret_hash: Uint8Array; expires_at: Date; used_at: Date | null }, secret: string, now: Date): boolean {
  if (!constantTimeEqual(hashSecret(secret), new Uint8Array(row.secret_hash))) return false;
  return row.used_at === null && now.getTime() < row.expires_at.getTime();
}

/**
 * An address shown only in part ("n…@example.com"), for the notice sent to the OLD address after a
 * change: enough for the owner to recognise their own new address, not a full copy for whoever
 * reads the old mailbox.
 */
export function emailHint(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '…';
  return `${email.slice(0, 1)}…${email.slice(at)}`;
}
