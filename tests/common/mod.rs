#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod moto;
pub mod timeline;
