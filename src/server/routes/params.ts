/** Path-parameter schemas shared by the routes. */
import { Type, type Static } from '@sinclair/typebox';
import { Id } from '../../shared/protocol.ts';

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;
export const BanParams = Type.Object({ id: Id, userId: Id }, { additionalProperties: false });
export type BanParams = Static<typeof BanParams>;
/** Invite tokens are base64url (43 chars); anything else is simply not a usable invite. */
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
export type TokenParams = Static<typeof TokenParams>;
