-- job_history shows each job on one line in the sqlite3 shell: the summary's line breaks
-- (one line per resource type in Salesforce) become "; ".

DROP VIEW job_history;

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
       replace(replace(j.summary, char(13), ''), char(10), '; ') AS summary
FROM sync_jobs j
ORDER BY j.start_time DESC;
