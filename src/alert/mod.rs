//! Alerts with Elastic's field names, deterministic ids, and their renderings.
//!
//! An [`Alert`] is built from a rule and the event it matched ([`Alert::new`]); its id derives
//! from (rule_id, eventID), so a retried object republishes the same ids. Secrets in request
//! parameters are redacted when the alert is built, so no rendering can leak them.
//! (Exceptions, which drop known activity, are applied by [`crate::detect`].)
//! and [`sns_message`] renders one publish for every subscriber: the alert JSON (`default`, SQS,
//! Lambda), email text ([`subject`], [`body`]) and an AWS Chatbot notification ([`chatbot`]),
//! within SNS's 256 KiB. [`mark_self_target`] flags alerts whose call targets trailwatch's own
//! function, topic, trail or trail bucket ([`SelfNames`]).

mod chars;
mod context;
mod date;
mod fields;
mod flood;
mod links;
mod model;
mod redact;
mod render;
mod self_target;
mod text;

pub use date::{Date, DateError};
pub use flood::{FloodControl, Policy, DEFAULT_PER_RULE_LIMIT};
pub use model::{key, uuid_v5, Alert};
pub use redact::{is_secret_name, REDACTED};
pub use render::chatbot::{chatbot, thread_id};
pub use render::json::{json, json_pretty};
pub use render::markdown::to_plain_text as markdown_to_text;
pub use render::sns::{sns_message, SnsMessage, ATTRIBUTE_TYPE, SNS_MAX_BYTES};
pub use render::text::{body, subject, SUBJECT_MAX_CHARS};
pub use self_target::{mark_self_target, SelfNames, SELF_RESOURCE, TARGETS_SELF};
