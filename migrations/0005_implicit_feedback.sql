-- Implicit feedback (issue 8): replies the strategy bandit chose whose reward is not settled
-- yet. A row is added when the reply is recorded and removed, in the same transaction as the
-- bandit_rewards claim, when the reward is settled: by the user's next message, by the reply
-- window closing (settle_due) or by a press. Replies recorded before this migration have no
-- row: only a press settles them, as before.
CREATE TABLE bandit_open (
    interaction_id INTEGER PRIMARY KEY REFERENCES interactions (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    bandit_key     TEXT    NOT NULL,
    created_at     REAL    NOT NULL    -- the interaction's, copied for the due-time index
);
CREATE INDEX bandit_open_user ON bandit_open (user_id);
CREATE INDEX bandit_open_due ON bandit_open (bandit_key, created_at);
