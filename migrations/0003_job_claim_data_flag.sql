-- Whether a job was asked to send claim records to Data Cloud: the trigger request's
-- claimDataIngestion flag, else the patient's setting, else the configuration key.

ALTER TABLE sync_jobs ADD COLUMN claim_data_ingestion INTEGER NOT NULL DEFAULT 0
    CHECK (claim_data_ingestion IN (0, 1));
