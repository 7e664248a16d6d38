// Display names are shown to other people (a seller's name on every listing, a buyer's on an
// order), so they must not be able to pass for someone else:
//   - invisible and direction-changing characters are refused ("\u202eAdmin\u200b" renders as
//     "Admin" reversed or padded: Unicode format characters, controls, private-use and unassigned
//     code points, line separators, fillers and variation selectors);
//   - a word may not mix Latin with Cyrillic or Greek letters (the "Аpple" with a Cyrillic А);
//   - seller names are unique by a key that ignores case, accents, compatibility forms (fullwidth,
//     ligatures), spacing and punctuation, so "Acme Shop", "ACME-shop" and "Ａｃｍｅ Shöp" are one
//     name; a few names that would pass for the platform itself are reserved for sellers.
// Names are stored as typed, only NFC-normalised and with spaces tidied.

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Variation_Selector}\u115f\u1160\u3164\uffa0\u2800]/u;
const CONFUSABLE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];

/** Names no seller may take: they would read as the platform speaking. */
const RESERVED_SELLER_KEYS = new Set(['admin', 'administrator', 'marketplace', 'moderator', 'official', 'security', 'staff', 'stripe', 'support', 'system']);

/** What is stored: NFC, any run of spaces (of whatever kind) one plain space, trimmed. */
export function tidyDisplayName(name: string): string {
  return name
    .normalize('NFC')
    .replace(/\p{Zs}+/gu, ' ')
    .trim();
}

/** The key seller names are unique by: letters and digits only, compatibility-folded, accents and case dropped. */
export function displayNameKey(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Emoji keep the joiners and presentation selectors they are made of ("❤️", "👩‍🍳"); nothing else may use them. */
function withoutEmojiJoiners(name: string): string {
  return name.replace(/(?<=\p{Extended_Pictographic})[\ufe0e\ufe0f]/gu, '').replace(/(?<=\p{Extended_Pictographic})\u200d(?=\p{Extended_Pictographic})/gu, '');
}

/** Why this name cannot be used, or null. `name` as typed. */
export function displayNameProblem(name: string, role: string): string | null {
  if (INVISIBLE.test(withoutEmojiJoiners(name))) return 'Names cannot contain invisible or text-direction characters';
  const tidy = tidyDisplayName(name);
  for (const word of tidy.split(' ')) {
    if (CONFUSABLE_SCRIPTS.filter((script) => script.test(word)).length > 1) {
      return 'A word in a name cannot mix alphabets (such as Latin and Cyrillic letters that look alike)';
    }
  }
  const key = displayNameKey(tidy);
  if (key === '') return 'Use at least one letter or digit in your name';
  if (role === 'seller' && RESERVED_SELLER_KEYS.has(key)) return 'That name is reserved; choose your own shop or trading name';
  return null;
}
