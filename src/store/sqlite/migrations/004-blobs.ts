/**
 * Schema version 4: attachment rows. No file name, type or dimensions: only an id, the
 * conversation, the uploader, the ciphertext size and the message that carries it. The composite
 * foreign key on (conv_id, msg_seq) deletes the row with its message (NULL msg_seq: not attached).
 */
export const sql = `
CREATE TABLE blobs (
  id TEXT PRIMARY KEY,
  conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  uploader_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- Ciphertext bytes, declared when the upload is created; counted against the uploader's quota.
  size INTEGER NOT NULL CHECK (size > 0),
  state TEXT NOT NULL CHECK (state IN ('uploading', 'stored')),
  created_at INTEGER NOT NULL,
  stored_at INTEGER,
  -- The send that claimed it: the message (conv_id, sender_id = uploader_id, client_ref = msg_ref).
  msg_ref TEXT,
  claimed_at INTEGER,
  msg_seq INTEGER,
  FOREIGN KEY (conv_id, msg_seq) REFERENCES messages(conv_id, seq) ON DELETE CASCADE,
  CHECK (msg_seq IS NULL OR msg_ref IS NOT NULL)
);
CREATE INDEX blobs_by_uploader ON blobs(uploader_id);
-- The foreign key's child lookup when a message is deleted.
CREATE INDEX blobs_by_message ON blobs(conv_id, msg_seq);
-- The sweep of unattached rows by age.
CREATE INDEX blobs_unattached ON blobs(created_at) WHERE msg_seq IS NULL;
`;
