-- Schema v1: consented patients with their sync watermark, the local job history, and the
-- outbox that mirrors job records to Salesforce. Times are UTC ISO-8601 text with
-- milliseconds ('2026-12-04T16:00:00.000Z') so that they sort as text and read well in
-- the sqlite3 shell.

CREATE TABLE patients (
    patient_key          INTEGER PRIMARY KEY,
    sf_patient_id        TEXT    NOT NULL UNIQUE CHECK (length(sf_patient_id) BETWEEN 1 AND 20),
    payer_patient_id     TEXT    NOT NULL CHECK (length(payer_patient_id) BETWEEN 1 AND 64),
    -- The current one-time refresh token. It is replaced in the same transaction that
    -- learns its successor, before the access token that came with it is used.
    refresh_token        TEXT,
    -- Set to 1 while a refresh request is outstanding: if the process dies before the
    -- response is committed, the next refresh knows the stored token may be spent.
    refresh_in_flight    INTEGER NOT NULL DEFAULT 0 CHECK (refresh_in_flight IN (0, 1)),
    consent_state        TEXT    NOT NULL DEFAULT 'active'
                                 CHECK (consent_state IN ('active', 'renewal_required')),
    -- Highest EOB meta.lastUpdated whose writes Health Cloud confirmed; NULL before the
    -- first complete sync.
    watermark            TEXT,
    sync_interval_s      INTEGER NOT NULL DEFAULT 86400 CHECK (sync_interval_s > 0),
    next_sync_at         TEXT    NOT NULL,
    -- NULL follows the configuration key claimData.claimDataIngestion.
    claim_data_ingestion INTEGER CHECK (claim_data_ingestion IN (0, 1)),
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);

CREATE INDEX patients_by_next_sync ON patients (consent_state, next_sync_at);

CREATE TABLE sync_jobs (
    job_id               TEXT    PRIMARY KEY CHECK (length(job_id) BETWEEN 1 AND 50),
    patient_key          INTEGER NOT NULL REFERENCES patients (patient_key) ON DELETE CASCADE,
    sf_patient_id        TEXT    NOT NULL,
    trigger              TEXT    NOT NULL CHECK (trigger IN ('schedule', 'manual', 'api')),
    status               TEXT    NOT NULL DEFAULT 'New'
                                 CHECK (status IN ('New', 'InProgress', 'Completed', 'Failed',
                                                   'PartiallyCompleted')),
    summary              TEXT    NOT NULL DEFAULT '',
    claim_data_status    TEXT    NOT NULL DEFAULT 'New'
                                 CHECK (claim_data_status IN ('New', 'InProgress', 'Completed',
                                                              'Failed', 'PartiallyCompleted')),
    claim_data_summary   TEXT    NOT NULL DEFAULT '',
    start_time           TEXT    NOT NULL,
    end_time             TEXT,
    watermark_before     TEXT,
    watermark_after      TEXT,
    pages_fetched        INTEGER NOT NULL DEFAULT 0,
    eobs_fetched         INTEGER NOT NULL DEFAULT 0,
    resources_written    INTEGER NOT NULL DEFAULT 0,
    resources_failed     INTEGER NOT NULL DEFAULT 0,
    claim_records_sent   INTEGER NOT NULL DEFAULT 0,
    -- A short error class such as 'payer.timeout' or 'consent.renewal_required'; never a
    -- remote error body.
    last_error_class     TEXT,
    mirror_state         TEXT    NOT NULL DEFAULT 'pending'
                                 CHECK (mirror_state IN ('pending', 'mirrored', 'paused')),
    mirrored_at          TEXT
);

CREATE INDEX sync_jobs_by_patient ON sync_jobs (patient_key, start_time);
CREATE INDEX sync_jobs_by_status ON sync_jobs (status);

-- One row per job whose latest state Salesforce has not yet accepted. The mirror loop
-- upserts the job's current row, so a job that changes twice is sent once.
CREATE TABLE mirror_outbox (
    job_id               TEXT    PRIMARY KEY REFERENCES sync_jobs (job_id) ON DELETE CASCADE,
    enqueued_at          TEXT    NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TEXT    NOT NULL,
    last_error_class     TEXT
);

CREATE INDEX mirror_outbox_by_next_attempt ON mirror_outbox (next_attempt_at);

CREATE VIEW due_patients AS
SELECT patient_key, sf_patient_id, payer_patient_id, next_sync_at
FROM patients
WHERE consent_state = 'active'
  AND refresh_token IS NOT NULL
  AND next_sync_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  AND NOT EXISTS (
      SELECT 1 FROM sync_jobs j
      WHERE j.patient_key = patients.patient_key AND j.status IN ('New', 'InProgress')
  );

CREATE VIEW job_history AS
SELECT j.job_id,
       j.patient_key,
       j.sf_patient_id,
       j.trigger,
       j.status,
       j.claim_data_status,
       j.start_time,
       j.end_time,
       CAST(round((julianday(j.end_time) - julianday(j.start_time)) * 86400.0, 3) AS REAL) AS duration_s,
       j.pages_fetched,
       j.eobs_fetched,
       j.resources_written,
       j.resources_failed,
       j.watermark_before,
       j.watermark_after,
       j.last_error_class,
       j.mirror_state,
       j.summary
FROM sync_jobs j
ORDER BY j.start_time DESC;
