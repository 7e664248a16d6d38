// Refuses passwords that are easy to guess, by estimate rather than by rules about character
// classes: zxcvbn-ts (a maintained TypeScript port of Dropbox's zxcvbn) knows the common-password
// lists, English words and names, keyboard walks, repeats, sequences, dates and l33t spellings, and
// estimates how many guesses a password would take. "aaaaaaaaaa", ten spaces, "1234567890" and the
// account's own email all score 0; we ask for 3 ("safely unguessable": about 10^8 guesses and up),
// which a short phrase of uncommon words reaches.
//
// The dictionaries are imported on first use, not with this module: they take about 50 MB of
// memory, which a web process that never sees a password change would carry for nothing.
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

export const MIN_PASSWORD_SCORE = 3;
/**
 * zxcvbn's work grows quickly with length (a 256-character password takes ~0.3 s of CPU); the start
 * of a password is enough to judge it, and a long password whose first 64 characters are weak is
 * weak.
 */
const ANALYSED_LENGTH = 64;
/** Words every password here should avoid, beside the person's own email and name. */
const SITE_WORDS = ['marketplace', 'market', 'stripe', 'seller', 'buyer', 'admin'];

let estimator: Promise<ZxcvbnFactory> | undefined;
function estimatorInstance(): Promise<ZxcvbnFactory> {
  // Built on first use: loading the dictionaries takes about half a second.
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, english] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...english.dictionary },
      graphs: common.adjacencyGraphs,
      translations: english.translations,
    });
  })();
  // A failed import (a broken install) is not remembered: the next check tries again.
  estimator.catch(() => {
    estimator = undefined;
  });
  return estimator;
}

/** Why `password` is too easy to guess for this person, or null if it is strong enough. */
export async function passwordWeakness(password: string, person: { email: string; displayName: string }): Promise<string | null> {
  const email = person.email.trim().toLowerCase();
  const personal = [email, email.split('@')[0] ?? '', ...person.displayName.toLowerCase().split(/\s+/), ...SITE_WORDS].filter((word) => word.length > 0);
  const result = (await estimatorInstance()).check(password.slice(0, ANALYSED_LENGTH), personal);
  if (result.score >= MIN_PASSWORD_SCORE) return null;
  const why = result.feedback.warning ?? 'It would be guessed quickly.';
  const advice = result.feedback.suggestions.length > 0 ? result.feedback.suggestions.join(' ') : 'Add another word or two; uncommon words are best.';
  return `This password is too easy to guess. ${why} ${advice}`;
}
