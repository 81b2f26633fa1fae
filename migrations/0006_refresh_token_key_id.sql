-- Refresh tokens encrypted at rest. refresh_token then contains base64(nonce || ciphertext ||
-- tag) from AES-256-GCM, and refresh_token_key_id the id of the key that sealed it (the first
-- 8 bytes of the key's SHA-256, in hex). NULL means the token is stored in plaintext, as rows
-- written before this migration or without tokens.keyFile are; bbsync encrypts those rows at
-- start-up once a key is configured.

ALTER TABLE patients ADD COLUMN refresh_token_key_id TEXT
    CHECK (refresh_token_key_id IS NULL OR length(refresh_token_key_id) = 16);
