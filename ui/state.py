"""Session-state keys, in one place."""


class Keys:
    DATASET_ID = "selected_dataset_id"
    PROFILE_JOB = "profile_job_id"
    UPLOAD_NONCE = "upload_nonce"
    JOB_RERUN_DONE = "job_rerun_done"
    CHAT_CONVERSATION = "chat_conversation_id"
    CHAT_AGENT = "chat_agent"
    PAGE_NAME = "page_name"
