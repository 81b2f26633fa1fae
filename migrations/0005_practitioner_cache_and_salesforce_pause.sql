-- Health Cloud Practitioner ids learned by NPI, so that a job references a known
-- Practitioner instead of sending a conditional create for it again.
CREATE TABLE practitioner_ids (
    npi                  TEXT    PRIMARY KEY CHECK (length(npi) BETWEEN 1 AND 64),
    practitioner_id      TEXT    NOT NULL CHECK (length(practitioner_id) BETWEEN 1 AND 64),
    updated_at           TEXT    NOT NULL
);

-- At most one row: Salesforce writes (bundles and the job mirror) wait until paused_until
-- because the org answered REQUEST_LIMIT_EXCEEDED. reason is an error class, never a body.
CREATE TABLE salesforce_pause (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    paused_until         TEXT    NOT NULL,
    reason               TEXT    NOT NULL,
    paused_at            TEXT    NOT NULL
);
