/**
 * Schema version 2: the client's `ref` of a send, so a send repeated after a lost ack is recognised
 * (a send is idempotent per conversation, sender and ref). Old rows have NULL, which the index skips.
 */
export const sql = `
ALTER TABLE messages ADD COLUMN client_ref TEXT;
CREATE UNIQUE INDEX messages_by_client_ref ON messages(conv_id, sender_id, client_ref) WHERE client_ref IS NOT NULL;
`;
