-- Per-user profiles, the bot's adaptation state per user, and the record of background jobs.
-- One row per (user, trait) so the daily job is a single set-based statement over all users.

-- The daily job sums insights per (user, trait) straight off this covering index.
CREATE INDEX insights_user_trait ON insights (user_id, trait, created_at, delta);

CREATE TABLE profiles (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,        -- short-term state (JSON): sentiment trend, emotion...
    messages   INTEGER NOT NULL DEFAULT 0,
    updated_at REAL    NOT NULL
);

CREATE TABLE profile_traits (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    trait      TEXT    NOT NULL,
    value      REAL    NOT NULL,        -- posterior mean in [0, 1]
    evidence   REAL    NOT NULL DEFAULT 0,
    updated_at REAL    NOT NULL,
    PRIMARY KEY (user_id, trait)
) WITHOUT ROWID;

CREATE TABLE persona_state (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    traits            TEXT,             -- JSON: the bot traits used for the last reply
    day               INTEGER,          -- UTC day number of the per-day step-limit anchor
    day_start         TEXT,             -- JSON: the traits at the start of that day
    strategy_override TEXT    NOT NULL DEFAULT 'auto',
    persona_override  TEXT,
    locked            INTEGER NOT NULL DEFAULT 0,
    updated_at        REAL    NOT NULL
);

CREATE TABLE system_tasks (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    started_at      REAL    NOT NULL,
    finished_at     REAL,
    users_processed INTEGER NOT NULL DEFAULT 0,
    succeeded       INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL
        CHECK (status IN ('running', 'completed', 'completed_with_errors', 'failed')),
    detail          TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX system_tasks_name_time ON system_tasks (name, started_at);

-- What a daily run changed, per user and trait.
CREATE TABLE profile_changes (
    task_id   INTEGER NOT NULL REFERENCES system_tasks (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    trait     TEXT    NOT NULL,
    old_value REAL    NOT NULL,
    new_value REAL    NOT NULL,
    PRIMARY KEY (task_id, user_id, trait)
) WITHOUT ROWID;
CREATE INDEX profile_changes_user ON profile_changes (user_id);

-- Users a run skipped because their data could not be used.
CREATE TABLE system_task_errors (
    task_id INTEGER NOT NULL REFERENCES system_tasks (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason  TEXT    NOT NULL,
    PRIMARY KEY (task_id, user_id)
) WITHOUT ROWID;
CREATE INDEX system_task_errors_user ON system_task_errors (user_id);
