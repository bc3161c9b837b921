-- Learning from feedback (issue 8): rewards applied to the strategy bandit, and A/B
-- experiments on persona variants. Bandit state itself lives in `state` (JSON, key
-- "bandit:<scope>"), checkpointed every few updates.

-- One row per interaction whose reward reached a bandit: the primary key makes the update
-- happen at most once however often the button is pressed or the event replayed. in_state
-- is set in the same transaction as the checkpoint that includes the update, so after a
-- crash the rows still at 0 are replayed once into the restored state: exactly once.
CREATE TABLE bandit_rewards (
    interaction_id INTEGER PRIMARY KEY REFERENCES interactions (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bandit_key     TEXT    NOT NULL,
    arm            INTEGER NOT NULL CHECK (arm >= 0),
    reward         REAL    NOT NULL CHECK (reward BETWEEN 0 AND 1),
    context        TEXT    NOT NULL,    -- JSON list: the context the arm was chosen with
    in_state       INTEGER NOT NULL DEFAULT 0 CHECK (in_state IN (0, 1)),
    applied_at     REAL    NOT NULL
);
CREATE INDEX bandit_rewards_pending ON bandit_rewards (bandit_key) WHERE in_state = 0;
CREATE INDEX bandit_rewards_user ON bandit_rewards (user_id);

-- definition is Experiment.to_json() (the salt included, so assignment never changes).
-- Life cycle: draft -> running -> stopped; a stopped experiment is never restarted.
CREATE TABLE experiments (
    id         TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped')),
    created_at REAL NOT NULL,
    started_at REAL,
    stopped_at REAL
);
-- At most one experiment runs at a time: every user is in at most one, so effects never mix.
CREATE UNIQUE INDEX experiments_one_running ON experiments (status) WHERE status = 'running';

