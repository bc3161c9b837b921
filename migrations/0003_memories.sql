-- Long-term memories (issue 6): statements worth keeping about a user, each with its
-- sentence embedding (384 little-endian float32, L2-normalised) for semantic recall.
-- touched_at is when the user last told it (created, or refreshed by a near-duplicate);
-- expires_at is NULL for memories that never expire; pinned ones (/remember) are never
-- evicted when the user reaches memory.max_per_user. Ids are shown to users (/memories,
-- /forget_memory), so AUTOINCREMENT: a deleted id is never given to a new memory.

CREATE TABLE memories (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text             TEXT    NOT NULL CHECK (length(text) > 0),
    kind             TEXT    NOT NULL CHECK (kind IN ('explicit', 'fact', 'preference', 'plan')),
    embedding        BLOB    NOT NULL,
    importance       REAL    NOT NULL CHECK (importance BETWEEN 0 AND 1),
    pinned           INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    mentions         INTEGER NOT NULL DEFAULT 1,
    created_at       REAL    NOT NULL,
    touched_at       REAL    NOT NULL,
    last_recalled_at REAL,
    expires_at       REAL
);
CREATE INDEX memories_user ON memories (user_id, id);
CREATE INDEX memories_expiry ON memories (expires_at) WHERE expires_at IS NOT NULL;
