// Schema pieces every area uses. Built with the TypeBox that the Fastify type provider reads, so a
// route's `request.params`, `query` and `body` are typed from its schema with no casts. A choice
// among known values is `Type.Enum(values)` (a union built from a mapped array would type as never).
import { Type } from '@fastify/type-provider-typebox';
import { UUID_PATTERN } from '../ids.ts';

export { Type };

export const Uuid = Type.String({ pattern: UUID_PATTERN });
/** A UUID, or empty (a "no filter" choice in a GET form). */
export const UuidOrEmpty = Type.String({ pattern: `^(|${UUID_PATTERN.slice(1, -1)})$` });
export const IdParams = Type.Object({ id: Uuid });

/** A checkbox or an on/off radio. */
export const OnOff = Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')]));

// ---- Free text: no control characters, in any schema ----
// PostgreSQL refuses U+0000 in text (a 500 after Stripe may already have been told), and the other
// controls (Unicode Cc: U+0001–U+001F, U+007F–U+009F) have no business in a name, title or note.
// Every free-text field is built with `Text` or `MultilineText`, so a bad character is a 400 that
// names the field before any use case runs; test/http/control-characters.test.ts walks every
// route's schemas and fails on a string that would let one through.
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f';
/** The controls minus tab, line feed and carriage return, which multi-line text keeps. */
const CONTROLS_BUT_LINES = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f';

/** One line of text: no control characters at all (a tab included). */
export const SINGLE_LINE_PATTERN = `^[^${CONTROLS}]*$`;
/** Text that may span lines: tabs and line breaks, no other control character. */
export const MULTILINE_PATTERN = `^[^${CONTROLS_BUT_LINES}]*$`;

const CONTROLS_MESSAGE = 'must not contain control characters (such as U+0000)';
const PATTERN_MESSAGES: ReadonlyMap<string, string> = new Map([
  [SINGLE_LINE_PATTERN, CONTROLS_MESSAGE],
  [MULTILINE_PATTERN, CONTROLS_MESSAGE],
]);

/** What a failed `Text`/`MultilineText` pattern means, in words ("must not contain…"); undefined for other errors. */
export function textPatternMessage(error: { keyword: string; params?: unknown }): string | undefined {
  if (error.keyword !== 'pattern') return undefined;
  const pattern = (error.params as { pattern?: unknown } | undefined)?.pattern;
  return typeof pattern === 'string' ? PATTERN_MESSAGES.get(pattern) : undefined;
}

/**
 * A single-line text field; `notBlank` also requires a non-space character, as a second pattern of
 * its own, so a blank field gets the field's usual message and a control character this one.
 */
export function Text(options: { maxLength: number; minLength?: number; notBlank?: boolean }) {
  const { notBlank, ...lengths } = options;
  return Type.String({ ...lengths, pattern: SINGLE_LINE_PATTERN, ...(notBlank === true ? { allOf: [{ pattern: '\\S' }] } : {}) });
}

/** A multi-line text field (a textarea). */
export function MultilineText(options: { maxLength: number; minLength?: number }) {
  return Type.String({ ...options, pattern: MULTILINE_PATTERN });
}

/** The CSRF token field every form carries; the app's preValidation hook checks it. */
export const Csrf = { _csrf: Type.Optional(Text({ maxLength: 400 })) };
export const CsrfOnlyBody = Type.Object(Csrf);
