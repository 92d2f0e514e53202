//! The alert as people and machines read it: the email (SNS `default`/`email`), Slack through
//! AWS Chatbot, JSON, and the message SNS publishes with all of them.
pub(super) mod chatbot;
pub(super) mod json;
pub(super) mod markdown;
pub(super) mod sns;
pub(super) mod text;
