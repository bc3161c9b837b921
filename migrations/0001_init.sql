-- The foundation: who talks to the bot, what was said, what produced each reply and how
-- the user rated it. Times are Unix seconds (REAL) from the injected clock.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    platform         TEXT    NOT NULL,
    platform_user_id TEXT    NOT NULL,
    display_name     TEXT    NOT NULL DEFAULT '',
    created_at       REAL    NOT NULL,
    last_seen_at     REAL    NOT NULL,
    UNIQUE (platform, platform_user_id)
);
CREATE INDEX users_last_seen ON users (last_seen_at);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id             TEXT    NOT NULL,
    platform_message_id TEXT    NOT NULL DEFAULT '',
    role                TEXT    NOT NULL CHECK (role IN ('user', 'bot')),
    text                TEXT    NOT NULL,
    created_at          REAL    NOT NULL
);
CREATE INDEX messages_user_time ON messages (user_id, created_at);

CREATE TABLE insights (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id  INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    trait       TEXT    NOT NULL,
    delta       REAL    NOT NULL,
    source      TEXT    NOT NULL,
    created_at  REAL    NOT NULL
);
CREATE INDEX insights_user_time ON insights (user_id, created_at);
CREATE INDEX insights_time ON insights (created_at);

CREATE TABLE interactions (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    reply_message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    chat_id          TEXT    NOT NULL,
    persona          TEXT    NOT NULL,
    strategy         TEXT    NOT NULL,
    variant          TEXT,
    experiment_id    TEXT,
    arm              INTEGER,
    propensity       REAL,
    provider         TEXT    NOT NULL,
    latency_ms       REAL    NOT NULL,
    prompt_tokens    INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    traits           TEXT    NOT NULL,
    signals          TEXT    NOT NULL,
    explanation      TEXT    NOT NULL DEFAULT '{}',
    created_at       REAL    NOT NULL
);
CREATE INDEX interactions_user_time ON interactions (user_id, created_at);
CREATE INDEX interactions_experiment ON interactions (experiment_id, variant) WHERE experiment_id IS NOT NULL;

CREATE TABLE feedback (
    id             INTEGER PRIMARY KEY,
    interaction_id INTEGER NOT NULL UNIQUE REFERENCES interactions (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    value          TEXT    NOT NULL CHECK (value IN ('up', 'down')),
    reward         REAL    NOT NULL,
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL
);
CREATE INDEX feedback_user ON feedback (user_id);

-- Small key/value state that must survive restarts (provider scores, bandit checkpoints).
CREATE TABLE state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL
);
