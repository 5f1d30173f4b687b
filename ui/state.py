"""Session-state keys, in one place."""


class Keys:
    DATASET_ID = "selected_dataset_id"
    PROFILE_JOB = "profile_job_id"
    UPLOAD_NONCE = "upload_nonce"
    JOB_RERUN_DONE = "job_rerun_done"
    CHAT_CONVERSATION = "chat_conversation_id"
    CHAT_AGENT = "chat_agent"
    CHAT_CHOICE = "chat_choice"  # a button the assistant offered, clicked: run on the next script run
    PAGE_NAME = "page_name"


class DatasetKeys:
    """Session-state keys of the Datasets page."""

    UPLOAD_TMP = "datasets_upload_tmp"
    UPLOAD_CSV_OPTIONS = "datasets-upload-csv-options"  # the options the import preview was last read with
    KAGGLE_FILES = "datasets_kaggle_files"
    DB_PASSWORDS = "datasets_db_passwords"
    DB_TABLES = "datasets_db_tables"
    DB_JOB = "datasets_db_job"
    EXPORT = "datasets_export"
    STEP_PREVIEW = "datasets_step_preview"
    DIFF_VERSIONS = "datasets_diff_versions"  # the version list the diff selectors last defaulted from


class ProjectKeys:
    """Session-state keys of the current-project picker and the Projects and Archive pages."""

    CURRENT = "current_project_id"
    PICKER = "project_picker"
    SCOPE = "project_scope_only"
    OPEN = "projects_open_id"
    APPLY_JOB = "archive_apply_job"
