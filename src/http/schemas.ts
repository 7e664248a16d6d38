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

/** The CSRF token field every form carries; the app's preValidation hook checks it. */
export const Csrf = { _csrf: Type.Optional(Type.String()) };
export const CsrfOnlyBody = Type.Object(Csrf);

/** A checkbox or an on/off radio. */
export const OnOff = Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')]));
