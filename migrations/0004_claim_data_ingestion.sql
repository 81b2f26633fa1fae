-- Data Cloud claim-data ingestion needs no new column: sync_jobs has claim_data_status,
-- claim_data_summary and claim_records_sent since version 1 and claim_data_ingestion since
-- version 3. This version only keeps the numbering continuous, because versions run 1, 2,
-- 3, ... without gaps.
SELECT 1;
